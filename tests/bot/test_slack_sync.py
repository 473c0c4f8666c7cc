"""``regie slack sync``: the real command, paging through users.list on the fake Web API."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Person
from tests.bot.slack_fake import FakeSlack


def member(user_id: str, email: str | None, **extra: object) -> dict[str, object]:
    return {
        "id": user_id,
        "name": user_id.lower(),
        "profile": {"email": email, "real_name": f"Name {user_id}"},
    } | extra


def test_sync_links_people_by_email_across_pages(engine: Engine, run) -> None:
    with Session(engine) as db:
        db.add_all(
            [
                Person(email="ann@example.com", name="Ann"),
                Person(email="bob@example.com", name="Bob"),
                Person(email="cee@example.com", name="Cee", slack_user_id="U3"),
            ]
        )
        db.commit()
    users = {
        "U1": member("U1", "Ann@Example.com"),
        "U2": member("U2", "bob@example.com"),
        "U3": member("U3", "cee@example.com"),
        "U4": member("U4", "stranger@example.com"),
        "B1": member("B1", None, is_bot=True),
        "USLACKBOT": member("USLACKBOT", None),
        "U5": member("U5", "gone@example.com", deleted=True),
    }
    with FakeSlack(users=users, users_page_size=2) as fake:
        result = run(
            "slack",
            "sync",
            extra_env={"SLACK_BOT_TOKEN": "xoxb-test", "REGIE_SLACK_API_URL": fake.url},
        )
        pages = fake.calls_to("users.list")
    assert result.returncode == 0, result.stderr
    assert (
        "Matched 2 (already linked 1), unmatched 1, bots skipped 2, deactivated skipped 1."
        in result.stdout
    )
    assert "stranger@example.com" in result.stdout
    assert len(pages) == 4  # 7 members, 2 per page
    with Session(engine) as db:
        links = {p.email: p.slack_user_id for p in db.exec(select(Person))}
    assert links == {"ann@example.com": "U1", "bob@example.com": "U2", "cee@example.com": "U3"}
