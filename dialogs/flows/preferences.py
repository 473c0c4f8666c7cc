"""Language, time zone and nudge rhythm: asked in the welcome, changeable under settings."""

from __future__ import annotations

import unicodedata
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import yaml

from dialogs.engine.content import CONTENT_DIR, LANGUAGES
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry
from dialogs.engine.text import normalise_keyword
from dialogs.flows.common import ask_choice, ask_confirm, ask_text, labelled
from storage.campaigns import drop_unsent
from storage.people import manages_anyone, set_preferences

NUDGE_FREQUENCIES = ("weekly", "biweekly", "monthly", "off")


@cache
def _zones() -> dict[str, str]:
    """Lookup by full IANA name or by city ("amsterdam", "new york"), case-insensitive."""
    zones: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        zones.setdefault(normalise_keyword(name.split("/")[-1]), name)
    for name in available_timezones():
        zones[normalise_keyword(name)] = name
    return zones


def _place_key(text: str) -> str:
    """How place names are compared: as keywords, and without accents (Zürich, Curaçao)."""
    decomposed = unicodedata.normalize("NFKD", normalise_keyword(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _load_places() -> dict[str, str]:
    with (CONTENT_DIR / "places.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {_place_key(str(name)): str(zone) for name, zone in data["places"].items()}


PLACE_NAMES: dict[str, str] = _load_places()
"""Place names that are no zone's city, Dutch ones first of all ("Londen", "Den Haag"), from
``dialogs/content/places.yaml``."""


def find_timezone(text: str) -> str | None:
    """A zone by its full name, its city (in English, as in the zone name) or a place name
    from the table (in Dutch, or a city without a zone of its own)."""
    zones, key = _zones(), _place_key(text)
    return zones.get(normalise_keyword(text)) or zones.get(key) or PLACE_NAMES.get(key)


def add_preference_steps(dialog: Dialog, *, after: dict[str, str]) -> None:
    """Register the steps on ``dialog``; ``after[step]`` names the step that follows each."""

    def language(ctx: Ctx) -> Next:
        if not ctx.answered:
            options = [(lang, ctx.t(f"preferences.language_names.{lang}")) for lang in LANGUAGES]
            return ask_choice(ctx, "preferences.language", options)
        set_preferences(ctx.db, ctx.person, language=str(ctx.answer))
        ctx.say("preferences.language_set")
        return Goto(after["language"])

    def timezone(ctx: Ctx) -> Next:
        if not ctx.answered:
            # The clock is said, not asked: a question shown again later must not be stale.
            local = ctx.now.astimezone(ZoneInfo(ctx.person.timezone)).strftime("%H:%M")
            ctx.say("preferences.timezone_clock", time=local)
            return ask_confirm(ctx, "preferences.timezone", zone=ctx.person.timezone)
        return Goto(after["timezone"] if ctx.answer else "timezone_ask")

    def timezone_ask(ctx: Ctx) -> Next:
        if not ctx.answered:
            return ask_text(ctx, "preferences.timezone_ask", max_chars=64)
        zone = find_timezone(str(ctx.answer))
        if zone is None:
            return Retry(ctx.t("preferences.timezone_unknown"))
        set_preferences(ctx.db, ctx.person, timezone=zone)
        local = ctx.now.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        ctx.say("preferences.timezone_set", zone=zone, time=local)
        return Goto(after["timezone"])

    def nudges(ctx: Ctx) -> Next:
        if not ctx.answered:
            options = labelled(ctx, "preferences.frequencies", NUDGE_FREQUENCIES)
            return ask_choice(ctx, "preferences.nudges", options)
        set_preferences(ctx.db, ctx.person, nudge_frequency=str(ctx.answer))
        ctx.say(f"preferences.nudges_set.{ctx.answer}")
        return Goto(after["nudges"])

    dialog.add("language", language)
    dialog.add("timezone", timezone)
    dialog.add("timezone_ask", timezone_ask)
    dialog.add("nudges", nudges)


NUDGE_TIMES = ("08:30", "09:30", "11:00", "13:30", "16:00")

settings = Dialog("settings", version=3, first="overview", title="settings.title")
add_preference_steps(
    settings, after={"language": "overview", "timezone": "overview", "nudges": "overview"}
)


@settings.step("weekday")
def weekday(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = [("any", ctx.t("settings.any_day"))] + [
            (str(n), ctx.t(f"settings.weekdays.d{n}")) for n in range(5)
        ]
        return ask_choice(ctx, "settings.ask_weekday", options)
    ctx.person.nudge_weekday = None if ctx.answer == "any" else int(ctx.answer)
    ctx.db.add(ctx.person)
    return Goto("time")


@settings.step("time")
def time_of_day(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_choice(ctx, "settings.ask_time", [(t, t) for t in NUDGE_TIMES])
    ctx.person.nudge_time = str(ctx.answer)
    ctx.db.add(ctx.person)
    ctx.say("settings.when_set", when=_when(ctx))
    return Goto("overview")


@settings.step("campaigns")
def campaigns(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "settings.campaigns_choices", ("on", "off"))
        return ask_choice(ctx, "settings.ask_campaigns", options)
    ctx.person.campaigns_opt_out = ctx.answer == "off"
    ctx.db.add(ctx.person)
    if ctx.person.campaigns_opt_out and ctx.person.id is not None:
        drop_unsent(ctx.db, reason="opted out of campaigns", person_id=ctx.person.id)
    ctx.say(f"settings.campaigns_set.{ctx.answer}")
    return Goto("overview")


@settings.step("digest")
def digest_rhythm(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "settings.digest_cadences", ("weekly", "biweekly", "monthly"))
        return ask_choice(ctx, "settings.ask_digest", options)
    ctx.person.digest_cadence = str(ctx.answer)
    ctx.db.add(ctx.person)
    ctx.say("settings.digest_set", cadence=ctx.t(f"settings.digest_cadences.{ctx.answer}"))
    return Goto("overview")


def _manages(ctx: Ctx) -> bool:
    assert ctx.person.id is not None
    return manages_anyone(ctx.db, ctx.person.id)


def _when(ctx: Ctx) -> str:
    day = ctx.person.nudge_weekday
    days = ctx.t("settings.any_day") if day is None else ctx.t(f"settings.weekdays.d{day}")
    return f"{days}, {ctx.person.nudge_time or ctx.settings.nudge_time}"


@settings.step("overview")
def overview(ctx: Ctx) -> Next:
    if not ctx.answered:
        frequency = ctx.t(f"preferences.frequencies.{ctx.person.nudge_frequency}")
        actions: tuple[str, ...] = ("language", "timezone", "nudges", "weekday", "campaigns")
        if _manages(ctx):
            actions += ("digest",)
        actions += ("done",)
        options = labelled(ctx, "settings.options", actions)
        return ask_choice(
            ctx,
            "settings.question",
            options,
            language=ctx.t(f"preferences.language_names.{ctx.person.language}"),
            zone=ctx.person.timezone,
            frequency=frequency,
            when=_when(ctx),
            campaigns=ctx.t(
                "settings.campaigns_off"
                if ctx.person.campaigns_opt_out
                else "settings.campaigns_on"
            ),
        )
    if ctx.answer == "done":
        ctx.say("settings.bye")
        return End()
    return Goto(str(ctx.answer))
