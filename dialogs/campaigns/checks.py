"""Whether a campaign button may be acted on at all, asked before anything happens.

The runtime asks :func:`press_refusal` (the ``campaign_reply`` dialog's precondition, set in
``dialogs/registry.py``) before it puts the open conversation aside, so a press on a button of
a campaign that does not exist, was cancelled or is not meant for this person changes nothing:
the refusal is said and the open question stays open. It only reads.

The same checks as ``dialogs/campaigns/reply.py`` makes when it acts on a press (nothing in a
button is trusted): the campaign exists, is not cancelled, its step offers that button and the
person is one of its recipients.
"""

from __future__ import annotations

from dialogs.campaigns.spec import Step, from_stored
from dialogs.engine.dialog import Ctx
from storage import campaigns as stored
from storage.models import Campaign, CampaignState

UNKNOWN = "campaigns.reply.unknown"
ENDED = "campaigns.reply.ended"


def parse_press(arg: str) -> tuple[int, str, str, str] | None:
    """``<campaign>:<step>:<action>[:<workshop>]`` as its parts, or None when malformed."""
    parts = arg.split(":")
    if len(parts) not in (3, 4) or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1], parts[2], parts[3] if len(parts) == 4 else ""


def offers(step: Step, action: str, workshop_id: str) -> bool:
    """Whether the step's message has this button."""
    if action in ("rsvp", "cancel", "leave"):
        return workshop_id in step.rsvp
    if action == "keep":  # "keep me posted" after "not for me" (dialogs/campaigns/reply.py)
        return "not_for_me" in step.actions and not workshop_id
    return action in step.actions and not workshop_id


def press_refusal(ctx: Ctx) -> str | None:
    """None when the press in ``ctx.values["arg"]`` may be acted on, else the text key of why
    not."""
    assert ctx.person.id is not None
    parsed = parse_press(str(ctx.values.get("arg", "")))
    campaign = ctx.db.get(Campaign, parsed[0]) if parsed else None
    if parsed is None or campaign is None or campaign.id is None:
        return UNKNOWN
    if campaign.state == CampaignState.CANCELLED:
        return ENDED
    _, step_id, action, workshop_id = parsed
    step = from_stored(campaign.spec).step(step_id)
    if (
        step is None
        or not offers(step, action, workshop_id)
        or not stored.is_recipient(ctx.db, campaign.id, ctx.person.id)
    ):
        return UNKNOWN
    return None
