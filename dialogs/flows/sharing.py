"""After something is saved: one tap to share it with the manager, or keep it private.

Private stays the default; the offer comes only when the person has a manager in Regie and
something just saved is not shared yet. Nothing is ever shared without this tap (or the
person's own default for new items) — and nothing becomes visible unannounced: a new item
shared by default says so, and a lesson written on an experiment that is already shared is
announced ("James will see this") with a one-tap "keep this part private"."""

from __future__ import annotations

from typing import Any

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.flows.common import ask_choice
from storage.models import Experiment, SharedItem, Visibility, table_name
from storage.people import first_name
from storage.privacy import ITEM_TYPES, keep_lesson_private, set_visibility, who_sees

NEW = "new"
"""A new item was saved (it has the owner's default visibility)."""
LESSON = "lesson"
"""An experiment's lesson (``learned``, ``keep_doing``) was written, later than the rest."""


def remember_saved(ctx: Ctx, item: SharedItem, *, part: str = NEW) -> None:
    """Note a just-saved item for the share step (flushes, so it has an id): ``part`` is
    :data:`NEW` for a new item, :data:`LESSON` for an experiment's lesson added later. A new
    list, so the change is seen however ``values`` was copied."""
    ctx.db.flush()
    saved: list[Any] = ctx.values.get("saved", [])
    ctx.values["saved"] = [*saved, [table_name(type(item)), item.id, part]]


def _saved(ctx: Ctx) -> list[tuple[str, int, str]]:
    # Sessions stored before parts were noted hold [type, id]: those were new items.
    return [
        (str(entry[0]), int(entry[1]), str(entry[2]) if len(entry) > 2 else NEW)
        for entry in ctx.values.get("saved", [])
    ]


def _item(ctx: Ctx, item_type: str, item_id: int) -> SharedItem | None:
    item = ctx.db.get(ITEM_TYPES[item_type], item_id)
    return item if item is not None and item.person_id == ctx.person.id else None


def _announced_lessons(ctx: Ctx) -> list[int]:
    """Experiments whose lesson was just written while the experiment is shared: the lesson
    would go to the manager too unless the person says otherwise."""
    found: list[int] = []
    for t, i, part in _saved(ctx):
        item = _item(ctx, t, i)
        if (
            part == LESSON
            and isinstance(item, Experiment)
            and item.visibility == Visibility.MANAGER
            and not item.lesson_private
        ):
            found.append(i)
    return found


def add_share_step(dialog: Dialog, *, then: str | None) -> None:
    """Register the ``share`` step (and ``share_lesson``, which announces a lesson joining a
    shared experiment) on ``dialog``; afterwards go to ``then`` (or end)."""

    def done(ctx: Ctx) -> Next:
        ctx.values["saved"] = []
        return Goto(then) if then else End()

    def share(ctx: Ctx) -> Next:
        assert ctx.person.id is not None
        manager = who_sees(ctx.db, ctx.person)
        if manager is None:
            return done(ctx)
        if not ctx.answered and _announced_lessons(ctx):
            return Goto("share_lesson")
        saved = _saved(ctx)
        items = [(t, i, part, _item(ctx, t, i)) for t, i, part in saved]
        private = [
            (t, i) for t, i, _, item in items if item and item.visibility != Visibility.MANAGER
        ]
        first = first_name(manager.name)
        if not ctx.answered and any(
            part == NEW and item is not None and item.visibility == Visibility.MANAGER
            for _, _, part, item in items
        ):
            ctx.say("sharing.shared_by_default", manager=first)
        if not private:
            return done(ctx)
        if not ctx.answered:
            options = [
                ("share", ctx.t("sharing.share", manager=first)),
                ("private", ctx.t("sharing.keep")),
            ]
            return ask_choice(ctx, "sharing.offer", options, manager=first)
        if ctx.answer == "share":
            for t, i in private:
                set_visibility(
                    ctx.db, owner_id=ctx.person.id, item_type=t, item_id=i, visibility="manager"
                )
            ctx.say("sharing.shared", manager=first)
        else:
            ctx.say("sharing.kept")
        return done(ctx)

    def share_lesson(ctx: Ctx) -> Next:
        assert ctx.person.id is not None
        manager = who_sees(ctx.db, ctx.person)
        lessons = _announced_lessons(ctx)
        if manager is None or not lessons:
            return Goto("share")
        first = first_name(manager.name)
        if not ctx.answered:
            options = [
                ("private", ctx.t("sharing.lesson_keep_private")),
                ("fine", ctx.t("sharing.lesson_fine")),
            ]
            return ask_choice(ctx, "sharing.lesson_announce", options, manager=first)
        if ctx.answer == "private":
            for experiment_id in lessons:
                keep_lesson_private(
                    ctx.db, owner_id=ctx.person.id, experiment_id=experiment_id, private=True
                )
            ctx.say("sharing.lesson_kept", manager=first)
        else:
            ctx.say("sharing.lesson_shared", manager=first)
        # Announced: the rest of what was saved goes through the usual share step.
        ctx.values["saved"] = [
            [t, i, part] for t, i, part in _saved(ctx) if not (part == LESSON and i in lessons)
        ]
        return Goto("share")

    dialog.add("share", share)
    dialog.add("share_lesson", share_lesson)
