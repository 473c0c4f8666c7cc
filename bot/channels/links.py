"""One-time links in chat: a :class:`~dialogs.engine.replies.PersonalLinks` reply (a purpose
and a token per link) becomes an :class:`~dialogs.engine.replies.Offer` with link buttons to
``regie serve`` (``REGIE_PUBLIC_URL``), which Slack shows as URL buttons and Teams as
``Action.OpenUrl``. The console writes the files instead (``bot/channels/console_files.py``)."""

from __future__ import annotations

from dataclasses import replace

from bot.web.urls import link_url
from dialogs.engine.replies import Offer, PersonalLinks, Reply
from dialogs.engine.runtime import Handled


def as_offer(reply: PersonalLinks, base_url: str) -> Offer:
    return Offer(
        reply.text,
        links=tuple(
            (link.label, link_url(base_url, link.purpose, link.token)) for link in reply.links
        ),
    )


def with_urls(handled: Handled, base_url: str) -> Handled:
    """The turn's replies with every set of one-time links as link buttons: of their own
    message, or, ``attached``, of the offer just before them."""
    if not any(isinstance(r, PersonalLinks) for r in handled.replies):
        return handled
    replies: list[Reply] = []
    for reply in handled.replies:
        if not isinstance(reply, PersonalLinks):
            replies.append(reply)
            continue
        offer = as_offer(reply, base_url)
        if reply.attached and replies and isinstance(replies[-1], Offer):
            replies[-1] = replace(replies[-1], links=replies[-1].links + offer.links)
        else:
            replies.append(offer)
    return replace(handled, replies=replies)
