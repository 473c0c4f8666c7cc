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
