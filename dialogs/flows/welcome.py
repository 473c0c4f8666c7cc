"""First contact: what Regie is, the privacy promise in plain words, then three preferences."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, Goto, Next, Start
from dialogs.flows.menu import greeting
from dialogs.flows.preferences import add_preference_steps
from storage.models import ConsentKind, ConsentRecord
from storage.people import first_name

welcome = Dialog("welcome", version=1, first="hello", title="welcome.title")
add_preference_steps(
    welcome, after={"language": "timezone", "timezone": "nudges", "nudges": "done"}
)


@welcome.step("hello")
def hello(ctx: Ctx) -> Next:
    ctx.say("welcome.hello", greeting=greeting(ctx), name=first_name(ctx.person.name))
    ctx.say("welcome.privacy", min_group=ctx.settings.min_group_size)
    # The promise has been shown: record it, so it is never skipped and never repeated.
    ctx.person.welcomed_at = ctx.now
    ctx.db.add(ctx.person)
    assert ctx.person.id is not None
    ctx.db.add(
        ConsentRecord(
            person_id=ctx.person.id, kind=ConsentKind.PRIVACY_NOTICE, granted=True, at=ctx.now
        )
    )
    return Goto("language")


@welcome.step("done")
def done(ctx: Ctx) -> Next:
    ctx.say("welcome.done")
    return Start("menu")
