"""A check-in of under a minute: energy on 1–5, how the current experiment is going, one next
step. Low energy gets a kind word, never advice nobody asked for.

Right after saving, one tap ("Change my answer") walks the questions again and updates the
same check-in. The button sits with the share offer, or stands alone when there is none."""

from __future__ import annotations

from dataclasses import replace

from dialogs.engine.dialog import Ask, Ctx, Dialog, Goto, Next
from dialogs.engine.replies import Choice, ChoicePrompt
from dialogs.flows.common import ask_choice, ask_scale, ask_text, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import open_experiments, own, owned_by, set_experiment_status
from storage.models import CheckIn, Experiment, ExperimentStatus

checkin = Dialog("checkin", version=1, first="energy", title="checkin.title")
add_share_step(checkin, then=None)
EDIT = "edit"
FINE = "ok"


@checkin.step("energy")
def energy(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_scale(
            ctx, "checkin.energy", low_label="checkin.energy_low", high_label="checkin.energy_high"
        )
    ctx.values["energy"] = int(ctx.answer)
    ctx.say("checkin.energy_low_reply" if ctx.answer <= 2 else "checkin.energy_reply")
    return Goto("experiment")


@checkin.step("experiment")
def experiment_state(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        item = _experiment_to_ask(ctx)
        if item is None:
            return Goto("next_step")
        ctx.values["experiment_id"] = item.id
        states = ("planned", "doing", "done", "dropped")
        options = labelled(ctx, "checkin.experiment_states", states)
        return ask_choice(ctx, "checkin.experiment", options, title=item.title)
    found = own(ctx.db, Experiment, ctx.person.id, int(ctx.values["experiment_id"]))
    if found is not None and found.status != ctx.answer:
        set_experiment_status(found, str(ctx.answer), now=ctx.now)
        ctx.db.add(found)
    ctx.values["experiment_status"] = ctx.answer
    if ctx.answer == ExperimentStatus.DONE:
        ctx.say("checkin.experiment_done")
    elif ctx.answer == ExperimentStatus.DROPPED:
        ctx.say("checkin.experiment_dropped")
    return Goto("next_step")


def _experiment_to_ask(ctx: Ctx) -> Experiment | None:
    """The newest open experiment; when the check-in is being changed, the same one as before
    (even if the first answer closed it)."""
    assert ctx.person.id is not None
    if ctx.values.get("experiment_id") is not None:
        return own(ctx.db, Experiment, ctx.person.id, int(ctx.values["experiment_id"]))
    current = open_experiments(ctx.db, ctx.person.id)
    return current[-1] if current else None


@checkin.step("next_step")
def next_step(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        return ask_text(ctx, "checkin.next_step", skippable=True, max_chars=500)
    saved_id = ctx.values.get("checkin_id")
    saved = own(ctx.db, CheckIn, ctx.person.id, int(saved_id)) if saved_id else None
    if saved is not None:  # "Change my answer": the same check-in, not a new one
        saved.energy = ctx.values["energy"]
        saved.experiment_id = ctx.values.get("experiment_id")
        saved.experiment_status = ctx.values.get("experiment_status")
        saved.next_step = ctx.answer or ""
        ctx.db.add(saved)
        ctx.say("checkin.updated")
    else:
        check_in = CheckIn(
            **owned_by(ctx.person, now=ctx.now),
            energy=ctx.values["energy"],
            experiment_id=ctx.values.get("experiment_id"),
            experiment_status=ctx.values.get("experiment_status"),
            next_step=ctx.answer or "",
        )
        ctx.db.add(check_in)
        remember_saved(ctx, check_in)
        ctx.values["checkin_id"] = check_in.id
        ctx.say("checkin.thanks")
    if ctx.values.get("experiment_status") == ExperimentStatus.DONE:
        ctx.say("checkin.reflect_hint")
    return Goto("saved")


@checkin.step("saved")
def saved(ctx: Ctx) -> Next:
    """Right after saving: the share offer with one more button, "Change my answer" (which
    walks the questions again); without a share offer, that button first, on its own, and
    then the share step (which may still say something, such as a shared-by-default note)."""
    share = checkin.steps["share"]
    if ctx.answered:
        if ctx.answer == EDIT:
            return Goto("energy")
        return Goto("share") if ctx.answer == FINE else share(ctx)
    said, values = len(ctx.replies), dict(ctx.values)
    offered = share(ctx)
    edit = Choice(label=ctx.t("checkin.edit"), value=EDIT)
    if isinstance(offered, Ask) and isinstance(offered.prompt, ChoicePrompt):
        return Ask(replace(offered.prompt, choices=(*offered.prompt.choices, edit)))
    del ctx.replies[said:]  # no offer: the share step runs for real after this one
    ctx.values.clear()
    ctx.values.update(values)
    return ask_choice(
        ctx, "checkin.edit_offer", [(EDIT, edit.label), (FINE, ctx.t("checkin.edit_ok"))]
    )
