"""Regie in a Teams team (the app's ``team`` scope), which it joins only to post success stories
in a channel (``stories.py``): added to a team, it stores where the team is (``teams_team``);
removed, or the team deleted, it forgets it. Someone who @mentions it in a channel is answered,
kindly and in the thread, that Regie works in a personal chat; nothing of what they wrote is
run as a turn, stored or logged."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import teams_get_team_info
from botbuilder.schema import Activity, ActivityTypes, ConversationAccount

from bot.channels.teams.turns import TeamsTurns, off_loop
from storage.db import session_scope
from storage.people import language_from_locale
from storage.teams_teams import forget_team, save_team

log = logging.getLogger(__name__)

GONE = {"teamDeleted", "teamHardDeleted"}
"""``conversationUpdate`` events after which the team is no more."""


async def on_team_activity(turns: TeamsTurns, context: TurnContext) -> None:
    activity = context.activity
    team = teams_get_team_info(activity)
    if team is None or not team.id:
        log.debug("ignored a Teams %s activity in a channel without a team", activity.type)
        return
    bot_id = getattr(activity.recipient, "id", None)
    event = _channel_data(activity).get("eventType")
    if activity.type == ActivityTypes.message:
        await _answer(turns, context)
    elif activity.type == ActivityTypes.installation_update:
        if (activity.action or "").startswith("add"):
            await off_loop(_remember, turns, activity, team.id)
        else:
            await off_loop(_forget, turns, team.id)
    elif activity.type == ActivityTypes.conversation_update and (
        any(member.id == bot_id for member in activity.members_added or [])
    ):
        await off_loop(_remember, turns, activity, team.id)
    elif activity.type == ActivityTypes.conversation_update and (
        event in GONE or any(member.id == bot_id for member in activity.members_removed or [])
    ):
        await off_loop(_forget, turns, team.id)
    else:
        log.debug("ignored a Teams %s activity in a team (%s)", activity.type, event or "-")


async def _answer(turns: TeamsTurns, context: TurnContext) -> None:
    language = language_from_locale(context.activity.locale, turns.settings.language)
    text = turns.runtime.content.text(language, "teams_team.personal_only")
    await context.send_activity(Activity(type=ActivityTypes.message, text=text))
    log.info("answered a mention in a Teams channel: Regie works in a personal chat")


def reference_of(activity: Activity, team_id: str) -> dict[str, Any]:
    """Where the team's General channel is, and as whom Regie writes there: no person (the
    one who added Regie is not kept), no message to reply to."""
    reference = TurnContext.get_conversation_reference(activity)
    tenant = getattr(activity.conversation, "tenant_id", None) or _tenant(activity)
    reference.user, reference.activity_id, reference.locale = None, None, None
    reference.conversation = ConversationAccount(
        id=team_id, conversation_type="channel", is_group=True, tenant_id=tenant
    )
    serialized: dict[str, Any] = reference.serialize()
    return serialized


def _remember(turns: TeamsTurns, activity: Activity, team_id: str) -> None:
    team = teams_get_team_info(activity)
    with session_scope(turns.engine) as db:
        save_team(
            db,
            team_id,
            reference=reference_of(activity, team_id),
            aad_group_id=getattr(team, "aad_group_id", None),
            name=getattr(team, "name", None) or "",
            now=turns.runtime.clock(),
        )
    log.info("Regie was added to a Teams team")


def _forget(turns: TeamsTurns, team_id: str) -> None:
    with session_scope(turns.engine) as db:
        known = forget_team(db, team_id)
    log.info("Regie was removed from a Teams team%s", "" if known else " it did not know")


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def _tenant(activity: Activity) -> str | None:
    tenant = _channel_data(activity).get("tenant")
    return tenant.get("id") if isinstance(tenant, dict) else None
