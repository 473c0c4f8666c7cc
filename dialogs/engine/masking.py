"""Masking contact details and colleagues' names before any text leaves for an AI model.

E-mail addresses, phone numbers and the names of people Regie knows are replaced by numbered
placeholders (``[email-1]``, ``[phone-1]``, ``[name-1]``). The same value gets the same
placeholder everywhere in one request, so the model can still tell two colleagues apart, and
the model's answer can be shown to the person with the placeholders put back (``unmask``):
only the placeholders ever leave.

Names are matched per word, case-insensitively (people type "marieke" as often as
"Marieke"), for name parts of three letters or more that are not name particles (van, de…).
That masks too much rather than too little: a colleague called Job masks the English "job".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-/]{6,}\d(?!\w)")
_NOT_A_PHONE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"  # 2026-12-15
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # 15-12-2026
    r"|\d{4}\s*[-/]\s*\d{4}"  # 2025-2026
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_PARTICLE_WORDS = (
    "van de der den het ter ten te in 't op von la le du da di del della dos das el al"
)
PARTICLES = frozenset(_PARTICLE_WORDS.split())
MIN_NAME_PART = 3
_PLACEHOLDER = re.compile(r"\[(email|phone|name)-(\d+)\]")


def name_parts(names: Iterable[str]) -> frozenset[str]:
    """The words of the names that are masked (lower case)."""
    parts: set[str] = set()
    for name in names:
        for word in _WORD.findall(name):
            word = word.lower()
            if len(word) >= MIN_NAME_PART and word not in PARTICLES:
                parts.add(word)
    return frozenset(parts)


@dataclass
class Masker:
    """One per request: masks every text of the request with shared numbering."""

    names: frozenset[str] = frozenset()
    originals: dict[str, str] = field(default_factory=dict)
    """placeholder -> the text it replaced (stays here; never sent)."""
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def for_names(cls, names: Iterable[str]) -> Masker:
        return cls(names=name_parts(names))

    def mask(self, text: str) -> str:
        text = _EMAIL.sub(lambda m: self._placeholder("email", m.group(0)), text)
        text = _PHONE.sub(self._phone, text)
        return self._mask_names(text)

    def unmask(self, text: str) -> str:
        """Put the originals back in a text that came back (unknown placeholders stay)."""
        return _PLACEHOLDER.sub(lambda m: self.originals.get(m.group(0), m.group(0)), text)

    def _phone(self, match: re.Match[str]) -> str:
        found = match.group(0)
        digits = sum(ch.isdigit() for ch in found)
        if digits < 8 or _NOT_A_PHONE.fullmatch(found.strip()):
            return found
        return self._placeholder("phone", found)

    def _mask_names(self, text: str) -> str:
        if not self.names:
            return text
        spans = [
            m.span()
            for m in _WORD.finditer(text)
            if m.group(0).lower() in self.names and text[m.start() - 1 : m.start()] != "["
        ]
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and not text[merged[-1][1] : start].strip():
                merged[-1][1] = end  # "Marieke Jansen": one person, one placeholder
            else:
                merged.append([start, end])
        pieces: list[str] = []
        position = 0
        for start, end in merged:
            pieces += [text[position:start], self._placeholder("name", text[start:end])]
            position = end
        return "".join([*pieces, text[position:]])

    def _placeholder(self, kind: str, original: str) -> str:
        key = (kind, " ".join(original.lower().split()))
        if key not in self._seen:
            number = sum(1 for k in self._seen if k[0] == kind) + 1
            placeholder = f"[{kind}-{number}]"
            self._seen[key] = placeholder
            self.originals[placeholder] = original
        return self._seen[key]


def has_placeholder(text: str) -> bool:
    """Whether ``text`` still holds a placeholder (one the model made up: nothing to put back)."""
    return _PLACEHOLDER.search(text) is not None


def mask(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with e-mail addresses, phone numbers and the given names masked."""
    return Masker.for_names(names).mask(text)
