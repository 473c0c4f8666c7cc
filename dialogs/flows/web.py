"""One-time links in chat: "web"/"dashboard" sends a sign-in link for the web app, and the
privacy centre's export sends the two downloads (``storage/links.py``: once, for minutes,
for this person only). Dialogs know no URL: the reply carries a purpose and a token each
(``PersonalLinks``), and the channel makes the buttons (or, in the console, the files)."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from dialogs.engine.dialog import Ctx, Dialog, End, Next
from dialogs.engine.replies import PersonalLink, PersonalLinks
from storage import links
from storage.models import LinkPurpose

web = Dialog("web", version=1, first="sign_in", title="web.title")


def send_links(
    ctx: Ctx, purposes: Sequence[LinkPurpose], *, text: str, labels: str, refused: str
) -> bool:
    """New links of ``purposes`` for the person, said with ``text`` (each button labelled
    ``{labels}.{purpose}``); past the hourly limit, ``refused`` (with the local ``time`` a
    new one can be had) and False."""
    assert ctx.person.id is not None
    try:
        issued = [links.issue(ctx.db, ctx.person.id, p, now=ctx.now) for p in purposes]
    except links.TooManyLinks as limit:
        local = limit.retry_at.astimezone(ZoneInfo(ctx.person.timezone))
        ctx.say(refused, time=local.strftime("%H:%M"))
        return False
    buttons = tuple(
        PersonalLink(str(link.purpose), link.token, ctx.t(f"{labels}.{link.purpose}"))
        for link in issued
    )
    ctx.replies.append(PersonalLinks(ctx.t(text), buttons))
    return True


@web.step("sign_in")
def sign_in(ctx: Ctx) -> Next:
    send_links(
        ctx,
        [LinkPurpose.SIGN_IN],
        text="web.link_ready",
        labels="web.link_labels",
        refused="web.link_too_many",
    )
    return End()
