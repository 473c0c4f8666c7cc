"""After something is saved: one tap to share it with the manager, or keep it private.

Private stays the default; the offer comes only when the person has a manager in Regie and
something just saved is not shared yet. Nothing is ever shared without this tap (or the
person's own default for new items)."""

from __future__ import annotations

from typing import Any

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.flows.common import ask_choice
from storage.models import Person, SharedItem, Visibility, table_name
from storage.people import first_name
from storage.privacy import ITEM_TYPES, set_visibility


def remember_saved(ctx: Ctx, item: SharedItem) -> None:
    """Note a just-saved item for the share offer (flushes, so it has an id). A new list, so
    the change is seen however ``values`` was copied."""
    ctx.db.flush()
    saved: list[Any] = ctx.values.get("saved", [])
    ctx.values["saved"] = [*saved, [table_name(type(item)), item.id]]


def add_share_step(dialog: Dialog, *, then: str | None) -> None:
    """Register the ``share`` step on ``dialog``; afterwards go to ``then`` (or end)."""

    def share(ctx: Ctx) -> Next:
        assert ctx.person.id is not None
        saved = [(str(t), int(i)) for t, i in ctx.values.get("saved", [])]
        manager = ctx.db.get(Person, ctx.person.manager_id) if ctx.person.manager_id else None
        private = [
            (t, i)
            for t, i in saved
            if (item := ctx.db.get(ITEM_TYPES[t], i)) is not None
            and item.visibility != Visibility.MANAGER
        ]
        if manager is None or not private:
            ctx.values["saved"] = []
            return Goto(then) if then else End()
        first = first_name(manager.name)
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
        ctx.values["saved"] = []
        return Goto(then) if then else End()

    dialog.add("share", share)
