"""How Regie is installed and shipped: the embedded default needs no optional extra, a missing
extra is one clear line, ``python -m regie`` works, and the container files point at real
paths."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_EXTRAS = (
    "import sys\n"
    "sys.modules['openai'] = None\n"  # None in sys.modules: `import openai` raises ImportError
    "sys.modules['psycopg'] = None\n"
    "from bot.cli import app\n"
    "app(prog_name='regie')\n"
)


def regie_without_extras(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    clean |= {"REGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'regie.db'}"} | env
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=120,
    )


def test_the_embedded_default_runs_without_the_postgres_and_ai_extras(tmp_path: Path) -> None:
    assert regie_without_extras(tmp_path, "init").returncode == 0
    assert regie_without_extras(tmp_path, "demo").returncode == 0
    chat = regie_without_extras(tmp_path, "chat", "--as", "alex@example.com", stdin="help\n")
    assert chat.returncode == 0, chat.stderr
    assert "Traceback" not in chat.stderr
    assert chat.stdout.strip()


def test_a_missing_extra_is_one_clear_line(tmp_path: Path) -> None:
    postgres = regie_without_extras(
        tmp_path, "init", REGIE_DATABASE_URL="postgresql://regie@127.0.0.1/regie"
    )
    assert postgres.returncode == 2
    assert postgres.stderr.strip().splitlines() == [
        "REGIE_DATABASE_URL=postgresql://regie@127.0.0.1/regie: "
        "PostgreSQL needs the postgres extra: pip install 'regie[postgres]'"
    ]
    ai = regie_without_extras(tmp_path, "init", REGIE_LLM="on", OPENAI_API_KEY="sk-test")
    assert ai.returncode == 2
    assert ai.stderr.strip().splitlines() == [
        "REGIE_LLM=on: AI assistance needs the ai extra: pip install 'regie[ai]'"
    ]


def test_python_dash_m_regie_is_the_regie_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "regie", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: regie" in result.stdout


def test_the_container_files_name_what_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in line.split():
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is missing"
    assert "-c constraints.txt" in dockerfile and "[postgres,ai]" in dockerfile
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    regie = compose["services"]["regie"]
    assert regie["build"] == "."
    assert regie["environment"]["REGIE_DATABASE_URL"].startswith("postgresql://")
    assert compose["services"]["db"]["image"].startswith("postgres:")


def test_every_package_is_typed_and_licensed() -> None:
    for package in ("bot", "dialogs", "storage"):
        assert (ROOT / package / "py.typed").exists()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_every_file_the_packages_read_is_shipped_in_the_wheel() -> None:
    """A template, stylesheet or content file added anywhere in bot/, dialogs/ or storage/ is
    covered by pyproject's package-data, or an installed Regie would lack it."""
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]
    missing = []
    for package, patterns in package_data.items():
        folder = ROOT / package
        shipped = {path for pattern in patterns for path in folder.glob(pattern)}
        for path in folder.rglob("*"):
            if path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            if path.is_file() and path not in shipped:
                missing.append(str(path.relative_to(ROOT)))
    assert sorted(package_data) == ["bot", "dialogs", "storage"]
    assert missing == []
