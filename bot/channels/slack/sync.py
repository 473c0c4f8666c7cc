"""``regie slack sync``: link imported people to their Slack accounts in one pass over
``users.list`` (paged), so no message ever needs a look-up by e-mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from storage.people import by_email


@dataclass
class SyncReport:
    matched: int = 0
    already_linked: int = 0
    bots_skipped: int = 0
    deactivated_skipped: int = 0
    unmatched: list[str] = field(default_factory=list)
    """Slack users with no person in Regie (by e-mail), as ``name <email>``."""


def sync_users(client: WebClient, db: Session, *, page_size: int = 200) -> SyncReport:
    report = SyncReport()
    cursor: str | None = None
    while True:
        response = client.users_list(cursor=cursor, limit=page_size)
        for member in response.get("members") or []:
            _sync_member(db, member, report)
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return report


def _sync_member(db: Session, member: dict[str, Any], report: SyncReport) -> None:
    if member.get("is_bot") or member.get("is_app_user") or member.get("id") == "USLACKBOT":
        report.bots_skipped += 1
        return
    if member.get("deleted"):
        report.deactivated_skipped += 1
        return
    profile = member.get("profile") or {}
    email = profile.get("email")
    person = by_email(db, email) if email else None
    if person is None:
        report.unmatched.append(
            f"{profile.get('real_name') or member.get('name')} <{email or '?'}>"
        )
        return
    if person.slack_user_id == member["id"]:
        report.already_linked += 1
        return
    person.slack_user_id = member["id"]
    db.add(person)
    report.matched += 1
