"""Feedback from colleagues: ask one to three colleagues for a few lines on an experiment, a
plan item or a quality, and read what they answer.

The request reaches each colleague as a message of the bot's own (the outbox, through calm: at
most one message a half-day, their pause respected) with three buttons: answer, later (asked
again once) and no thanks (no reason asked). Answers go to the requester only; the requester
learns how many answered, never who declined. An anonymous request (three colleagues or more)
shows its answers without names, once at least three answered. A manager sees feedback only
when the requester shares it (:func:`storage.feedback.shared_with`, audited).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry, Start
from dialogs.engine.replies import Offer, reply_to_dict
from dialogs.engine.text import shorten
from dialogs.flows.common import ask_choice, ask_confirm, ask_text, bullet_list, labelled
from dialogs.nudges.calm import CalmPolicy, calm, later_slot
from storage import feedback as stored
from storage.items import experiments, open_plan_items
from storage.models import (
    ExperimentStatus,
    FeedbackAsk,
    FeedbackRequest,
    FeedbackState,
    Person,
    Visibility,
)
from storage.outbox import ABOUT, OutboxMessage, enqueue_many
from storage.people import first_name, manages_anyone
from storage.privacy import Reader, who_sees

feedback = Dialog("feedback", version=1, first="overview", title="feedback.title")
feedback_reply = Dialog("feedback_reply", version=1, first="act", title="feedback.reply.title")

REPLY_INTENT = "feedback_reply"
"""The buttons of a request: ``feedback_reply:<ask id>:<give|later|decline>``."""
ACTIONS = ("give", "later", "decline")
REQUEST_KIND = "feedback_request"
ANSWER_KIND = "feedback_answer"


def _policy(ctx: Ctx) -> CalmPolicy:
    return CalmPolicy(nudges=ctx.settings.policy)


def _send(ctx: Ctx, messages: list[OutboxMessage]) -> None:
    """Into the outbox through calm, in this turn's transaction."""
    enqueue_many(ctx.db, calm(ctx.db, messages, ctx.now, _policy(ctx), content=ctx.content))


# -- the requester ----------------------------------------------------------------------


def _line(ctx: Ctx, request: FeedbackRequest) -> str:
    assert request.id is not None
    counted = stored.tally(stored.asks_of(ctx.db, request.id))
    return ctx.t(
        "feedback.request_line",
        topic=shorten(request.topic, 60),
        answered=counted.answered,
        count=counted.asked,
    )


@feedback.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    mine = stored.requests_of(ctx.db, ctx.person.id)
    manager = manages_anyone(ctx.db, ctx.person.id)
    if not ctx.answered:
        if not mine and not manager:
            ctx.say("feedback.intro")
            return Goto("about")
        actions = ["new"]
        if mine:
            ctx.say_text(
                ctx.t("feedback.yours") + "\n" + bullet_list([_line(ctx, r) for r in mine[:5]])
            )
            actions.append("read")
        if manager:
            actions.append("shared")
        return ask_choice(
            ctx, "feedback.what_now", labelled(ctx, "feedback.actions", [*actions, "nothing"])
        )
    if ctx.answer == "nothing":
        ctx.say("feedback.bye")
        return End()
    return Goto({"new": "about", "read": "pick_request", "shared": "shared"}[str(ctx.answer)])


@feedback.step("about")
def about(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    tried = [e for e in experiments(ctx.db, ctx.person.id) if e.status != ExperimentStatus.DROPPED][
        :4
    ]
    planned = open_plan_items(ctx.db, ctx.person.id)[:3]
    if not ctx.answered:
        if not tried and not planned:
            return Goto("topic")
        options = [(f"experiment:{e.id}", shorten(e.title, 60)) for e in tried]
        options += [(f"plan:{p.id}", shorten(p.title, 60)) for p in planned]
        options.append(("own", ctx.t("feedback.own_topic")))
        return ask_choice(ctx, "feedback.ask_about", options)
    chosen = {f"experiment:{e.id}": e.title for e in tried} | {
        f"plan:{p.id}": p.title for p in planned
    }
    if str(ctx.answer) not in chosen:
        return Goto("topic")
    ctx.values["topic"] = chosen[str(ctx.answer)]
    return Goto("who")


@feedback.step("topic")
def topic(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "feedback.ask_topic", max_chars=300)
    ctx.values["topic"] = str(ctx.answer)
    return Goto("who")


def _picked(ctx: Ctx) -> list[int]:
    return [int(i) for i in ctx.values.get("colleagues", [])]


def _pick(ctx: Ctx, person_id: int) -> Next:
    picked = [*_picked(ctx), person_id]
    ctx.values["colleagues"] = picked
    colleague = ctx.db.get(Person, person_id)
    ctx.say("feedback.added", name=colleague.name if colleague else "")
    return Goto("anonymous" if len(picked) >= stored.MAX_COLLEAGUES else "who")


@feedback.step("who")
def who(ctx: Ctx) -> Next:
    picked = _picked(ctx)
    if not ctx.answered:
        close = [c for c in stored.close_colleagues(ctx.db, ctx.person) if c.id not in picked]
        options = [(str(c.id), c.name) for c in close]
        options.append(("typed", ctx.t("feedback.someone_else")))
        if picked:
            options.append(("done", ctx.t("feedback.that_is_all")))
            left = stored.MAX_COLLEAGUES - len(picked)
            return ask_choice(ctx, "feedback.ask_more", options, count=left)
        return ask_choice(ctx, "feedback.ask_who", options, count=stored.MAX_COLLEAGUES)
    if ctx.answer == "typed":
        return Goto("who_typed")
    if ctx.answer == "done":
        return Goto("anonymous")
    return _pick(ctx, int(ctx.answer))


@feedback.step("who_typed")
def who_typed(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        return ask_text(ctx, "feedback.ask_name", max_chars=320)
    found = stored.find_colleagues(ctx.db, str(ctx.answer), exclude=[ctx.person.id, *_picked(ctx)])
    if not found:
        return Retry(ctx.t("feedback.nobody_found", typed=shorten(str(ctx.answer), 60)))
    if len(found) == 1:
        assert found[0].id is not None
        return _pick(ctx, found[0].id)
    ctx.values["matches"] = [p.id for p in found]
    return Goto("who_which")


@feedback.step("who_which")
def who_which(ctx: Ctx) -> Next:
    if not ctx.answered:
        matches = [ctx.db.get(Person, int(i)) for i in ctx.values.get("matches", [])]
        options = [
            (str(p.id), f"{p.name} ({p.department})" if p.department else p.name)
            for p in matches
            if p is not None
        ]
        options.append(("none", ctx.t("feedback.none_of_these")))
        return ask_choice(ctx, "feedback.ask_which", options)
    if ctx.answer == "none":
        return Goto("who_typed")
    return _pick(ctx, int(ctx.answer))


@feedback.step("anonymous")
def anonymous(ctx: Ctx) -> Next:
    if not _picked(ctx):
        return Goto("who")
    if len(_picked(ctx)) < stored.ANONYMOUS_MINIMUM:
        ctx.values["anonymous"] = False
        return Goto("confirm")
    if not ctx.answered:
        options = labelled(ctx, "feedback.anonymity", ("named", "anonymous"))
        return ask_choice(ctx, "feedback.ask_anonymous", options, count=stored.ANONYMOUS_MINIMUM)
    ctx.values["anonymous"] = ctx.answer == "anonymous"
    return Goto("confirm")


def _colleagues(ctx: Ctx) -> list[Person]:
    found = [ctx.db.get(Person, i) for i in _picked(ctx)]
    return [p for p in found if p is not None]


def request_text(
    ctx: Ctx, colleague: Person, *, topic: str, anonymous: bool, lang: str | None = None
) -> str:
    """The request as the colleague reads it (in ``lang``: theirs, or the requester's for
    the preview)."""
    lang = lang or colleague.language
    hour = ctx.now.astimezone(ZoneInfo(colleague.timezone)).hour
    note = "feedback.request.anonymous" if anonymous else "feedback.request.named"
    values = {"requester": ctx.person.name, "first": first_name(ctx.person.name)}
    # Someone Regie never welcomed learns in one line who is writing (the welcome is offered
    # after their answer, never pushed before it).
    intro = [] if colleague.welcomed_at else [ctx.content.text(lang, "feedback.request.intro")]
    return "\n".join(
        [
            ctx.content.text(
                lang,
                "feedback.request.text",
                greeting=ctx.content.greeting(lang, hour),
                name=first_name(colleague.name),
                topic=shorten(topic, 200),
                **values,
            ),
            *intro,
            ctx.content.text(lang, note, **values),
        ]
    )


@feedback.step("confirm")
def confirm(ctx: Ctx) -> Next:
    colleagues = _colleagues(ctx)
    topic_text = str(ctx.values.get("topic", ""))
    anonymous_asked = bool(ctx.values.get("anonymous"))
    if not colleagues:
        return Goto("who")
    if not ctx.answered:
        names = ", ".join(c.name for c in colleagues)
        preview = request_text(
            ctx, colleagues[0], topic=topic_text, anonymous=anonymous_asked, lang=ctx.lang
        )
        ctx.say("feedback.preview", names=names)
        ctx.say_text(preview)
        return ask_confirm(ctx, "feedback.ask_send")
    if not ctx.answer:
        ctx.say("feedback.not_sent")
        return End()
    request, asks = stored.create_request(
        ctx.db,
        requester=ctx.person,
        topic=topic_text,
        colleague_ids=[c.id for c in colleagues if c.id is not None],
        anonymous=anonymous_asked,
        now=ctx.now,
    )
    by_id = {c.id: c for c in colleagues}
    _send(
        ctx,
        [
            _request_message(ctx, by_id[a.colleague_id], a, request, key=f"feedback:{a.id}")
            for a in asks
        ],
    )
    ctx.say("feedback.sent", names=", ".join(first_name(c.name) for c in colleagues))
    return End()


def _request_message(
    ctx: Ctx,
    colleague: Person,
    ask: FeedbackAsk,
    request: FeedbackRequest,
    *,
    key: str,
    reminder: bool = False,
) -> OutboxMessage:
    """The request in the colleague's language, labelled as about the requester (forgetting
    them removes it from messages not yet read)."""
    lang = colleague.language
    actions = [(f"{REPLY_INTENT}:{ask.id}:give", ctx.content.text(lang, "feedback.request.give"))]
    if not reminder:
        actions.append(
            (f"{REPLY_INTENT}:{ask.id}:later", ctx.content.text(lang, "feedback.request.later"))
        )
    actions.append(
        (f"{REPLY_INTENT}:{ask.id}:decline", ctx.content.text(lang, "feedback.request.decline"))
    )
    text = request_text(ctx, colleague, topic=request.topic, anonymous=request.anonymous)
    data = reply_to_dict(Offer(text, tuple(actions)))
    data[ABOUT] = [request.person_id]
    data["also"] = ctx.content.text(
        lang, "feedback.request.also", first=first_name(ctx.person.name)
    )
    assert colleague.id is not None
    at = later_slot(colleague, ctx.now, _policy(ctx)) if reminder else ctx.now
    return OutboxMessage(key, colleague.id, REQUEST_KIND, at, [data])


@feedback.step("pick_request")
def pick_request(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        mine = stored.requests_of(ctx.db, ctx.person.id)[:10]
        return ask_choice(ctx, "feedback.which", [(str(r.id), _line(ctx, r)) for r in mine])
    ctx.values["request_id"] = int(ctx.answer)
    return Goto("answers")


@feedback.step("answers")
def answers(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    request = stored.own_request(ctx.db, ctx.person.id, int(ctx.values.get("request_id", 0)))
    if request is None:
        ctx.say("feedback.gone")
        return End()
    manager = who_sees(ctx.db, ctx.person)
    if not ctx.answered:
        found = stored.answers(ctx.db, request)
        ctx.say_text(_line(ctx, request))
        if found.held:
            ctx.say("feedback.held", answered=found.tally.answered, count=stored.ANONYMOUS_MINIMUM)
        elif not found.lines:
            ctx.say("feedback.none_yet")
        else:
            ctx.say_text(
                bullet_list([f"{name}: {text}" if name else text for name, text in found.lines])
            )
        if manager is None or not found.lines:
            return End()
        shared = request.visibility == Visibility.MANAGER
        options = [
            (
                "unshare" if shared else "share",
                ctx.t(
                    "feedback.unshare" if shared else "feedback.share",
                    manager=first_name(manager.name),
                ),
            ),
            ("done", ctx.t("feedback.done")),
        ]
        key = "feedback.shared_now" if shared else "feedback.private_now"
        return ask_choice(ctx, key, options, manager=first_name(manager.name))
    if ctx.answer in ("share", "unshare") and manager is not None:
        stored.share(ctx.db, request, shared=ctx.answer == "share")
        ctx.say(
            "feedback.did_share" if ctx.answer == "share" else "feedback.did_unshare",
            manager=first_name(manager.name),
        )
    return End()


@feedback.step("shared")
def shared(ctx: Ctx) -> Next:
    """A manager reads the feedback their reports chose to share with them (audited)."""
    found = stored.shared_with(
        ctx.db, manager=ctx.person, reader=Reader.of(ctx.person), now=ctx.now
    )
    if not found:
        ctx.say("feedback.nothing_shared")
        return End()
    blocks = []
    for item in found:
        lines = [f"{n}: {t}" if n else t for n, t in item.answers.lines]
        head = ctx.t("feedback.shared_head", name=item.owner.name, topic=item.request.topic)
        blocks.append(head + ("\n" + bullet_list(lines) if lines else ""))
    ctx.say_text("\n\n".join(blocks))
    return End()


# -- the colleague ----------------------------------------------------------------------


def _parse(arg: str) -> tuple[int, str] | None:
    ask_id, _, action = arg.partition(":")
    if not ask_id.isdigit() or action not in ACTIONS:
        return None
    return int(ask_id), action


def _ask(ctx: Ctx) -> tuple[FeedbackAsk, str] | None:
    assert ctx.person.id is not None
    parsed = _parse(str(ctx.values.get("arg", "")))
    ask = stored.ask_for(ctx.db, parsed[0], ctx.person.id) if parsed else None
    return (ask, parsed[1]) if ask is not None and parsed is not None else None


def reply_refusal(ctx: Ctx) -> str | None:
    """A button of a request that is not this person's, or already answered or declined:
    said, and nothing else changes (the open conversation stays open)."""
    found = _ask(ctx)
    if found is None:
        return "feedback.reply.unknown"
    if not stored.is_open(found[0]):
        return "feedback.reply.closed"
    return None


feedback_reply.precondition = reply_refusal


def _request_of(ctx: Ctx, ask: FeedbackAsk) -> tuple[FeedbackRequest, Person] | None:
    request = ctx.db.get(FeedbackRequest, ask.request_id)
    requester = ctx.db.get(Person, request.person_id) if request is not None else None
    return (request, requester) if request is not None and requester is not None else None


@feedback_reply.step("act")
def act(ctx: Ctx) -> Next:
    found = _ask(ctx)
    if found is None or not stored.is_open(found[0]):
        ctx.say("feedback.reply.unknown" if found is None else "feedback.reply.closed")
        return End()
    ask, action = found
    about = _request_of(ctx, ask)
    if about is None:
        ctx.say("feedback.reply.unknown")
        return End()
    request, requester = about
    first = first_name(requester.name)
    if action == "decline":
        stored.decline(ask, now=ctx.now)
        ctx.db.add(ask)
        ctx.say("feedback.reply.declined", first=first)
        return End()
    if action == "later":
        if ask.state == FeedbackState.LATER:
            ctx.say("feedback.reply.once")
            return End()
        ask.state = FeedbackState.LATER
        ctx.db.add(ask)
        message = _request_message(
            ctx, ctx.person, ask, request, key=f"feedback:{ask.id}:later", reminder=True
        )
        _send(ctx, [message])
        ctx.say("feedback.reply.later", first=first)
        return End()
    ctx.values["ask_id"] = ask.id
    return Goto("write")


@feedback_reply.step("write")
def write(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    ask = stored.ask_for(ctx.db, int(ctx.values.get("ask_id", 0)), ctx.person.id)
    about = _request_of(ctx, ask) if ask is not None else None
    if ask is None or about is None or not stored.is_open(ask):
        ctx.say("feedback.reply.closed")
        return End()
    request, requester = about
    if not ctx.answered:
        return ask_text(
            ctx,
            "feedback.reply.ask",
            long=True,
            first=first_name(requester.name),
            topic=shorten(request.topic, 200),
        )
    stored.answer(ask, str(ctx.answer), now=ctx.now)
    ctx.db.add(ask)
    ctx.db.flush()
    _send(ctx, [_answer_note(ctx, requester, request, ask)])
    ctx.say("feedback.reply.thanks", first=first_name(requester.name))
    return Goto("meet") if ctx.person.welcomed_at is None else End()


@feedback_reply.step("meet")
def meet(ctx: Ctx) -> Next:
    """A colleague Regie has not welcomed yet may get to know it now: offered once, after
    their answer; no thanks leaves them be (the welcome comes whenever they write to Regie)."""
    if ctx.person.welcomed_at is not None:
        return End()
    if not ctx.answered:
        options = labelled(ctx, "feedback.reply.meet_options", ("yes", "no"))
        return ask_choice(ctx, "feedback.reply.meet", options)
    if ctx.answer == "yes":
        return Start("welcome")
    ctx.say("feedback.reply.meet_later")
    return End()


def _answer_note(
    ctx: Ctx, requester: Person, request: FeedbackRequest, ask: FeedbackAsk
) -> OutboxMessage:
    """Tells the requester an answer came in: the colleague's name in a named request
    (labelled as about them), a count in an anonymous one. Never the answer itself."""
    assert request.id is not None and requester.id is not None
    lang = requester.language
    counted = stored.tally(stored.asks_of(ctx.db, request.id))
    values = {
        "topic": shorten(request.topic, 100),
        "answered": counted.answered,
        "asked": counted.asked,
    }
    if request.anonymous:
        key = (
            "feedback.note.anonymous_ready"
            if counted.answered >= stored.ANONYMOUS_MINIMUM
            else "feedback.note.anonymous"
        )
        text = ctx.content.text(lang, key, **values)
    else:
        text = ctx.content.text(lang, "feedback.note.named", name=ctx.person.name, **values)
    data = reply_to_dict(Offer(text, (("feedback", ctx.content.text(lang, "feedback.note.read")),)))
    if not request.anonymous:
        data[ABOUT] = [ask.colleague_id]
    data["also"] = ctx.content.text(lang, "feedback.note.also", **values)
    return OutboxMessage(f"feedback_answer:{ask.id}", requester.id, ANSWER_KIND, ctx.now, [data])
