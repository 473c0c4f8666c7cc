"""The Microsoft Teams app package: manifest.json (schema v1.30), its Dutch localisation
(``nl.json``, the v1.30 localization schema) and two icons, zipped.

The command list Teams offers in the chat holds the words people type (the intents of
``dialogs/content``), in English, and in Dutch for a Dutch Teams client. Pure data: no Bot
Framework imports, no Pillow. The icons are drawn pixel by pixel and encoded with a minimal PNG
writer (IHDR, IDAT, IEND; 8-bit RGBA).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.Localization.schema.json"
MANIFEST_VERSION = "1.30"
DUTCH_FILE = "nl.json"
PACKAGE_NAME = "regie-teams.zip"

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed timestamp: the same settings give the same bytes

SHORT_DESCRIPTION = "Your private companion for growing at work, one small step at a time."
FULL_DESCRIPTION = (
    "Regie helps you take charge of your own development, in small steps and at your own pace. "
    "Take a moment to reflect on your work with three short questions. Pick three new things "
    "to try this year and keep track of how your experiments go. Answer a one-minute check-in "
    "now and then, keep a small development plan, and build a profile of your skills and "
    "talents.\n\n"
    "What you write is private by default. Your manager only sees what you choose to share, "
    "item by item, and HR only ever sees anonymous totals for larger groups, never your "
    "answers. You can see what is shared, export your data or delete it at any time.\n\n"
    "Say 'help' to see what Regie can do, or 'pause' if you'd like a break from nudges."
)

SHORT_DESCRIPTION_NL = "Je persoonlijke maatje om te groeien in je werk, stap voor stap."
FULL_DESCRIPTION_NL = (
    "Regie helpt je de regie te nemen over je eigen ontwikkeling, in kleine stappen en in je "
    "eigen tempo. Sta even stil bij je werk met drie korte vragen. Kies drie nieuwe dingen om "
    "dit jaar te proberen en houd bij hoe je experimenten gaan. Doe af en toe een check-in van "
    "een minuut, houd een klein ontwikkelplan bij en bouw een profiel op van je vaardigheden "
    "en talenten.\n\n"
    "Wat je schrijft is standaard privé. Je leidinggevende ziet alleen wat jij deelt, per "
    "onderdeel, en HR ziet alleen anonieme totalen over grotere groepen, nooit je antwoorden. "
    "Je kunt altijd zien wat je deelt, en je gegevens exporteren of wissen.\n\n"
    "Zeg 'hulp' om te zien wat Regie kan, of 'pauze' als je even geen seintjes wilt."
)


@dataclass(frozen=True)
class Command:
    """A command Teams lists in the chat: what to type (an intent's words) in each language."""

    intent: str
    title: str
    description: str
    title_nl: str
    description_nl: str


# The words of the global intents a person starts things with, managers' "my team" among them.
# Teams allows 12 commands per list (v1.30), and this list holds 12: "menu" (which "help" and
# any greeting reach) and the role-only "participation" and "campaigns" (HR, said in the chat)
# are left out; "web" sends a sign-in link, as the button in Slack's App Home does.
COMMANDS: tuple[Command, ...] = (
    Command(
        "reflect",
        "reflect",
        "A short reflection: three questions about your work",
        "reflectie",
        "Een korte reflectie: drie vragen over je werk",
    ),
    Command(
        "experiment",
        "experiment",
        "Your three new things to try this year",
        "experiment",
        "Je drie nieuwe dingen om dit jaar te proberen",
    ),
    Command(
        "checkin", "checkin", "A one-minute check-in", "check-in", "Een check-in van een minuut"
    ),
    Command("plan", "plan", "Your development plan", "plan", "Je ontwikkelplan"),
    Command(
        "profile", "profile", "Your skills and talents", "profiel", "Je vaardigheden en talenten"
    ),
    Command(
        "privacy",
        "privacy",
        "What's shared, and export or delete your data",
        "privacy",
        "Wat je deelt, en je gegevens exporteren of wissen",
    ),
    Command(
        "settings",
        "settings",
        "Language, time zone and how often Regie nudges you",
        "instellingen",
        "Taal, tijdzone en hoe vaak Regie je een seintje geeft",
    ),
    Command(
        "pause",
        "pause",
        "Pause Regie's nudges for a while",
        "pauze",
        "Even geen seintjes van Regie",
    ),
    Command(
        "resume", "resume", "Turn Regie's nudges back on", "hervat", "Zet de seintjes weer aan"
    ),
    Command(
        "team",
        "my team",
        "For managers: what your team chose to share with you",
        "mijn team",
        "Voor leidinggevenden: wat je team met je wil delen",
    ),
    Command(
        "web",
        "web",
        "A sign-in link for Regie on the web",
        "web",
        "Een inloglink voor Regie op het web",
    ),
    Command(
        "help",
        "help",
        "See everything you can say to Regie",
        "hulp",
        "Alles wat je tegen Regie kunt zeggen",
    ),
)


class PackageError(ValueError):
    """The package settings cannot produce a valid Teams app package."""


@dataclass(frozen=True)
class PackageSettings:
    app_id: str  # the Microsoft App ID (a GUID): manifest "id" and bots[0].botId
    version: str = "1.0.0"
    name: str = "Regie"
    developer_name: str = "Regie"
    website_url: str = "https://github.com/regie-bot/regie"
    privacy_url: str = "https://github.com/regie-bot/regie/blob/main/docs/privacy.md"
    terms_url: str = "https://github.com/regie-bot/regie/blob/main/LICENSE"
    accent_color: str = "#2C5F6F"


def _check(settings: PackageSettings) -> None:
    if not _GUID.fullmatch(settings.app_id):
        raise PackageError(f"app id must be a GUID, got {settings.app_id!r}")
    if not _SEMVER.fullmatch(settings.version):
        raise PackageError(f"version must be semver x.y.z, got {settings.version!r}")
    for label, url in (
        ("website", settings.website_url),
        ("privacy", settings.privacy_url),
        ("terms", settings.terms_url),
    ):
        if not url.startswith("https://") or len(url) > 2048:
            raise PackageError(f"{label} URL must be https, got {url!r}")
    if not _HEX_COLOUR.fullmatch(settings.accent_color):
        raise PackageError(f"accent colour must look like #RRGGBB, got {settings.accent_color!r}")
    if not 0 < len(settings.name) <= 30 or not 0 < len(settings.developer_name) <= 32:
        raise PackageError("name must be 1-30 characters and developer name 1-32")


def build_manifest(settings: PackageSettings) -> dict[str, Any]:
    """The manifest.json content for ``settings``; raises PackageError for bad settings."""
    _check(settings)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": settings.version,
        "id": settings.app_id,
        "developer": {
            "name": settings.developer_name,
            "websiteUrl": settings.website_url,
            "privacyUrl": settings.privacy_url,
            "termsOfUseUrl": settings.terms_url,
        },
        "name": {"short": settings.name, "full": f"{settings.name}: your development companion"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": settings.accent_color,
        "bots": [
            {
                "botId": settings.app_id,
                # A team, only for the stories channel (team.py answers a mention there with
                # the way to a personal chat): its commands are listed for personal chat only.
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": c.title, "description": c.description} for c in COMMANDS
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "localizationInfo": {
            "defaultLanguageTag": "en",
            "additionalLanguages": [{"languageTag": "nl", "file": DUTCH_FILE}],
        },
    }


def dutch_localization(settings: PackageSettings) -> dict[str, Any]:
    """``nl.json``: the manifest's texts for a Dutch Teams client, the commands included."""
    texts: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA_URL,
        "name.short": settings.name,
        "name.full": f"{settings.name}: je ontwikkelmaatje",
        "description.short": SHORT_DESCRIPTION_NL,
        "description.full": FULL_DESCRIPTION_NL,
    }
    for n, command in enumerate(COMMANDS):
        key = f"bots[0].commandLists[0].commands[{n}]"
        texts[f"{key}.title"] = command.title_nl
        texts[f"{key}.description"] = command.description_nl
    return texts


def _png(width: int, height: int, rgba: bytes) -> bytes:
    """Encode 8-bit RGBA pixels (row-major, 4 bytes each) as a PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# The mark: a rising path of three growing dots, in unit coordinates (y points down).
_DOTS = ((0.25, 0.73, 0.085), (0.47, 0.6, 0.105), (0.7, 0.33, 0.13))
_LINE_HALF_WIDTH = 0.03


def _in_mark(x: float, y: float) -> bool:
    if any((x - cx) ** 2 + (y - cy) ** 2 <= r * r for cx, cy, r in _DOTS):
        return True
    for (ax, ay, _), (bx, by, _) in pairwise(_DOTS):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        if (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= _LINE_HALF_WIDTH**2:
            return True
    return False


def _coverage(size: int, samples: int) -> list[float]:
    """Share of each pixel inside the mark, from samples x samples points per pixel."""
    step = 1.0 / (size * samples)
    offsets = [(i + 0.5) * step for i in range(samples)]
    left, top = min(x - r for x, _, r in _DOTS), min(y - r for _, y, r in _DOTS)
    right, bottom = max(x + r for x, _, r in _DOTS), max(y + r for _, y, r in _DOTS)
    cover = []
    for py in range(size):
        for px in range(size):
            x0, y0 = px / size, py / size
            if x0 + 1 / size < left or x0 > right or y0 + 1 / size < top or y0 > bottom:
                cover.append(0.0)
                continue
            hits = sum(_in_mark(x0 + ox, y0 + oy) for ox in offsets for oy in offsets)
            cover.append(hits / samples**2)
    return cover


def color_icon(accent_color: str = PackageSettings.accent_color) -> bytes:
    """The 192x192 full-colour icon: the white mark on the accent colour."""
    base = bytes.fromhex(accent_color.lstrip("#"))
    pixels = bytearray()
    for c in _coverage(192, 3):
        pixels += bytes(round(v + (255 - v) * c) for v in base) + b"\xff"
    return _png(192, 192, bytes(pixels))


def outline_icon() -> bytes:
    """The 32x32 outline icon: the mark in pure white on a fully transparent background."""
    on, off = b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"
    return _png(32, 32, b"".join(on if c >= 0.5 else off for c in _coverage(32, 4)))


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def write_package(settings: PackageSettings, out: Path) -> Path:
    """Write the app package zip to ``out`` (or ``out/regie-teams.zip`` for a directory)."""
    manifest = build_manifest(settings)
    target = out / PACKAGE_NAME if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    files = {
        "manifest.json": _json(manifest),
        DUTCH_FILE: _json(dutch_localization(settings)),
        "color.png": color_icon(settings.accent_color),
        "outline.png": outline_icon(),
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    return target
