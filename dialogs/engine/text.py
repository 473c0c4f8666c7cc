"""Cleaning what people type before anything else sees it.

Control characters (terminal escapes, NULs) are removed; so are the bidirectional override
characters, which can make text in someone else's digest read differently from what was typed.
Emoji (including zero-width-joiner sequences), right-to-left scripts and markup are kept as
typed: markup is escaped when a channel renders it, not here.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_CHARS = 2000
"""Longest message the bot accepts; longer ones are refused with a message naming the limit."""

_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean(text: str) -> str:
    """Normalise to NFC, drop control characters (keeping newlines), trim whitespace."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch == "\n" or ch == "\t" or unicodedata.category(ch) != "Cc"
    )
    text = _BIDI_CONTROLS.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def normalise_keyword(text: str) -> str:
    """Lower-case, no surrounding punctuation or slash: how intents and labels are compared."""
    text = text.strip().lower().lstrip("/")
    text = text.strip(" .!?,:;'\"")
    return _SPACES.sub(" ", text.replace("-", " ").replace("_", " "))


def shorten(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters, with an ellipsis when cut (for list labels)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
