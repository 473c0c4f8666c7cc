"""The signed-in pages through HTTP (aiohttp's test client, the real app, both databases):
"My development" shows a person's own data and changes it through the chat's own storage
functions; "My team" shows a manager only what direct reports shared, audited; anything else
is refused (and a look at someone else's page audited)."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.engine.content import Content, load_content
from dialogs.nudges.manager_view import preview
from storage.models import (
    Answer,
    AuditEntry,
    CheckIn,
    Experiment,
    OneTimeLink,
    Person,
    PlanItem,
    ProfileEntry,
    Visibility,
)
from storage.privacy import shared_with_manager
from storage.refusals import REFUSED_READ
from tests.web.web_client import Clock, add_person, sign_in, web_client, web_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class World:
    mia: Person
    """The manager of Ann and Bob."""
    ann: Person
    bob: Person
    eve: Person
    """Someone in another team (her manager is Olaf)."""
    olaf: Person
    experiment_id: int
    answer_id: int
    plan_id: int


def make_world(engine: Engine, clock: Clock) -> World:
    """Mia manages Ann (Dutch) and Bob; Eve is in Olaf's team. Ann has one of each item,
    the done experiment shared and the rest private; Eve shared an experiment with Olaf."""
    now = clock.now
    mia = add_person(engine, email="mia@example.com", name="Mia Manager")
    olaf = add_person(engine, email="olaf@example.com", name="Olaf Other")
    ann = add_person(
        engine, email="ann@example.com", name="Ann de Vries", language="nl", manager_id=mia.id
    )
    bob = add_person(engine, email="bob@example.com", name="Bob Baker", manager_id=mia.id)
    eve = add_person(engine, email="eve@example.com", name="Eve Evans", manager_id=olaf.id)
    with Session(engine) as db:
        experiment = Experiment(
            person_id=ann.id,
            title="Shadow a designer",
            status="done",
            learned="Ask early",
            created_at=now - timedelta(days=20),
            updated_at=now - timedelta(days=2),
            done_at=now - timedelta(days=2),
            visibility=Visibility.MANAGER,
        )
        answer = Answer(
            person_id=ann.id,
            dialog_id="reflection",
            question_id="energy-source",
            text="Pairing <b>with</b> Bob",
            created_at=now - timedelta(days=10),
        )
        plan = PlanItem(
            person_id=ann.id, kind="personal", title="Learn SQL", created_at=now - timedelta(days=9)
        )
        db.add_all([experiment, answer, plan])
        db.add(ProfileEntry(person_id=ann.id, kind="skill", text="Facilitating", created_at=now))
        for n, energy in enumerate((2, 4, 3)):
            db.add(
                CheckIn(
                    person_id=ann.id,
                    energy=energy,
                    next_step=f"step {n}",
                    created_at=now - timedelta(days=21 - 7 * n),
                )
            )
        db.add(
            Experiment(
                person_id=eve.id,
                title="Eve's secret project",
                visibility=Visibility.MANAGER,
                created_at=now - timedelta(days=3),
                updated_at=now - timedelta(days=3),
            )
        )
        db.commit()
        assert experiment.id and answer.id and plan.id
        return World(mia, ann, bob, eve, olaf, experiment.id, answer.id, plan.id)


def run(
    scenario: Callable[[TestClient[Any, Any], Clock, World], Awaitable[None]],
    engine: Engine,
    **settings: Any,
) -> None:
    async def main() -> None:
        async with web_client(engine, settings=web_settings(**settings)) as (client, clock):
            await scenario(client, clock, make_world(engine, clock))

    asyncio.run(main())


async def page(client: TestClient[Any, Any], path: str = "/app/") -> tuple[int, str]:
    response = await client.get(path, allow_redirects=False)
    return response.status, await response.text()


async def post(
    client: TestClient[Any, Any], path: str, data: dict[str, str], *, token: bool = True
) -> tuple[int, str, str]:
    """A form posted as the browser does (with the page's CSRF token unless ``token=False``);
    the status, the body and where it redirects."""
    if token:
        _, text = await page(client)
        data = {"csrf_token": CSRF.findall(text)[0], **data}
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status, await response.text(), response.headers.get("Location", "")


def text_of(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def stored(engine: Engine, model: Any, item_id: int) -> Any:
    with Session(engine) as db:
        return db.get(model, item_id)


def audit(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as db:
        return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)))  # type: ignore[arg-type]


# -- My development ---------------------------------------------------------------------------


def test_my_development_shows_all_of_a_persons_own_data_in_their_language(engine: Engine) -> None:
    content = load_content()

    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        status, markup = await page(client)
        assert status == 200
        seen = text_of(markup)
        assert '<html lang="nl">' in markup
        assert "Mijn ontwikkeling" in seen
        assert "Experimenten gedaan in 2026: 1/3" in seen
        for text in ("Facilitating", "Learn SQL", "Shadow a designer", "Ask early", "step 2"):
            assert text in seen
        # A person's text is escaped, never markup.
        assert "Pairing &lt;b&gt;with&lt;/b&gt; Bob" in markup
        # Each item carries its visibility and the switch to change it.
        assert f'action="/app/items/experiment/{w.experiment_id}/visibility"' in markup
        assert re.search(rf'id="answer-{w.answer_id}".*?Privé.*?value="manager"', markup, re.DOTALL)
        # The energy chart: an accessible SVG and the same figures as a table.
        assert '<svg class="chart" id="energy-chart" role="img"' in markup
        assert "Je energie door de tijd" in markup
        assert markup.count('class="chart-point"') == 3
        # "What my manager sees" is the chat's own renderer, word for word.
        with Session(engine) as db:
            ann = db.get(Person, w.ann.id)
            mia = db.get(Person, w.mia.id)
            assert ann is not None and mia is not None
            expected = preview(content, "nl", ann, shared_with_manager(db, ann), manager=mia)
        assert html.escape(expected, quote=True) in markup
        # Nobody else's data is on the page.
        assert "Eve" not in seen and "Bob Baker" not in seen

    run(scenario, engine)


def test_sharing_an_item_on_the_web_shows_it_to_the_manager_and_audits_the_read(
    engine: Engine,
) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        status, _, location = await post(
            client, f"/app/items/plan_item/{w.plan_id}/visibility", {"visibility": "manager"}
        )
        assert status == 303 and location.startswith("/app/?done=manager")
        assert stored(engine, PlanItem, w.plan_id).visibility == Visibility.MANAGER
        _, markup = await page(client, location)
        assert "Gedeeld. Je leidinggevende kan het nu zien." in text_of(markup)

        await sign_in(client, engine, w.mia, clock)
        status, markup = await page(client, "/app/team")
        assert status == 200
        seen = text_of(markup)
        assert "Learn SQL" in seen and "Shadow a designer" in seen
        assert "Pairing" not in seen  # Ann's reflection stays private
        assert "Eve's secret project" not in seen  # not Mia's report
        assert "Bob Baker hasn't shared anything new since then." in seen
        reads = [e for e in audit(engine) if e.action == "manager_read"]
        assert [(e.actor_id, e.subject_id) for e in reads] == [(w.mia.id, w.ann.id)]

        # Ann sees the read under "who has seen my data", and makes it private again.
        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        assert re.search(r'id="seen".*Mia Manager', markup, re.DOTALL)
        status, _, _ = await post(
            client, f"/app/items/plan_item/{w.plan_id}/visibility", {"visibility": "private"}
        )
        assert status == 303
        await sign_in(client, engine, w.mia, clock)
        assert "Learn SQL" not in text_of((await page(client, "/app/team"))[1])

    run(scenario, engine)


def test_a_form_without_the_csrf_token_changes_nothing(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        for data in ({}, {"csrf_token": "forged"}):
            response = await client.post(
                f"/app/items/answer/{w.answer_id}/visibility",
                data={"visibility": "manager", **data},
                allow_redirects=False,
            )
            assert response.status == 403
        assert stored(engine, Answer, w.answer_id).visibility == Visibility.PRIVATE
        status, _, _ = await post(client, "/app/delete", {"confirm": "verwijderen"}, token=False)
        assert status == 403
        assert stored(engine, Person, w.ann.id) is not None

    run(scenario, engine)


def test_nobody_can_switch_someone_elses_item(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.bob, clock)
        status, _, _ = await post(
            client, f"/app/items/answer/{w.answer_id}/visibility", {"visibility": "manager"}
        )
        assert status == 404
        status, _, _ = await post(
            client, f"/app/items/experiment/{w.experiment_id}/lesson", {"private": "yes"}
        )
        assert status == 404
        assert stored(engine, Answer, w.answer_id).visibility == Visibility.PRIVATE
        assert stored(engine, Experiment, w.experiment_id).lesson_private is False

    run(scenario, engine)


def test_an_experiments_lesson_can_stay_private_while_the_experiment_is_shared(
    engine: Engine,
) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        status, _, _ = await post(
            client, f"/app/items/experiment/{w.experiment_id}/lesson", {"private": "yes"}
        )
        assert status == 303
        assert stored(engine, Experiment, w.experiment_id).lesson_private is True
        _, markup = await page(client)
        view = re.search(r'id="manager-view">(.*?)</div>', markup, re.DOTALL)
        assert view is not None
        assert "Shadow a designer" in view.group(1) and "Ask early" not in view.group(1)

    run(scenario, engine)


# -- Settings, pause, downloads, deletion -----------------------------------------------------


def test_settings_are_saved_and_a_bad_value_keeps_what_was_typed(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        form = {"language": "nl", "timezone": "Atlantis", "rhythm": "monthly"}
        status, markup, _ = await post(client, "/app/settings", form)
        assert status == 400
        assert "Die tijdzone ken ik niet." in text_of(markup)
        assert 'value="Atlantis"' in markup and 'aria-invalid="true"' in markup
        ann = stored(engine, Person, w.ann.id)
        assert (ann.timezone, ann.nudge_frequency) == ("Europe/Amsterdam", "biweekly")

        form = {"language": "en", "timezone": "Londen", "rhythm": "monthly"}
        status, _, location = await post(client, "/app/settings", form)
        assert status == 303
        ann = stored(engine, Person, w.ann.id)
        assert (ann.language, ann.timezone, ann.nudge_frequency) == (
            "en",
            "Europe/London",
            "monthly",
        )
        _, markup = await page(client, location)
        assert '<html lang="en">' in markup and "Your settings are saved." in text_of(markup)

    run(scenario, engine)


def test_nudges_pause_until_a_future_day_and_resume(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.bob, clock)
        status, markup, _ = await post(client, "/app/pause", {"until": "2026-11-30"})
        assert status == 400 and "That's not in the future." in text_of(markup)
        assert stored(engine, Person, w.bob.id).nudge_paused_until is None
        status, _, _ = await post(client, "/app/pause", {"until": "2026-12-24"})
        assert status == 303
        assert stored(engine, Person, w.bob.id).nudge_paused_until == date(2026, 12, 24)
        _, markup = await page(client)
        assert "Nudges are paused until December 24, 2026." in text_of(markup)
        status, _, _ = await post(client, "/app/pause", {"action": "resume"})
        assert stored(engine, Person, w.bob.id).nudge_paused_until is None

    run(scenario, engine)


def test_download_my_data_from_the_page_gives_the_complete_json_file(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        response = await client.post(
            "/app/download/json", data={"csrf_token": CSRF.findall(markup)[0]}
        )  # the press on her own page is the file itself: no second button
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        data = json.loads(await response.text())
        assert "Learn SQL" in json.dumps(data)
        with Session(engine) as db:  # one link, used at once, and her download audited
            [used] = db.exec(
                select(OneTimeLink.used_at).where(OneTimeLink.purpose == "download_json")
            ).all()
            audit = db.exec(select(AuditEntry).where(AuditEntry.action == "download")).all()
        assert used is not None and [e.actor_id for e in audit] == [w.ann.id]

    run(scenario, engine)


def test_delete_everything_needs_the_typed_word_then_signs_out(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        status, markup, _ = await post(client, "/app/delete", {"confirm": "ja"})
        assert status == 400
        assert "Er is niets verwijderd. Typ “verwijderen”" in text_of(markup)
        assert stored(engine, Person, w.ann.id) is not None

        status, markup, _ = await post(client, "/app/delete", {"confirm": " Verwijderen "})
        assert status == 200
        assert "Alles is verwijderd" in text_of(markup)
        assert 'action="/app/sign-out"' not in markup
        assert stored(engine, Person, w.ann.id) is None
        with Session(engine) as db:
            assert db.exec(select(PlanItem).where(PlanItem.person_id == w.ann.id)).first() is None
        # Signed out: the page now asks to sign in.
        status, _ = await page(client)
        assert status == 303

    run(scenario, engine)


# -- My team ----------------------------------------------------------------------------------


def test_an_employee_opening_someone_elses_page_is_refused_and_it_is_audited(
    engine: Engine,
) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.bob, clock)
        status, markup = await page(client, f"/app/team/{w.ann.id}")
        assert status == 403
        assert "Ask early" not in markup and "Shadow" not in markup
        status, _ = await page(client, "/app/team")
        assert status == 403  # Bob manages nobody
        await sign_in(client, engine, w.mia, clock)
        status, markup = await page(client, f"/app/team/{w.eve.id}")  # not her report
        assert status == 403 and "secret" not in markup
        refused = [(e.actor_id, e.subject_id) for e in audit(engine) if e.action == REFUSED_READ]
        assert refused == [(w.bob.id, w.ann.id), (w.mia.id, w.eve.id)]
        assert not [e for e in audit(engine) if e.action == "manager_read"]

        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        assert re.search(r'id="seen".*Bob Baker.*probeerde je pagina te openen', markup, re.DOTALL)

    run(scenario, engine)


def test_a_managers_page_of_one_report_shows_what_they_shared_since_a_day(
    engine: Engine,
) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.mia, clock)
        status, markup = await page(client, f"/app/team/{w.ann.id}?since=2026-11-20")
        assert status == 200
        assert "Shadow a designer" in text_of(markup)
        status, markup = await page(client, f"/app/team/{w.ann.id}?since=2026-11-30")
        assert "Shadow a designer" not in text_of(markup)  # changed before that day
        status, markup = await page(client, f"/app/team/{w.ann.id}?since=someday")
        assert status == 200 and "That's not a day I can use" in text_of(markup)
        reads = [(e.actor_id, e.subject_id) for e in audit(engine) if e.action == "manager_read"]
        assert reads == [(w.mia.id, w.ann.id), (w.mia.id, w.ann.id)]  # only when shown

    run(scenario, engine)


def test_team_counts_appear_only_over_a_group_of_at_least_k(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.mia, clock)
        _, markup = await page(client, "/app/team")
        assert "Your team in numbers" not in markup  # two reports: fewer than K=3
        add_person(engine, email="cem@example.com", name="Cem", manager_id=w.mia.id)
        _, markup = await page(client, "/app/team")
        assert "Your team in numbers" in markup
        aggregate = [e for e in audit(engine) if e.action == "manager_aggregate"]
        assert [(e.actor_id, e.subject_id, e.detail["people"]) for e in aggregate] == [
            (w.mia.id, None, 3)
        ]

    run(scenario, engine, min_group_size=3)


def test_pages_ask_a_signed_out_visitor_to_sign_in(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        for path in ("/app/", "/app/team", f"/app/team/{w.ann.id}"):
            response = await client.get(path, allow_redirects=False)
            assert response.status == 303
            assert response.headers["Location"].startswith("/app/sign-in?next=")

    run(scenario, engine)


def test_every_text_of_the_pages_exists_in_both_languages() -> None:
    content: Content = load_content()
    en, nl = content.texts["en"]["web_pages"], content.texts["nl"]["web_pages"]

    def keys(node: Any, at: str = "") -> set[str]:
        if isinstance(node, dict):
            return {k for key, v in node.items() for k in keys(v, f"{at}.{key}")}
        return {at}

    assert keys(en) == keys(nl)
