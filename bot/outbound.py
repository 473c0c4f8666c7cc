"""The senders the delivery worker uses: one per chat channel the settings turn on, in the
registry's order (``bot/channels/registry.py``); people none of them reach get their messages
in the console."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.channels.registry import senders
from bot.config import Settings
from bot.senders import Sender
from dialogs.engine.runtime import Runtime


def build_senders(settings: Settings, runtime: Runtime, engine: Engine) -> list[Sender]:
    return senders(settings, runtime, engine)
