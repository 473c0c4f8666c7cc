"""Campaign files: what `regie campaign validate` accepts, and every problem it reports with its
YAML path and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dialogs.campaigns.spec import CampaignFileError, load_file, parse

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """\
id: spring-week
name: {en: Spring week, nl: Voorjaarsweek}
owner: hr@example.com
start: 2027-03-01
steps:
  - id: kickoff
    day: 0
    time: "09:30"
    message: {en: "Hi {first_name}!", nl: "Hoi {first_name}!"}
    actions: [interested, not_for_me]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(CampaignFileError) as caught:
        parse(text)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", ["growth-week.yaml", "onboarding-buddy.yaml"])
def test_the_example_campaigns_are_valid_and_bilingual(name: str) -> None:
    spec = load_file(ROOT / "campaigns" / name)
    assert spec.steps
    for step in spec.steps:
        assert set(step.message) == {"en", "nl"}, step.id
    for workshop in spec.workshops:
        assert set(workshop.title) == {"en", "nl"}
        assert workshop.starts.tzinfo is not None


def test_a_minimal_file_reads_back() -> None:
    spec = parse(MINIMAL)
    assert spec.id == "spring-week"
    assert spec.start == date(2027, 3, 1)
    assert spec.audience.everyone
    assert spec.steps[0].actions == ("interested", "not_for_me")
    assert spec.text(spec.name, "nl") == "Voorjaarsweek"
    assert spec.text({"en": "Only English"}, "nl") == "Only English"  # falls back to default


def test_yaml_one_one_surprises_are_avoided() -> None:
    """An unquoted time stays a time, NO stays Norway, a date stays text for the schema."""
    text = MINIMAL.replace('time: "09:30"', "time: 11:00") + "audience:\n  countries: [NO, NL]\n"
    spec = parse(text)
    assert spec.steps[0].time == "11:00"
    assert spec.audience.countries == ("NO", "NL")


def test_every_problem_is_reported_with_path_and_line() -> None:
    text = """\
id: Spring Week
name: Spring
owner: not-an-email
start: 2027-02-30
colour: green
steps:
  - id: kickoff
    day: -1
    time: "9.30"
    message: Hi
    actions: [interested, dance]
"""
    found = problems(text)
    joined = "\n".join(found)
    assert "line 1, id:" in joined
    assert "line 3, owner:" in joined
    assert "line 4, start:" in joined
    assert "unknown field 'colour'" in joined
    assert "line 8, steps[0].day:" in joined
    assert "line 9, steps[0].time:" in joined
    assert "steps[0].actions[1]:" in joined and "dance" in joined
    assert len(found) >= 7


def test_meaning_is_checked_after_shape() -> None:
    text = """\
id: spring-week
name: {en: Spring week}
owner: hr@example.com
default_language: nl
start: 2027-03-01
workshops:
  - {id: talk, title: Talk, starts: "2027-03-02T10:00"}
  - {id: talk, title: Talk again, starts: "2027-03-02T11:00+01:00"}
steps:
  - id: kickoff
    day: 0
    message: "Hi {name}"
    rsvp: [talk, nope]
    actions: [experiment]
  - id: reminder
    day: 1
    message: "Still time"
    only: {not_responded: later}
  - id: kickoff
    day: 2
    message: "Again"
    experiment: "Shadow someone"
"""
    joined = "\n".join(problems(text))
    assert "workshops[0].starts: needs its UTC offset" in joined
    assert "workshops[1].id: workshop id 'talk' is used twice" in joined
    assert "steps[0].message: unknown placeholder {name} (allowed: {first_name})" in joined
    assert "steps[0].rsvp[1]: no workshop with id 'nope'" in joined
    assert "steps[0].actions: the experiment button needs an 'experiment' text" in joined
    assert "steps[1].only.not_responded: 'later' is not an earlier step" in joined
    assert "steps[2].id: step id 'kickoff' is used twice" in joined
    assert "steps[2].experiment: add 'experiment' to actions" in joined
    assert "name: has no 'nl' text (the campaign's default_language)" in joined


def test_a_reminder_needs_an_earlier_step_people_can_respond_to() -> None:
    text = MINIMAL.replace("    actions: [interested, not_for_me]\n", "") + (
        "  - id: again\n    day: 1\n    message: Again\n    only: {not_responded: kickoff}\n"
    )
    assert any("has no buttons" in p for p in problems(text))


def test_broken_yaml_and_unreadable_files_are_one_clear_problem(tmp_path: Path) -> None:
    assert problems("id: [unclosed\n")[0].startswith("line ")
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CampaignFileError, match="cannot read"):
        load_file(missing)
    assert problems("- just\n- a list\n") == [
        "(top): a campaign file holds a mapping (id: …, steps: …)"
    ]
