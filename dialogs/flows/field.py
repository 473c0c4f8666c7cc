"""Know, Flow, Glow, Grow: place yourself on the field, then someone else (your manager or your
team), with a note on what is behind the difference; a few months later, a look back: does it
work in practice? (From the seeds: the Go Grow game, where the talk starts with the gap between
where you put yourself and where you put the other, and outcomes are checked after a few
months.)

Each place and the note are the person's own :class:`~storage.models.Answer` rows (dialog
``field``, question ids in :mod:`dialogs.nudges.field_followups`), private unless shared with
the one-tap offer, so export, deletion, sharing and the privacy centre cover them as they are.
Opened at least four weeks after the last placement (by its nudge, about three months on, or
by the word), the conversation starts with the look back.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from dialogs.engine.content import FRAMES
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.flows.common import ask_choice, ask_confirm, ask_text, format_date, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from dialogs.nudges.field_followups import (
    FIELD_DIALOG,
    LOOK_BACK_AFTER_DAYS,
    MANAGER,
    NOTE,
    PRACTICE,
    SELF,
    TEAM,
    Placement,
    latest_placements,
    placed_with,
)
from storage.items import own, owned_by
from storage.models import Answer, Person
from storage.people import first_name

field = Dialog(FIELD_DIALOG, version=1, first="start", title="field.title")
add_share_step(field, then="after_share")

OTHERS = {"manager": MANAGER, "team": TEAM}
"""Whom someone may place besides themselves, and the question id of that place."""
LOOK_BACK_WITHIN = timedelta(days=366)
"""A placement older than this is not looked back on any more; the field starts afresh."""


def _due_look_back(ctx: Ctx) -> Placement | None:
    """The last placement, when it is old enough to look back on and that has not happened
    yet."""
    assert ctx.person.id is not None
    found = latest_placements(
        ctx.db, since=ctx.now - LOOK_BACK_WITHIN, person_id=ctx.person.id
    ).get(ctx.person.id)
    if found is None or found.looked_back:
        return None
    if ctx.now - found.at < timedelta(days=LOOK_BACK_AFTER_DAYS):
        return None
    return found


def _frames(ctx: Ctx) -> list[tuple[str, str]]:
    return labelled(ctx, "field.frames", FRAMES)


def _frame(ctx: Ctx, frame: str) -> str:
    return ctx.t(f"field.frames.{frame}") if frame in FRAMES else frame


def _whom(ctx: Ctx, who: str) -> str:
    """The other as a sentence names them: the manager's first name, or "your team"."""
    if who == "team":
        return ctx.t("field.your_team")
    manager = ctx.db.get(Person, ctx.person.manager_id) if ctx.person.manager_id else None
    return first_name(manager.name) if manager is not None else ctx.t("field.your_manager")


def _save(ctx: Ctx, question_id: str, text: str, frame: str | None = None) -> None:
    answer = Answer(
        **owned_by(ctx.person, now=ctx.now),
        dialog_id=field.id,
        question_id=question_id,
        frame=frame,
        text=text,
    )
    ctx.db.add(answer)
    remember_saved(ctx, answer)


@field.step("start")
def start(ctx: Ctx) -> Next:
    placement = _due_look_back(ctx)
    if placement is None:
        return Goto("self")
    ctx.values["placement"] = placement.answer_id
    return Goto("look_back")


@field.step("self")
def place_self(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_choice(ctx, "field.ask_self", _frames(ctx))
    ctx.values.update(mine=str(ctx.answer), who=None, theirs=None)
    return Goto("who")


@field.step("who")
def who(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "field.who", (*OTHERS, "nobody"))
        return ask_choice(ctx, "field.ask_who", options)
    if ctx.answer not in OTHERS:
        return Goto("note")
    ctx.values["who"] = str(ctx.answer)
    return Goto("other")


@field.step("other")
def other(ctx: Ctx) -> Next:
    if not ctx.answered:
        if ctx.values["who"] == "team":
            return ask_choice(ctx, "field.ask_team", _frames(ctx))
        return ask_choice(ctx, "field.ask_manager", _frames(ctx), manager=_whom(ctx, "manager"))
    ctx.values["theirs"] = str(ctx.answer)
    return Goto("note")


@field.step("note")
def note(ctx: Ctx) -> Next:
    mine, who, theirs = ctx.values["mine"], ctx.values.get("who"), ctx.values.get("theirs")
    if not ctx.answered:
        if who is None or theirs is None:
            key = "field.ask_alone"
        else:
            key = "field.ask_same" if theirs == mine else "field.ask_gap"
        return ask_text(
            ctx,
            key,
            skippable=True,
            long=True,
            mine=_frame(ctx, mine),
            theirs=_frame(ctx, theirs or ""),
            whom=_whom(ctx, who or "manager"),
        )
    _save(ctx, SELF, ctx.t("field.rows.self", frame=_frame(ctx, mine)), frame=mine)
    if who is not None and theirs is not None:
        text = ctx.t(f"field.rows.{who}", frame=_frame(ctx, theirs))
        _save(ctx, OTHERS[who], text, frame=theirs)
    if ctx.answer is not None:
        _save(ctx, NOTE, str(ctx.answer))
    ctx.say("field.saved")
    ctx.values["after"] = "end"
    return Goto("share")


@field.step("look_back")
def look_back(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    placement = own(ctx.db, Answer, ctx.person.id, int(ctx.values["placement"]))
    if placement is None:  # deleted in the privacy centre meanwhile
        return Goto("self")
    if not ctx.answered:
        local = placement.created_at.astimezone(ZoneInfo(ctx.person.timezone))
        when = format_date(ctx, local.date())
        mine = _frame(ctx, placement.frame or "")
        others = [
            a
            for a in placed_with(ctx.db, placement)
            if a.question_id in OTHERS.values() and a.frame is not None
        ]
        if others:
            who = "team" if others[0].question_id == TEAM else "manager"
            theirs = _frame(ctx, others[0].frame or "")
            whom = _whom(ctx, who)
            ctx.say("field.look_back_other", date=when, mine=mine, whom=whom, theirs=theirs)
        else:
            ctx.say("field.look_back", date=when, mine=mine)
        options = labelled(ctx, "field.practice", ("well", "partly", "not_yet"))
        return ask_choice(ctx, "field.ask_practice", options)
    ctx.values["how"] = str(ctx.answer)
    return Goto("practice_note")


@field.step("practice_note")
def practice_note(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "field.ask_practice_note", skippable=True, long=True)
    how = ctx.t(f"field.practice.{ctx.values['how']}")
    text = ctx.t("field.rows.practice", how=how, note=str(ctx.answer)) if ctx.answer else how
    _save(ctx, PRACTICE, text)
    ctx.say("field.practice_thanks")
    ctx.values["after"] = "again"
    return Goto("share")


@field.step("after_share")
def after_share(ctx: Ctx) -> Next:
    return Goto("again") if ctx.values.get("after") == "again" else End()


@field.step("again")
def again(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_confirm(ctx, "field.ask_again")
    if ctx.answer:
        return Goto("self")
    ctx.say("field.bye")
    return End()
