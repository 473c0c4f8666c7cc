""" "Download my data" in chat (issue 15, items 5 and 13): never the data itself in a message
(nothing over Teams' ~28 KB), but two one-time links — in Slack and Teams link buttons to
``regie serve`` (opened, then the button on their page pressed), in the console files written
to disk — and every use shows in the chat's "who has seen my data". On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.console import ConsoleChannel
from bot.channels.console_files import ConsoleLinks
from bot.config import Settings
from bot.web.export_files import build
from bot.wiring import build_runtime
from dialogs.engine.content import load_content
from dialogs.engine.replies import PersonalLinks
from storage.models import (
    Answer,
    AuditEntry,
    Experiment,
    ExperimentStatus,
    LearningEntry,
    LearningKind,
    LinkPurpose,
    Person,
    ProfileEntry,
    ProfileKind,
    Visibility,
)
from tests.bot.slack_harness import text_of
from tests.bot.teams_harness import card_of
from tests.dialogs.transcript import Transcript
from tests.web.web_client import use_link, web_client

LIMIT = 28 * 1024
"""Teams' limit on one activity; Slack's message limits are of the same order."""
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rich_person(engine: Engine, **ids: Any) -> int:
    """Someone with a year of data: 36 long reflection answers, experiments, a profile."""
    with Session(engine) as db:
        person = Person(email="noor@example.com", name="Noor Jansen", welcomed_at=NOW, **ids)
        db.add(person)
        db.flush()
        assert person.id is not None
        for n in range(36):
            db.add(
                Answer(
                    person_id=person.id,
                    dialog_id="reflection",
                    question_id=f"q{n}",
                    text=f"Answer {n}: " + "what I noticed this week, at some length. " * 40,
                )
            )
        db.add(
            Experiment(
                person_id=person.id,
                title="Shadow the support desk for a day",
                why="To hear customers first-hand",
                status=ExperimentStatus.DONE,
                learned="Small fixes matter <most>",
                keep_doing="Monthly visits",
            )
        )
        db.add(
            ProfileEntry(person_id=person.id, kind=ProfileKind.SKILL, text="Facilitating workshops")
        )
        db.commit()
        return person.id


def fetch(engine: Engine, url: str) -> tuple[int, dict[str, str], bytes]:
    """Open a link from chat in a browser of the same deployment and press its button."""

    async def scenario() -> tuple[int, dict[str, str], bytes]:
        async with web_client(engine) as (client, _clock):
            response = await use_link(client, urlparse(url).path)
            return response.status, dict(response.headers), await response.read()

    return asyncio.run(scenario())


def opened(engine: Engine, url: str) -> int:
    """What opening a link from chat answers (its status)."""

    async def scenario() -> int:
        async with web_client(engine) as (client, _clock):
            return (await client.get(urlparse(url).path)).status

    return asyncio.run(scenario())


def check_downloads(engine: Engine, urls: list[str]) -> None:
    assert len(urls) == 2 and all(u.startswith("http://localhost:3000/download/") for u in urls)
    status, headers, body = fetch(engine, urls[0])
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    assert headers["Cache-Control"] == "no-store"
    data = json.loads(body)
    assert len(data["answer"]) == 36 and data["experiment"][0]["learned"]
    status, headers, body = fetch(engine, urls[1])
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "My development" in page and "Shadow the support desk" in page
    assert "Small fixes matter &lt;most&gt;" in page  # escaped
    assert opened(engine, urls[0]) == 410  # once only
    with Session(engine) as db:
        downloads = db.exec(select(AuditEntry).where(AuditEntry.action == "download")).all()
    assert len(downloads) == 2


def test_slack_offers_link_buttons_and_every_message_is_small(slack_world) -> None:
    engine = slack_world.engine
    rich_person(engine, slack_user_id="U1")
    slack_world.slack.dm("U1", "privacy")
    slack_world.slack.next_message()
    slack_world.slack.dm("U1", "Export my data")
    message = slack_world.slack.next_message()
    while "Your data is ready" not in text_of(message):
        message = slack_world.slack.next_message()
    for sent in slack_world.fake.calls_to("chat.postMessage"):
        assert len(json.dumps(sent)) < LIMIT
    urls = [
        element["url"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "url" in element
    ]
    check_downloads(engine, urls)


def test_teams_offers_open_url_actions_and_every_activity_is_small(teams_world) -> None:
    engine = teams_world.engine
    rich_person(engine, teams_aad_id="aad-noor")
    teams_world.teams.say("privacy")
    teams_world.teams.next_sent()
    teams_world.teams.say("Export my data")
    activity = teams_world.teams.next_sent()
    while "Your data is ready" not in json.dumps(activity):
        activity = teams_world.teams.next_sent()
    for sent in teams_world.connector.sent:
        assert len(json.dumps(sent)) < LIMIT
    card = card_of(activity)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.OpenUrl":
                found.append(node["url"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    check_downloads(engine, found)


def test_the_console_writes_both_files_for_the_owner_only(engine: Engine, tmp_path: Path) -> None:
    noor = rich_person(engine)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    runtime = build_runtime(settings, engine)
    runtime.clock = lambda: NOW
    files = ConsoleLinks(engine, load_content(), settings.base_url, tmp_path / "out", lambda: NOW)
    out = io.StringIO()
    console = ConsoleChannel(runtime, noor, out, json_mode=False, links=files)
    console.send("privacy")
    console.send("Export my data")
    shown = out.getvalue()
    assert "I've saved your files on this computer:" in shown
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == [
        "my-development-noor-jansen-2026-12-01.html",
        "regie-data-noor-jansen-2026-12-01.json",
    ]
    for path in written:
        assert str(path) in shown
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(written[1].read_text())
    assert len(data["answer"]) == 36 and data["profile_entry"][0]["text"]
    assert "Shadow the support desk" in written[0].read_text()
    assert len(shown.encode()) < LIMIT
    with Session(engine) as db:
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "download")).all()
    assert sorted(e.detail["what"] for e in audit) == ["download_json", "download_page"]
    assert all(e.detail["via"] == "console" for e in audit)


def test_web_in_chat_gives_a_sign_in_link_that_works_once(engine: Engine, tmp_path: Path) -> None:
    noor = rich_person(engine)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    runtime = build_runtime(settings, engine)
    runtime.clock = lambda: NOW
    files = ConsoleLinks(engine, load_content(), settings.base_url, tmp_path, lambda: NOW)
    out = io.StringIO()
    console = ConsoleChannel(runtime, noor, out, json_mode=False, links=files)
    console.send("dashboard")
    shown = out.getvalue()
    assert "sign-in link for Regie on the web" in shown
    [url] = [w for w in shown.split() if w.startswith("http://localhost:3000/app/sign-in/")]

    async def scenario() -> tuple[int, int]:
        async with web_client(engine) as (client, clock):
            clock.now = NOW
            first = await use_link(client, urlparse(url).path)
            again = await client.get(urlparse(url).path, allow_redirects=False)
            return first.status, again.status

    assert asyncio.run(scenario()) == (303, 410)
    for _ in range(4):
        console.send("web")
    console.send("web")  # the sixth in an hour
    assert "That's a lot of sign-in links in one hour. Try again after 11:00" in out.getvalue()


def test_the_one_page_lists_the_learning_record_as_the_skills_passport(engine: Engine) -> None:
    """Issue 18 item 6: every entry of the learning record — private or shared, it is the
    person's own page — with its kind, date, link and what they took from it, in their
    language; a stored address that is not http(s) is never a link."""
    noor = rich_person(engine)
    with Session(engine) as db:
        db.add_all(
            [
                LearningEntry(
                    person_id=noor,
                    kind=LearningKind.CERTIFICATE,
                    title="Scrum Master I",
                    learned_on=date(2026, 3, 14),
                    link="https://example.com/cert/psm-1",
                    takeaway="Short loops <beat> long plans",
                    visibility=Visibility.MANAGER,
                ),
                LearningEntry(
                    person_id=noor,
                    kind=LearningKind.INFORMAL,
                    title="A week with the data team",
                    learned_on=date(2026, 9, 2),
                    link="javascript:alert(1)",
                ),
            ]
        )
        db.commit()
    content = load_content()
    pages: dict[str, str] = {}
    for lang in ("en", "nl"):
        with Session(engine) as db:
            person = db.get(Person, noor)
            assert person is not None
            person.language = lang
            made = build(db, person, LinkPurpose.DOWNLOAD_PAGE, now=NOW, content=content)
            pages[lang] = made.body.decode()
    en, nl = pages["en"], pages["nl"]
    assert "<h2>Learning record</h2>" in en and "<h2>Leerdossier</h2>" in nl
    # Newest first, each with its kind and date in the reader's language.
    assert en.index("A week with the data team") < en.index("Scrum Master I")
    assert "Certificate · March 14, 2026" in en and "Certificaat · 14 maart 2026" in nl
    assert "Learning on the job · September 2, 2026" in en
    assert "Leren in de praktijk · 2 september 2026" in nl
    assert "<dt>What I took from it</dt><dd>Short loops &lt;beat&gt; long plans</dd>" in en
    assert "<dt>Wat het me opleverde</dt>" in nl
    assert '<a href="https://example.com/cert/psm-1">' in en
    assert "javascript:" not in en and "javascript:" not in nl
    # The profile still comes first; the record sits between it and the plan.
    assert en.index("Facilitating workshops") < en.index("Learning record") < en.index("My plan")


def test_who_has_seen_my_data_shows_my_own_download_and_web_sign_in(engine: Engine) -> None:
    """The chat's privacy centre, after Noor used the links it gave her in a browser: "You"
    twice, saying what she did; nothing for the link a scanner merely opened."""
    noor = rich_person(engine)
    speaks(engine, noor, "nl")
    runtime = build_runtime(Settings(_env_file=None), engine)  # type: ignore[call-arg]
    runtime.clock = lambda: NOW
    tx = Transcript(runtime, noor)
    tx.send("privacy")
    tx.choose("seen")
    tx.expect("Niemand heeft tot nu toe bekeken wat je deelde.")
    tx.choose("export")
    [data, page] = [link for r in tx.replies if isinstance(r, PersonalLinks) for link in r.links]
    tx.choose("done")
    tx.send("web")
    [sign_in] = [link for r in tx.replies if isinstance(r, PersonalLinks) for link in r.links]

    async def browse() -> None:
        async with web_client(engine) as (client, clock):
            clock.now = NOW
            assert (await client.get(f"/download/{page.token}")).status == 200  # a scanner
            got = await use_link(client, f"/download/{data.token}")
            assert got.status == 200 and json.loads(await got.read())["person"]
            assert (await use_link(client, f"/app/sign-in/{sign_in.token}")).status == 303

    asyncio.run(browse())
    tx.send("privacy")
    tx.choose("seen")
    tx.expect(
        "Wie heeft bekeken wat je deelde:",
        "Jij, op 1 dec 2026 (je hebt je gegevens gedownload)",
        "Jij, op 1 dec 2026 (je bent ingelogd op het web)",
    )
    assert tx.text.count("Jij, op") == 2  # the page a scanner opened: not downloaded
    speaks(engine, noor, "en")
    tx.choose("seen")
    tx.expect(
        "Who has seen what you shared:",
        "You, on 1 Dec 2026 (you downloaded your data)",
        "You, on 1 Dec 2026 (you signed in on the web)",
    )


def speaks(engine: Engine, person_id: int, language: str) -> None:
    with Session(engine) as db:
        person = db.get(Person, person_id)
        assert person is not None
        person.language = language
        db.add(person)
        db.commit()
