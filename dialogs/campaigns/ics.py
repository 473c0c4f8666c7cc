"""A campaign workshop as an iCalendar file (RFC 5545): one VEVENT that calendar apps import.

Written by hand rather than with a library (``icalendar`` is not a dependency, and one event
needs a dozen lines): CRLF line ends, lines folded at 75 octets (never inside a UTF-8
character), text values escaped (backslash, comma, semicolon, newline), times in UTC
(``…Z``) so every calendar shows the reader's own local time, and a UID that stays the same
for the workshop, so importing a moved workshop again updates the event instead of adding one
(``SEQUENCE`` grows with the campaign's version).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dialogs.campaigns.spec import CampaignSpec, Workshop

PRODUCT = "-//Regie//Campaign workshops//EN"
UID_DOMAIN = "regie.invalid"
LINE_OCTETS = 75


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets (§3.1): CRLF and one space before each
    continuation, never splitting a UTF-8 character."""
    parts: list[str] = []
    current, size = "", 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append(current)
            current, size = "", 0
            limit = LINE_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def uid(spec: CampaignSpec, workshop: Workshop) -> str:
    """Stable per campaign and workshop (not per moment: a move updates the same event)."""
    return f"{spec.id}.{workshop.id}@{UID_DOMAIN}"


def event(
    spec: CampaignSpec,
    workshop: Workshop,
    *,
    lang: str,
    stamp: datetime,
    sequence: int = 0,
) -> str:
    """The calendar file of one workshop, texts in ``lang``."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid(spec, workshop)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(workshop.starts)}",
        f"DTEND:{_utc(workshop.ends)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{escape(spec.text(workshop.title, lang))}",
        f"DESCRIPTION:{escape(spec.text(spec.name, lang))}",
    ]
    if workshop.where:
        lines.append(f"LOCATION:{escape(spec.text(workshop.where, lang))}")
    lines.append("STATUS:CANCELLED" if workshop.cancelled else "STATUS:CONFIRMED")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
