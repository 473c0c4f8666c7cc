"""The learning-needs pulse in chat: its questions one at a time, answered anonymously, and the
person's own answers read back while the pulse is open.

It starts from a campaign message's ``pulse`` button (``dialogs/campaigns/reply.py``), which
was checked like every campaign button; "not now" and "no thanks" are that message's
``remind_tomorrow`` and ``not_for_me``. Every question may be skipped; nothing is stored until
the last one, so stopping halfway leaves nothing behind. The answers are kept in the
conversation's values only while it is asked and cleared when they are stored
(``storage/pulse.py`` stores them unlinked). Said as a word ("my pulse", "mijn peiling") it
shows the person's answers to the pulses still open.

When a pulse closes (the day after ``closes``, checked with every run of the campaign planner,
or ``regie pulse close``) the link between people and their answers is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from dialogs.campaigns.pulse_spec import CHOICE, SCALE, Pulse, PulseQuestion
from dialogs.campaigns.spec import CampaignSpec, from_stored
from dialogs.engine.dialog import Ask, Ctx, Dialog, End, Goto, Next
from dialogs.engine.replies import Choice, ChoicePrompt, Prompt, ScalePrompt, TextPrompt
from storage import campaigns as stored
from storage import pulse as answers
from storage.models import Campaign, CampaignState

TEXT_LIMIT = 1000
pulse = Dialog("pulse", version=1, first="begin", title="pulse.title")


def closes_at(spec: Pulse) -> datetime:
    """When answers stop being taken: the end of the ``closes`` day everywhere on earth."""
    return datetime.combine(spec.closes + timedelta(days=1), time(12), tzinfo=UTC)


def close_due(db: Session, *, now: datetime) -> list[int]:
    """Close every pulse whose last day has passed everywhere (the campaign planner calls
    this on every run); returns the campaign ids closed now."""
    closed: list[int] = []
    for campaign in stored.listing(db):
        assert campaign.id is not None
        spec = from_stored(campaign.spec)
        if spec.pulse is None or now < closes_at(spec.pulse):
            continue
        if answers.close(db, campaign.id, now=now):
            closed.append(campaign.id)
    return closed


def is_over(db: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> bool:
    """Whether the campaign is a pulse that takes no more answers."""
    assert campaign.id is not None
    if spec.pulse is None:
        return False
    return now >= closes_at(spec.pulse) or answers.is_closed(db, campaign.id)


def _campaign(ctx: Ctx) -> tuple[Campaign, CampaignSpec, Pulse] | None:
    campaign = ctx.db.get(Campaign, int(ctx.values.get("campaign_id") or 0))
    if campaign is None:
        return None
    spec = from_stored(campaign.spec)
    return (campaign, spec, spec.pulse) if spec.pulse is not None else None


@pulse.step("begin")
def begin(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if "campaign_id" not in ctx.values:
        return Goto("mine")
    found = _campaign(ctx)
    if found is None:
        ctx.say("campaigns.reply.unknown")
        return End()
    campaign, spec, questions = found
    assert campaign.id is not None
    name = spec.text(spec.name, ctx.lang)
    if campaign.state == CampaignState.CANCELLED or is_over(ctx.db, campaign, spec, ctx.now):
        ctx.say("pulse.closed", name=name)
        return End()
    if answers.answered(ctx.db, campaign.id, ctx.person.id):
        ctx.say_text(ctx.t("pulse.already", name=name) + "\n" + _own(ctx, campaign.id, spec))
        return End()
    ctx.say(
        "pulse.intro",
        name=name,
        count=len(questions.questions),
        closes=ctx.content.date(ctx.lang, questions.closes),
    )
    ctx.values |= {"index": 0, "answers": {}}
    return Goto("ask")


@pulse.step("ask")
def ask(ctx: Ctx) -> Next:
    found = _campaign(ctx)
    if found is None or "index" not in ctx.values:
        ctx.say("pulse.closed_now")  # closed meanwhile: its conversations were emptied
        return End()
    campaign, spec, questions = found
    if is_over(ctx.db, campaign, spec, ctx.now):
        ctx.say("pulse.closed", name=spec.text(spec.name, ctx.lang))
        ctx.values.clear()
        return End()
    index = int(ctx.values["index"])
    question = questions.questions[index]
    if not ctx.answered:
        return Ask(_prompt(ctx, spec, question, index + 1, len(questions.questions)))
    if ctx.answer is not None:
        ctx.values["answers"][question.id] = str(ctx.answer)
    ctx.values["index"] = index + 1
    return Goto("ask" if index + 1 < len(questions.questions) else "save")


@pulse.step("save")
def save(ctx: Ctx) -> Next:
    found = _campaign(ctx)
    assert found is not None and ctx.person.id is not None
    campaign, spec, questions = found
    assert campaign.id is not None
    given = {str(k): str(v) for k, v in ctx.values.get("answers", {}).items()}
    step = str(ctx.values.get("step") or "pulse")
    ctx.values.clear()  # the conversation keeps no copy of the answers
    name = spec.text(spec.name, ctx.lang)
    if not given:
        ctx.say("pulse.nothing", name=name)
        return End()
    stored_now = answers.save(
        ctx.db,
        campaign.id,
        step,
        ctx.person,
        given,
        min_group=ctx.settings.min_group_size,
        now=ctx.now,
    )
    if not stored_now:
        ctx.say_text(ctx.t("pulse.already", name=name) + "\n" + _own(ctx, campaign.id, spec))
        return End()
    ctx.say_text(
        ctx.t("pulse.thanks", name=name)
        + "\n"
        + _own(ctx, campaign.id, spec)
        + "\n"
        + ctx.t("pulse.until", closes=ctx.content.date(ctx.lang, questions.closes))
    )
    return End()


@pulse.step("mine")
def mine(ctx: Ctx) -> Next:
    """The person's answers to the pulses still open."""
    assert ctx.person.id is not None
    parts: list[str] = []
    for campaign_id in answers.open_copies(ctx.db, ctx.person.id):
        campaign = ctx.db.get(Campaign, campaign_id)
        spec = from_stored(campaign.spec) if campaign is not None else None
        if campaign is None or spec is None or spec.pulse is None:
            continue
        parts.append(
            ctx.t("pulse.mine_heading", name=spec.text(spec.name, ctx.lang))
            + "\n"
            + _own(ctx, campaign_id, spec)
            + "\n"
            + ctx.t("pulse.until", closes=ctx.content.date(ctx.lang, spec.pulse.closes))
        )
    ctx.say_text("\n\n".join(parts) if parts else ctx.t("pulse.mine_none"))
    return End()


def _prompt(ctx: Ctx, spec: CampaignSpec, question: PulseQuestion, n: int, of: int) -> Prompt:
    text = ctx.t("pulse.progress", n=n, of=of) + " " + spec.text(question.text, ctx.lang)
    skip = ctx.t("pulse.skip")
    if question.kind == SCALE:
        return ScalePrompt(
            text=text,
            retry=ctx.t("retry.scale", low=1, high=5),
            skip_label=skip,
            low_label=spec.text(question.low, ctx.lang) or ctx.t("pulse.low"),
            high_label=spec.text(question.high, ctx.lang) or ctx.t("pulse.high"),
        )
    if question.kind == CHOICE:
        return ChoicePrompt(
            text=text,
            retry=ctx.t("retry.choice"),
            skip_label=skip,
            choices=tuple(
                Choice(label=spec.text(c.label, ctx.lang), value=c.id) for c in question.choices
            ),
        )
    return TextPrompt(
        text=text + "\n" + ctx.t("pulse.text_hint"),
        retry=ctx.content.text(ctx.lang, "retry.text", count=TEXT_LIMIT),
        skip_label=skip,
        max_chars=TEXT_LIMIT,
        long=True,
    )


def _own(ctx: Ctx, campaign_id: int, spec: CampaignSpec) -> str:
    """The person's own answers, one line a question (skipped ones said so)."""
    assert ctx.person.id is not None and spec.pulse is not None
    mine = answers.own_answers(ctx.db, campaign_id, ctx.person.id)
    lines = []
    for question in spec.pulse.questions:
        value = mine.get(question.id)
        if value is None:
            shown = ctx.t("pulse.skipped")
        elif question.kind == SCALE:
            shown = ctx.t("pulse.scale_answer", value=value)
        elif question.kind == CHOICE:
            choice = question.choice(value)
            shown = spec.text(choice.label, ctx.lang) if choice else value
        else:
            shown = ctx.t("pulse.quoted", value=value)
        lines.append(f"• {spec.text(question.text, ctx.lang)} {shown}")
    return "\n".join(lines)
