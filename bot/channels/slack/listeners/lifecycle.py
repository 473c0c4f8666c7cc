"""Regie removed from the workspace (``app_uninstalled``), or its bot token revoked
(``tokens_revoked`` naming a bot token): nobody can be written to in Slack any more. Everyone's
Slack account is forgotten (``slack_user_id`` cleared), so delivery stops trying Slack at once
and takes the next channel (Teams, else ``regie chat``); this is logged once, as a warning. Should
Regie be installed again, people are linked anew on their first message or by ``regie slack
sync``. (Slack sends both events on an uninstall; the second finds nobody left to forget.)"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.channels.slack.turns import SlackTurns

log = logging.getLogger(__name__)


def register(app: App, turns: SlackTurns) -> None:
    @app.event("app_uninstalled")
    def on_uninstalled(body: dict[str, Any]) -> None:
        _unreachable(turns, "the app was uninstalled", body.get("team_id"))

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            _unreachable(turns, "its bot token was revoked", body.get("team_id"))
        else:
            log.debug("Slack user tokens revoked; Regie holds none")


def _unreachable(turns: SlackTurns, why: str, team: str | None) -> None:
    forgotten = turns.people.forget_workspace()
    turns.forget_everyone()
    if forgotten:
        log.warning(
            "Slack workspace %s: %s; %d people are no longer reachable in Slack and get their "
            "messages in another channel. Reinstall the app and run 'regie slack sync' to undo.",
            team or "?",
            why,
            forgotten,
        )
