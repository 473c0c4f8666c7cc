"""Growth conversations ("growth conversation" / "groeigesprek"): regular talks with the
manager about development, distinct from appraisal (storage: :mod:`storage.conversations`).

The employee's side: set the date (or move or cancel it: the manager is told); prepare in
three short questions, picking items they already shared to bring along; see the agenda exactly
as the manager will, then bring it or keep it to themselves. After the date: note one
agreement, which becomes their plan item (private by default, with the one-tap share offer),
and set the next date. Either side may set a rhythm (every 1, 2, 3 or 6 months): after each
conversation the next date is then proposed from it, to confirm or change.
When the manager noted an agreement, the employee sees it first and decides whether it joins
their plan: nothing lands in someone's plan without their say.

The manager's side ("team growth", the team dialog's button, their nudges): per direct
report, set, move or cancel the date (the employee is told), read the agenda the employee
brought (guarded and audited) with a few starters, afterwards note one agreement (and, with a
rhythm, confirm the next date), or set the rhythm.
"""

from __future__ import annotations

from datetime import date, timedelta

from dialogs.engine.calendar import is_working_day
from dialogs.engine.content import Content
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry
from dialogs.engine.text import shorten
from dialogs.flows.common import (
    ask_choice,
    ask_confirm,
    ask_date,
    ask_text,
    format_date,
    labelled,
)
from dialogs.flows.sharing import add_share_step, remember_saved
from dialogs.nudges.calm import CalmPolicy, calm
from dialogs.nudges.growth import PREP_DAYS, changed, rhythm_notice
from dialogs.nudges.manager_view import render_shared
from storage import conversations as talks
from storage.conversations import MAX_BROUGHT, RHYTHMS, Agenda, item_ref
from storage.items import owned_by
from storage.models import (
    CheckIn,
    ConversationSide,
    GrowthConversation,
    Person,
    PlanItem,
    PlanKind,
    SharedItem,
    table_name,
)
from storage.outbox import OutboxMessage, enqueue_many
from storage.people import direct_reports, first_name

growth = Dialog("growth", version=1, first="start", title="growth.title")
add_share_step(growth, then="next_date")

MANAGER = "manager"
"""``side`` of a start from the manager's side (``team_growth``, the team dialog)."""
MAX_TEXT = 500


def _manager_of(ctx: Ctx) -> Person | None:
    return ctx.db.get(Person, ctx.person.manager_id) if ctx.person.manager_id else None


def _conversation(ctx: Ctx) -> GrowthConversation | None:
    """The conversation this dialog is about, if the person is still one of its two sides."""
    found = ctx.db.get(GrowthConversation, int(ctx.values.get("conversation", 0)))
    if found is None or ctx.person.id not in (found.person_id, found.manager_id):
        return None
    return found


def _report(ctx: Ctx) -> Person | None:
    """The direct report the manager chose (checked again at every step)."""
    assert ctx.person.id is not None
    wanted = int(ctx.values.get("report", 0))
    return next((p for p in direct_reports(ctx.db, ctx.person.id) if p.id == wanted), None)


def _when(ctx: Ctx, value: date) -> str:
    return format_date(ctx, value)


def _employee(ctx: Ctx) -> Person | None:
    """Whose conversations these are: the direct report a manager chose, or the person."""
    return _report(ctx) if "report" in ctx.values else ctx.person


def _proposal(ctx: Ctx, employee: Person) -> date | None:
    """The next date the employee's rhythm proposes, on a working day."""
    day = talks.rhythm_date(ctx.db, employee, today=ctx.today)
    if day is None:
        return None
    while not is_working_day(day, employee.country or ctx.settings.policy.country):
        day += timedelta(days=1)
    return day


def _tell(ctx: Ctx, messages: list[OutboxMessage]) -> None:
    """To the other side, through calm, in this turn's transaction."""
    policy = CalmPolicy(nudges=ctx.settings.policy)
    enqueue_many(ctx.db, calm(ctx.db, messages, ctx.now, policy, content=ctx.content))


@growth.step("start")
def start(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    reports = direct_reports(ctx.db, ctx.person.id)
    if ctx.values.get("side") == MANAGER or (reports and _manager_of(ctx) is None):
        return Goto("team_pick")
    if _manager_of(ctx) is None:
        ctx.say("growth.no_manager")
        return End()
    return Goto("overview")


# -- the employee's side -----------------------------------------------------------------------


@growth.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    manager = _manager_of(ctx)
    if manager is None:
        ctx.say("growth.no_manager")
        return End()
    other = first_name(manager.name)
    if not ctx.answered:
        note = talks.pending_note(ctx.db, ctx.person.id)
        if note is not None:
            ctx.values["conversation"] = note.id
            return Goto("manager_note")
        found = talks.current(
            ctx.db, ctx.person.id, today=ctx.today, side=ConversationSide.EMPLOYEE
        )
        if found is None:
            return Goto("plan_date")
        ctx.values["conversation"] = found.id
        if found.planned_for <= ctx.today:
            return Goto("agreement")
        state = "prepared" if found.prepared_at else "not_prepared"
        if found.agenda_shared_at:
            state = "brought"
        ctx.say("growth.next", other=other, date=_when(ctx, found.planned_for))
        ctx.say(f"growth.prep_state.{state}", other=other)
        actions = ["prepare", "move", "cancel", "rhythm", "done"]
        return ask_choice(ctx, "growth.what_now", labelled(ctx, "growth.actions", actions))
    if ctx.answer == "done":
        ctx.say("growth.bye")
        return End()
    return Goto({"prepare": "topics"}.get(str(ctx.answer), str(ctx.answer)))


@growth.step("plan_date")
def plan_date(ctx: Ctx) -> Next:
    manager = _manager_of(ctx)
    if manager is None:
        return Goto("overview")
    other = first_name(manager.name)
    if not ctx.answered:
        if not ctx.values.get("own_date") and _proposal(ctx, ctx.person) is not None:
            return Goto("propose")
        if not ctx.values.get("own_date"):
            ctx.say("growth.intro", other=other)
        return ask_date(ctx, "growth.ask_date", skippable=True, other=other)
    if not ctx.answer:
        ctx.say("growth.later")
        return End()
    planned_for = date.fromisoformat(ctx.answer)
    if planned_for < ctx.today:
        return Retry(ctx.t("growth.date_in_past"))
    found = talks.plan(
        ctx.db,
        employee=ctx.person,
        planned_for=planned_for,
        set_by=ConversationSide.EMPLOYEE,
        now=ctx.now,
    )
    ctx.values["conversation"] = found.id
    ctx.say("growth.planned", other=other, date=_when(ctx, planned_for))
    return Goto("prep_now")


@growth.step("prep_now")
def prep_now(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "growth.prep_when", ("now", "later"))
        return ask_choice(ctx, "growth.ask_prep_now", options, count=PREP_DAYS)
    if ctx.answer == "now":
        return Goto("topics")
    ctx.say("growth.prep_later", count=PREP_DAYS)
    return End()


def _ask_prep(ctx: Ctx, field: str, next_step: str) -> Next:
    found = _conversation(ctx)
    if found is None or found.person_id != ctx.person.id:
        return Goto("overview")
    if not ctx.answered:
        manager = _manager_of(ctx)
        other = first_name(manager.name) if manager else ""
        return ask_text(ctx, f"growth.ask.{field}", skippable=True, max_chars=MAX_TEXT, other=other)
    ctx.values[field] = str(ctx.answer or "")
    return Goto(next_step)


@growth.step("topics")
def topics(ctx: Ctx) -> Next:
    if not ctx.answered:
        ctx.say("growth.prep_intro")
    return _ask_prep(ctx, "topics", "went_well")


@growth.step("went_well")
def went_well(ctx: Ctx) -> Next:
    return _ask_prep(ctx, "went_well", "needs")


@growth.step("needs")
def needs(ctx: Ctx) -> Next:
    return _ask_prep(ctx, "needs", "bring")


def _label(ctx: Ctx, item: SharedItem) -> str:
    table = table_name(type(item))
    if isinstance(item, CheckIn):
        text = ctx.t("privacy.check_in_label", energy=item.energy)
    else:
        text = next(str(getattr(item, f)) for f in ("title", "text") if getattr(item, f, None))
    return shorten(f"{ctx.t(f'privacy.kinds.{table}')}: {text}", 60)


@growth.step("bring")
def bring(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    chosen: list[str] = list(ctx.values.get("brought", []))
    if not ctx.answered:
        candidates = [
            item for item in talks.bringable(ctx.db, ctx.person.id) if item_ref(item) not in chosen
        ]
        if not candidates or len(chosen) >= MAX_BROUGHT:
            return Goto("bring_preview")
        options = [(item_ref(item), _label(ctx, item)) for item in candidates]
        enough = "growth.bring_enough" if chosen else "growth.bring_none"
        key = "growth.ask_bring_more" if chosen else "growth.ask_bring"
        return ask_choice(ctx, key, [*options, ("enough", ctx.t(enough))])
    if ctx.answer == "enough":
        return Goto("bring_preview")
    ctx.values["brought"] = [*chosen, str(ctx.answer)]
    return Goto("bring")


def agenda_text(content: Content, agenda: Agenda, employee: Person, lang: str) -> str:
    """The agenda as the manager reads it, in ``lang`` (chat and the web's "My team")."""

    def t(key: str, **values: object) -> str:
        return content.text(lang, key, **values)

    when = content.date(lang, agenda.conversation.planned_for)
    lines = [t("growth.agenda.heading", name=employee.name, date=when)]
    for field in ("topics", "went_well", "needs"):
        text = getattr(agenda, field)
        if text:
            lines.append(t(f"growth.agenda.{field}", text=shorten(text, MAX_TEXT)))
    if agenda.items:
        lines.append(render_shared(content, lang, employee, agenda.items))
    return "\n".join(lines)


@growth.step("bring_preview")
def bring_preview(ctx: Ctx) -> Next:
    found = _conversation(ctx)
    manager = _manager_of(ctx)
    if found is None or manager is None or found.person_id != ctx.person.id:
        return Goto("overview")
    other = first_name(manager.name)
    if not ctx.answered:
        found.topics = ctx.values.get("topics", "")
        found.went_well = ctx.values.get("went_well", "")
        found.needs = ctx.values.get("needs", "")
        found.brought = list(ctx.values.get("brought", []))
        found.prepared_at = found.updated_at = ctx.now
        ctx.db.add(found)
        agenda = talks.agenda_of(ctx.db, found)
        if not agenda:
            found.agenda_shared_at = None
            ctx.say("growth.prep_empty", other=other)
            return End()
        preview = agenda_text(ctx.content, agenda, ctx.person, ctx.lang)
        ctx.say("growth.preview", other=other)
        ctx.say_text(preview)
        options = [
            ("bring", ctx.t("growth.bring_it", other=other)),
            ("keep", ctx.t("growth.keep_it")),
        ]
        return ask_choice(ctx, "growth.ask_bring_it", options, other=other)
    if ctx.answer == "bring":
        found.agenda_shared_at = ctx.now
        ctx.say("growth.brought", other=other)
    else:
        found.agenda_shared_at = None
        ctx.say("growth.kept", other=other)
    ctx.db.add(found)
    return End()


@growth.step("move")
def move(ctx: Ctx) -> Next:
    found = _conversation(ctx)
    if found is None:
        return End()
    if not ctx.answered:
        return ask_date(ctx, "growth.ask_new_date", old=_when(ctx, found.planned_for))
    planned_for = date.fromisoformat(ctx.answer)
    if planned_for < ctx.today:
        return Retry(ctx.t("growth.date_in_past"))
    old_date = found.planned_for
    if planned_for == old_date:
        ctx.say("growth.not_moved", date=_when(ctx, planned_for))
        return End()
    talks.move(found, planned_for, now=ctx.now)
    ctx.db.add(found)
    _tell_change(ctx, found, old_date)
    ctx.say("growth.moved", date=_when(ctx, planned_for))
    return End()


def _tell_change(ctx: Ctx, found: GrowthConversation, old_date: date) -> None:
    policy = ctx.settings.policy
    _tell(
        ctx,
        changed(
            ctx.db, ctx.content, found, by=ctx.person, old_date=old_date, now=ctx.now, policy=policy
        ),
    )


@growth.step("cancel")
def cancel(ctx: Ctx) -> Next:
    found = _conversation(ctx)
    if found is None:
        return End()
    if not ctx.answered:
        return ask_confirm(ctx, "growth.ask_cancel", date=_when(ctx, found.planned_for))
    if ctx.answer:
        talks.cancel(found, now=ctx.now)
        ctx.db.add(found)
        _tell_change(ctx, found, found.planned_for)
        ctx.say("growth.cancelled")
    else:
        ctx.say("growth.not_cancelled")
    return End()


@growth.step("agreement")
def agreement(ctx: Ctx) -> Next:
    found = _conversation(ctx)
    manager = _manager_of(ctx)
    if found is None or found.person_id != ctx.person.id:
        return Goto("overview")
    other = first_name(manager.name) if manager else ""
    if not ctx.answered:
        return ask_text(
            ctx,
            "growth.ask_agreement",
            skippable=True,
            max_chars=300,
            other=other,
            date=_when(ctx, found.planned_for),
        )
    found.updated_at = ctx.now
    if not ctx.answer:
        found.employee_agreement = ""
        ctx.db.add(found)
        ctx.say("growth.no_agreement")
        return Goto("next_date")
    found.employee_agreement = str(ctx.answer)
    ctx.db.add(found)
    _to_plan(ctx, str(ctx.answer))
    return Goto("share")


def _to_plan(ctx: Ctx, title: str) -> None:
    item = PlanItem(
        **owned_by(ctx.person, now=ctx.now), kind=PlanKind.PERSONAL, title=shorten(title, 300)
    )
    ctx.db.add(item)
    remember_saved(ctx, item)
    ctx.say("growth.in_plan", title=item.title)


@growth.step("manager_note")
def manager_note(ctx: Ctx) -> Next:
    found = _conversation(ctx)
    if found is None or found.person_id != ctx.person.id or not found.manager_note:
        return Goto("overview")
    manager = ctx.db.get(Person, found.manager_id) if found.manager_id else None
    other = first_name(manager.name) if manager else ctx.t("growth.your_manager")
    if not ctx.answered:
        ctx.say(
            "growth.note_from",
            other=other,
            date=_when(ctx, found.planned_for),
            text=found.manager_note,
        )
        options = labelled(ctx, "growth.note_choices", ("add", "no", "later"))
        return ask_choice(ctx, "growth.ask_note", options)
    if ctx.answer == "later":
        ctx.say("growth.note_later")
        return End()
    found.manager_note_added = ctx.answer == "add"
    found.updated_at = ctx.now
    ctx.db.add(found)
    if ctx.answer == "add":
        _to_plan(ctx, found.manager_note)
        return Goto("share")
    ctx.say("growth.note_declined", other=other)
    return Goto("overview")


@growth.step("next_date")
def next_date(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    manager = _manager_of(ctx)
    if manager is None or talks.upcoming(ctx.db, ctx.person.id, today=ctx.today) is not None:
        return End()
    return Goto("plan_date")


# -- the rhythm (either side) ----------------------------------------------------------------


@growth.step("rhythm")
def rhythm(ctx: Ctx) -> Next:
    """Every 1, 2, 3 or 6 months, or none: the employee's or, for a manager, the report's."""
    employee = _employee(ctx)
    manager = _manager_of(ctx) if employee is ctx.person else ctx.person
    if employee is None or employee.id is None or manager is None:
        return Goto("team_pick" if "report" in ctx.values else "overview")
    other = first_name((manager if employee is ctx.person else employee).name)
    if not ctx.answered:
        months = employee.growth_rhythm_months
        if months:
            ctx.say("growth.rhythm.now", count=months)
        options = [(str(n), ctx.t("growth.rhythm.every", count=n)) for n in RHYTHMS]
        options.append(("0", ctx.t("growth.rhythm.none")))
        return ask_choice(ctx, "growth.rhythm.ask", options, other=other)
    months = int(ctx.answer) or None
    if months == employee.growth_rhythm_months:
        ctx.say("growth.rhythm.unchanged")
        return End()
    employee.growth_rhythm_months = months
    ctx.db.add(employee)
    to = manager if employee is ctx.person else employee
    told = rhythm_notice(
        ctx.content,
        to=to,
        by=ctx.person,
        employee=employee,
        now=ctx.now,
        policy=ctx.settings.policy,
    )
    _tell(ctx, [told] if told is not None else [])
    if months is None:
        ctx.say("growth.rhythm.stopped", other=other)
        return End()
    ctx.say("growth.rhythm.set", count=months, other=other)
    if talks.upcoming(ctx.db, employee.id, today=ctx.today) is None:
        return Goto("propose")
    return End()


@growth.step("propose")
def propose(ctx: Ctx) -> Next:
    """The next date from the rhythm, to confirm or change (either side)."""
    employee = _employee(ctx)
    on_team = "report" in ctx.values
    if employee is None or employee.id is None:
        return Goto("team_pick" if on_team else "overview")
    day = _proposal(ctx, employee)
    if day is None or talks.upcoming(ctx.db, employee.id, today=ctx.today) is not None:
        return Goto("team_date" if on_team else "plan_date") if day is None else End()
    manager = ctx.person if on_team else _manager_of(ctx)
    if manager is None:
        return Goto("overview")
    other = first_name((employee if on_team else manager).name)
    if not ctx.answered:
        options = [
            ("yes", ctx.t("growth.propose.yes", date=_when(ctx, day))),
            ("other", ctx.t("growth.propose.other")),
            ("later", ctx.t("growth.propose.later")),
        ]
        return ask_choice(
            ctx,
            "growth.propose.ask",
            options,
            count=employee.growth_rhythm_months,
            other=other,
            date=_when(ctx, day),
        )
    if ctx.answer == "other":
        ctx.values["own_date"] = True
        return Goto("team_date" if on_team else "plan_date")
    if ctx.answer == "later":
        ctx.say("growth.later")
        return End()
    side = ConversationSide.MANAGER if on_team else ConversationSide.EMPLOYEE
    found = talks.plan(ctx.db, employee=employee, planned_for=day, set_by=side, now=ctx.now)
    if on_team:
        ctx.say("growth.team_planned", name=other, date=_when(ctx, day), count=PREP_DAYS)
        return End()
    ctx.values["conversation"] = found.id
    ctx.say("growth.planned", other=other, date=_when(ctx, day))
    return Goto("prep_now")


# -- the manager's side ------------------------------------------------------------------------


@growth.step("team_pick")
def team_pick(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    reports = direct_reports(ctx.db, ctx.person.id)
    if not reports:
        ctx.say("growth.no_reports")
        return End()
    if not ctx.answered:
        options = []
        for report in reports:
            assert report.id is not None
            found = talks.current(ctx.db, report.id, today=ctx.today, side=ConversationSide.MANAGER)
            label = report.name
            if found is not None:
                label += " — " + _when(ctx, found.planned_for)
            options.append((str(report.id), label))
        return ask_choice(ctx, "growth.team_who", [*options, ("done", ctx.t("growth.team_done"))])
    if ctx.answer == "done":
        ctx.say("growth.bye")
        return End()
    ctx.values["report"] = int(ctx.answer)
    return Goto("team_person")


@growth.step("team_person")
def team_person(ctx: Ctx) -> Next:
    report = _report(ctx)
    if report is None or report.id is None:
        return Goto("team_pick")
    name = first_name(report.name)
    if not ctx.answered:
        found = talks.current(ctx.db, report.id, today=ctx.today, side=ConversationSide.MANAGER)
        if found is None:
            return Goto("team_date")
        ctx.values["conversation"] = found.id
        if found.planned_for <= ctx.today and found.manager_note is None:
            return Goto("team_note")
        ctx.say("growth.team_next", name=name, date=_when(ctx, found.planned_for))
        agenda = talks.read_agenda(ctx.db, manager=ctx.person, conversation=found, now=ctx.now)
        if agenda is None:
            ctx.say("growth.team_no_agenda", name=name)
        else:
            ctx.say_text(agenda_text(ctx.content, agenda, report, ctx.lang))
        ctx.say("growth.starters")
        actions = ["move", "cancel", "rhythm", "done"]
        return ask_choice(ctx, "growth.what_now", labelled(ctx, "growth.actions", actions))
    if ctx.answer == "done":
        ctx.say("growth.bye")
        return End()
    return Goto(str(ctx.answer))


@growth.step("team_date")
def team_date(ctx: Ctx) -> Next:
    report = _report(ctx)
    if report is None:
        return Goto("team_pick")
    name = first_name(report.name)
    if not ctx.answered:
        if not ctx.values.get("own_date") and _proposal(ctx, report) is not None:
            return Goto("propose")
        return ask_date(ctx, "growth.team_ask_date", skippable=True, name=name)
    if not ctx.answer:
        ctx.say("growth.later")
        return End()
    planned_for = date.fromisoformat(ctx.answer)
    if planned_for < ctx.today:
        return Retry(ctx.t("growth.date_in_past"))
    talks.plan(
        ctx.db,
        employee=report,
        planned_for=planned_for,
        set_by=ConversationSide.MANAGER,
        now=ctx.now,
    )
    ctx.say("growth.team_planned", name=name, date=_when(ctx, planned_for), count=PREP_DAYS)
    return End()


@growth.step("team_note")
def team_note(ctx: Ctx) -> Next:
    report = _report(ctx)
    found = _conversation(ctx)
    if report is None or found is None or found.manager_id != ctx.person.id:
        return Goto("team_pick")
    name = first_name(report.name)
    if not ctx.answered:
        return ask_text(
            ctx,
            "growth.team_ask_note",
            skippable=True,
            max_chars=300,
            name=name,
            date=_when(ctx, found.planned_for),
        )
    found.updated_at = ctx.now
    if not ctx.answer:
        found.manager_note = ""
        found.manager_note_added = False  # nothing for the employee to decide
        ctx.say("growth.team_no_note")
    else:
        found.manager_note = str(ctx.answer)
        ctx.say("growth.team_noted", name=name)
    ctx.db.add(found)
    assert report.id is not None
    if talks.upcoming(ctx.db, report.id, today=ctx.today) is None and _proposal(ctx, report):
        return Goto("propose")  # with a rhythm, the next date to confirm
    return End()
