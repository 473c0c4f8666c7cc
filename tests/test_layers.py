"""The layer rules of docs/architecture.md, checked by import-linter's contracts in pyproject."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "storage")
CONTRACTS = (
    "dialogs and storage import no platform SDK",
    "Bot Framework code stays in bot/channels/teams",
    "Slack SDK code stays in bot/channels/slack",
    "the openai client stays in bot/llm.py",
    "aiohttp and APScheduler stay at the edges",
    "layers point downward",
    "dialogs/ is ordered: registry, campaigns, flows, nudges, engine",
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the project's contracts, on the packages found under ``root``."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), str(root / "pyproject.toml")],
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in CONTRACTS:
        assert f"{contract} KEPT" in result.stdout, contract


def test_a_new_module_is_covered_by_the_contracts_the_moment_it_exists(tmp_path: Path) -> None:
    """The contracts name whole packages, not lists of modules: a file nobody registered that
    breaks a rule fails the lint (and so `make test`)."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "bot" / "x.py").write_text("import slack_sdk\nimport botbuilder.core\n")
    (tmp_path / "bot" / "y.py").write_text("import openai\n")
    (tmp_path / "dialogs" / "engine" / "z.py").write_text("import dialogs.flows.menu\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    for broken in (
        "Slack SDK code stays in bot/channels/slack BROKEN",
        "Bot Framework code stays in bot/channels/teams BROKEN",
        "the openai client stays in bot/llm.py BROKEN",
        "dialogs/ is ordered: registry, campaigns, flows, nudges, engine BROKEN",
    ):
        assert broken in result.stdout, broken
    assert "bot.x -> slack_sdk" in result.stdout


def test_the_product_never_uses_botbuilder_dialogs() -> None:
    """Our dialogs are our own: botbuilder-dialogs is only the benchmark's baseline."""
    import tomllib

    for package in ("bot", "dialogs", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            assert "botbuilder.dialogs" not in path.read_text(encoding="utf-8"), path
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any("botbuilder-dialogs" in d for d in project["dependencies"])
