"""The layer rules of docs/architecture.md, checked by import-linter's contracts in pyproject."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dialogs_and_storage_import_no_platform_sdk_and_layers_point_down() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dialogs and storage import no platform SDK KEPT" in result.stdout
    assert "layers point downward KEPT" in result.stdout
    assert "Bot Framework code stays in bot/channels/teams KEPT" in result.stdout
    assert "Slack SDK code stays in bot/channels/slack KEPT" in result.stdout
    assert "the openai client stays in bot/llm.py KEPT" in result.stdout


def test_the_product_never_uses_botbuilder_dialogs() -> None:
    """Our dialogs are our own: botbuilder-dialogs is only the benchmark's baseline."""
    import tomllib

    for package in ("bot", "dialogs", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            assert "botbuilder.dialogs" not in path.read_text(encoding="utf-8"), path
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any("botbuilder-dialogs" in d for d in project["dependencies"])
