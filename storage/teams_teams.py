"""The Teams teams Regie was added to (``teams_team``): saved on install, forgotten on removal,
and found again for a channel of theirs (the stories channel). A team's row holds no person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import TeamsTeam


def save_team(
    db: Session,
    team_id: str,
    *,
    reference: dict[str, Any],
    aad_group_id: str | None,
    name: str,
    now: datetime,
) -> TeamsTeam:
    """Remember the team (again: an upgrade or a re-install refreshes what was stored)."""
    team = db.get(TeamsTeam, team_id) or TeamsTeam(team_id=team_id)
    team.reference, team.name = dict(reference), name[:255]
    team.aad_group_id = aad_group_id.lower() if aad_group_id else None
    team.updated_at = now
    db.add(team)
    return team


def forget_team(db: Session, team_id: str) -> bool:
    """Regie was removed from the team (or the team deleted); True when it was known."""
    team = db.get(TeamsTeam, team_id)
    if team is None:
        return False
    db.delete(team)
    return True


def team_of(db: Session, channel_id: str, group_id: str | None = None) -> TeamsTeam | None:
    """The team a channel belongs to: the team whose id it is (its General channel), else the
    team of the Microsoft 365 group a link to the channel names."""
    team = db.get(TeamsTeam, channel_id)
    if team is not None or group_id is None:
        return team
    query = select(TeamsTeam).where(col(TeamsTeam.aad_group_id) == group_id.lower())
    return db.exec(query.order_by(col(TeamsTeam.updated_at).desc())).first()
