"""The Teams app package passes the v1.30 manifest schema (its Dutch localisation the v1.30
localization schema) and carries proper icons."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from bot.channels.teams.package import (
    COMMANDS,
    PackageError,
    PackageSettings,
    build_manifest,
    color_icon,
    outline_icon,
    write_package,
)
from dialogs.engine.content import load_content
from dialogs.engine.text import normalise_keyword
from tests.schema_files import TEAMS_MANIFEST, schema_path

TEAMS_LOCALIZATION = "teams-manifest/v1.30/MicrosoftTeams.Localization.schema.json"

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("teams") / "regie.zip"
    written = write_package(PackageSettings(app_id=APP_ID), out)
    assert written == out
    with zipfile.ZipFile(written) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def manifest(package: dict[str, bytes]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(package["manifest.json"])
    return data


def _png(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, colour type and the unfiltered (filter 0) pixel rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, dict[bytes, bytes]()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8
    return width, height, colour, zlib.decompress(chunks[b"IDAT"])


def _pixels(width: int, height: int, raw: bytes) -> list[bytes]:
    stride = width * 4 + 1
    assert len(raw) == stride * height
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows), "only filter type 0 is expected"
    return [row[1 + x * 4 : 5 + x * 4] for row in rows for x in range(width)]


def test_the_zip_holds_exactly_its_four_files_at_its_root(package: dict[str, bytes]) -> None:
    assert sorted(package) == ["color.png", "manifest.json", "nl.json", "outline.png"]


def test_the_dutch_localisation_is_valid_and_complete(
    package: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    """Issue 15, item 8: ``localizationInfo`` names ``nl.json``, which passes the v1.30
    localization schema and translates the names, descriptions and every command."""
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en",
        "additionalLanguages": [{"languageTag": "nl", "file": "nl.json"}],
    }
    dutch = json.loads(package["nl.json"])
    schema = json.loads(schema_path(TEAMS_LOCALIZATION).read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    errors = list(Draft4Validator(schema).iter_errors(dutch))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]
    assert list(Draft4Validator(schema).iter_errors({**dutch, "unknown": 1}))  # it does check
    assert dutch["$schema"].endswith("/teams/v1.30/MicrosoftTeams.Localization.schema.json")
    assert {"name.short", "name.full", "description.short", "description.full"} <= set(dutch)
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    for n, _ in enumerate(commands):
        key = f"bots[0].commandLists[0].commands[{n}]"
        assert dutch[f"{key}.title"] and dutch[f"{key}.description"]
    assert "privé" in dutch["description.full"]


def test_manifest_is_valid_against_the_v1_30_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(schema_path(TEAMS_MANIFEST).read_text(encoding="utf-8"))
    # No check_schema(): one pattern in the schema uses \p{L}, which Python's re rejects.
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, "manifest.json does not match the schema:\n" + "\n".join(
        f"- {'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors
    )


def test_the_schema_catches_a_broken_manifest(manifest: dict[str, Any]) -> None:
    schema = json.loads(schema_path(TEAMS_MANIFEST).read_text(encoding="utf-8"))
    assert list(Draft4Validator(schema).iter_errors({**manifest, "unknown": 1}))


def test_manifest_identity_and_bot(manifest: dict[str, Any]) -> None:
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["$schema"].endswith("/teams/v1.30/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["description"]["short"]) <= 80
    assert "private" in manifest["description"]["full"]
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team"]  # a team: for the stories channel
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert sorted(manifest["permissions"]) == ["identity", "messageTeamMembers"]


def test_commands_cover_the_global_intents_within_teams_limits(manifest: dict[str, Any]) -> None:
    (commands,) = manifest["bots"][0]["commandLists"]
    assert commands["scopes"] == ["personal"]
    titles = [c["title"] for c in commands["commands"]]
    wanted = {"reflect", "experiment", "checkin", "plan", "profile", "privacy", "pause"}
    assert wanted | {"resume", "help", "my team"} <= set(titles)
    assert len(titles) == len(set(titles)) <= 12  # v1.30's most per list
    for command in commands["commands"]:
        assert 0 < len(command["title"]) <= 32
        assert 0 < len(command["description"]) <= 128


@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_command_is_what_a_person_types_for_its_intent(language: str) -> None:
    """A command Teams offers is sent as the message: in both languages it must start what it
    says (the managers' "my team" / "mijn team" included)."""
    intents = load_content().intents
    for command in COMMANDS:
        title = command.title if language == "en" else command.title_nl
        assert intents.get(normalise_keyword(title)) == command.intent, title


def test_color_icon_is_a_192_pixel_rgba_png(package: dict[str, bytes]) -> None:
    assert package["color.png"] == color_icon()
    width, height, colour, raw = _png(package["color.png"])
    assert (width, height, colour) == (192, 192, 6)
    pixels = _pixels(width, height, raw)
    assert pixels[0] == bytes.fromhex("2C5F6F") + b"\xff"  # accent colour background
    assert b"\xff\xff\xff\xff" in pixels  # with a white mark
    assert all(p[3] == 255 for p in pixels)


def test_outline_icon_is_white_on_transparent(package: dict[str, bytes]) -> None:
    assert package["outline.png"] == outline_icon()
    width, height, colour, raw = _png(package["outline.png"])
    assert (width, height, colour) == (32, 32, 6)
    pixels = _pixels(width, height, raw)
    white, clear = b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"
    assert {p for p in pixels if p[3] == 0} <= {clear}
    assert all(p in (white, clear) for p in pixels), "only opaque white or full transparency"
    assert 50 < pixels.count(white) < len(pixels) // 2


def test_write_package_into_a_directory(tmp_path: Path) -> None:
    written = write_package(PackageSettings(app_id=APP_ID, version="2.3.4"), tmp_path)
    assert written.parent == tmp_path and written.suffix == ".zip"
    with zipfile.ZipFile(written) as archive:
        assert json.loads(archive.read("manifest.json"))["version"] == "2.3.4"


@pytest.mark.parametrize(
    "changes",
    [
        {"app_id": "not-a-guid"},
        {"app_id": APP_ID + "0"},
        {"version": "1.0"},
        {"version": "v1.0.0"},
        {"version": "1.0.0-beta"},
        {"website_url": "http://example.com"},
        {"privacy_url": "http://example.com/privacy"},
        {"terms_url": "ftp://example.com/terms"},
        {"accent_color": "teal"},
    ],
)
def test_bad_settings_raise_package_error(tmp_path: Path, changes: dict[str, str]) -> None:
    settings = PackageSettings(**{"app_id": APP_ID, **changes})
    with pytest.raises(PackageError):
        build_manifest(settings)
    with pytest.raises(PackageError):
        write_package(settings, tmp_path / "bad.zip")
    assert not (tmp_path / "bad.zip").exists()
