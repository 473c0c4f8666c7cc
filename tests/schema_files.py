"""Where the tests find third-party JSON Schemas.

The shared offline copy (``<project>/../shared/schemas/``) is preferred; outside this workplace
the project-local copy in ``tests/schemas/`` is used (see ``tests/schemas/README.md``).
"""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared" / "schemas"
LOCAL = PROJECT / "tests" / "schemas"

SLACK_MANIFEST_V2 = "slack-manifest/schemas/manifest.schema.2.0.0.json"
TEAMS_MANIFEST = "teams-manifest/v1.30/MicrosoftTeams.schema.json"
ADAPTIVE_CARD_1_5 = "adaptive-cards/1.5.0/adaptive-card.json"
BOTFRAMEWORK = "botframework/botframework.json"

# shared relative path -> local relative path
LOCAL_COPIES: dict[str, str] = {
    SLACK_MANIFEST_V2: "slack-manifest/manifest.schema.2.0.0.json",
    TEAMS_MANIFEST: "teams-manifest/MicrosoftTeams.schema.json",
    ADAPTIVE_CARD_1_5: "adaptive-cards/adaptive-card-1.5.json",
    BOTFRAMEWORK: "botframework/botframework.json",
}


def schema_path(relative: str) -> Path:
    """The shared copy of ``relative`` if it exists, else its project-local copy."""
    shared = SHARED / relative
    if shared.is_file():
        return shared
    return LOCAL / LOCAL_COPIES.get(relative, relative)
