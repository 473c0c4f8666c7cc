"""Writing a campaign in the browser: start from a template (growth week, onboarding, pulse)
or an uploaded file, change the common fields in a form and the rest in its YAML, check it
(``dialogs.campaigns.spec.parse``, the validator of ``regie campaign validate``: every problem
with its path and line), see its audience, per-zone timing warnings and whether it needs a
second person, preview it, and launch it (``dialogs.campaigns.guardrails.submit``, as the CLI
and the chat do).

Nothing is stored before launching: the file travels with the form. A launch carries the
fingerprint of the version that was checked and previewed, and is refused if the file changed
since (as ``regie campaign launch --expect-hash``)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML, CommentedMap, YAMLError
from sqlmodel import Session

from bot.channels.registry import Reachability
from bot.config import Settings
from bot.wiring import policy
from dialogs.campaigns import guardrails
from dialogs.campaigns.launch import CampaignError, LaunchPlan, plan_launch
from dialogs.campaigns.messages import language_of
from dialogs.campaigns.spec import CampaignFileError, CampaignSpec, Problem, parse
from dialogs.campaigns.timing import late_lines, missed_lines
from dialogs.engine.content import Content
from storage.models import Person

TEMPLATES = {
    "growth-week": "growth-week.yaml",
    "onboarding": "onboarding-buddy.yaml",
    "pulse": "learning-pulse.yaml",
}
"""The templates HR starts from: the example files, read from the deployment's campaign folder
(``REGIE_CAMPAIGNS_DIR``, the folder HR's chat launches from; the container image and a
checkout have the examples there). A template whose file is not there is not offered."""
MAX_FILE = 256 * 1024
FIELDS = ("id", "name_en", "name_nl", "owner", "start", "departments", "countries")


def templates(folder: Path) -> list[str]:
    """The templates whose files are in ``folder``."""
    return [name for name, file in TEMPLATES.items() if (folder / file).is_file()]


def template(name: str, folder: Path) -> str | None:
    file = TEMPLATES.get(name)
    if file is None or not (folder / file).is_file():
        return None
    return (folder / file).read_text(encoding="utf-8")


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def common(text: str) -> dict[str, str]:
    """The form's fields as the file has them (empty where it cannot be read)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return dict.fromkeys(FIELDS, "")
    if not isinstance(data, dict):
        return dict.fromkeys(FIELDS, "")
    name = data.get("name")
    names = name if isinstance(name, dict) else {"en": name or "", "nl": ""}
    audience = data.get("audience")
    wanted = audience if isinstance(audience, dict) else {}
    return {
        "id": str(data.get("id", "") or ""),
        "name_en": str(names.get("en", "") or ""),
        "name_nl": str(names.get("nl", "") or ""),
        "owner": str(data.get("owner", "") or ""),
        "start": str(data.get("start", "") or ""),
        "departments": ", ".join(map(str, wanted.get("departments", []) or [])),
        "countries": ", ".join(map(str, wanted.get("countries", []) or [])),
    }


def _round_trip() -> YAML:
    """ruamel.yaml's round trip: a changed field is written into the file as it stands, so
    the author's comments, order, quoting and line breaks stay (PyYAML can only dump data)."""
    loader = YAML(typ="rt")
    loader.width = 100
    loader.preserve_quotes = True
    loader.indent(mapping=2, sequence=4, offset=2)
    return loader


def with_fields(text: str, form: dict[str, str]) -> str:
    """The file with the form's common fields in it. Unchanged fields leave the text exactly
    as it was; a changed one is written into the file where it stands, its comments and the
    rest of the text kept."""
    before = common(text)
    changed = {k: v.strip() for k, v in form.items() if k in FIELDS and v.strip() != before[k]}
    if not changed:
        return text
    loader = _round_trip()
    try:
        data = loader.load(text)
    except YAMLError:
        return text  # the check names the YAML problem; the fields wait for a readable file
    if not isinstance(data, CommentedMap):
        return text
    for key in ("id", "owner", "start"):
        if key in changed:
            data[key] = changed[key]
    if "name_en" in changed or "name_nl" in changed:
        current_names = data.get("name")
        names = current_names if isinstance(current_names, CommentedMap) else CommentedMap()
        for lang in ("en", "nl"):
            value = changed.get(f"name_{lang}", before[f"name_{lang}"])
            if value:
                names[lang] = value
            else:
                names.pop(lang, None)
        data["name"] = names
    if "departments" in changed or "countries" in changed:
        current_audience = data.get("audience")
        audience = (
            current_audience if isinstance(current_audience, CommentedMap) else CommentedMap()
        )
        for key in ("departments", "countries"):
            values = _listed(changed.get(key, before[key]))
            if values:
                audience[key] = values
            else:
                audience.pop(key, None)
        if not isinstance(current_audience, CommentedMap):
            audience.fa.set_flow_style()  # on the line of the scalar it replaces: comments stay
        data["audience"] = audience or "everyone"
    out = io.StringIO()
    loader.dump(data, out)
    return out.getvalue()


@dataclass
class Checked:
    """A file as checked: its problems, or its audience and what to know before launching."""

    text: str
    problems: list[Problem] = field(default_factory=list)
    spec: CampaignSpec | None = None
    plan: LaunchPlan | None = None
    audience: int = 0
    by_language: list[tuple[str, str, int]] = field(default_factory=list)
    """(language, channel, people)."""
    unreachable: int = 0
    choices: tuple[str, str] = ("", "")
    """Opted out, paused: under the ``<K`` rule."""
    timing: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    needs_approval: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [
                {"path": p.path or "(top)", "line": p.line, "message": p.message}
                for p in self.problems
            ],
            "audience": self.audience if self.ok else None,
            "timing": self.timing + self.missed,
            "needs_approval": self.needs_approval,
            "fingerprint": self.spec.hash if self.spec is not None else "",
        }


def check(
    db: Session,
    settings: Settings,
    text: str,
    author: Person,
    *,
    now: datetime,
    content: Content,
    lang: str,
) -> Checked:
    """What ``regie campaign validate`` and ``launch --dry-run`` would say (no writes); the
    timing notes in ``lang``, the language of the author reading them."""
    checked = Checked(text)
    if len(text.encode()) > MAX_FILE:
        checked.problems = [Problem("", f"the file is over {MAX_FILE // 1024} KB")]
        return checked
    try:
        spec = parse(text)
    except CampaignFileError as error:
        checked.problems = list(error.problems)
        return checked
    checked.spec = spec
    try:
        plan = plan_launch(db, spec, now=now)
        guardrails.owner_of(db, plan)
        checked.needs_approval = guardrails.reasons(
            db, plan, author, approval_over=settings.campaign_approval_over
        )
    except CampaignError as error:
        checked.problems = [Problem("", str(error))]
        return checked
    checked.plan = plan
    checked.audience = plan.reaching
    checked.choices = plan.choices(settings.min_group_size)
    reach = Reachability.load(db, settings)
    counts: dict[tuple[str, str], int] = {}
    for person in plan.recipients:
        channel, reason = reach.of(person)
        key = (language_of(spec, person), channel)
        counts[key] = counts.get(key, 0) + 1
        checked.unreachable += bool(reason)
    checked.by_language = [(lang, ch, n) for (lang, ch), n in sorted(counts.items())]
    rules = policy(settings)
    checked.timing = late_lines(
        spec, plan.recipients, policy=rules, now=now, content=content, lang=lang
    )
    checked.missed = missed_lines(
        spec, plan.recipients, policy=rules, now=now, content=content, lang=lang
    )
    return checked
