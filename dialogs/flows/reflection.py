"""A short reflection: three questions from the bank, rotating through the six career
competencies so nobody gets the same questions twice in a row, then an offer to act on it.

When the assistant has a follow-up for the first answer (only with AI assistance on), it is
asked once, and the reply is kept with that answer."""

from __future__ import annotations

import random
import zlib

from sqlmodel import Session

from dialogs.engine.content import COMPETENCIES, Content
from dialogs.engine.dialog import Ask, Ctx, Dialog, End, Goto, Next, Start
from dialogs.engine.replies import TextPrompt
from dialogs.flows.ai_consent import add_ai_consent_step, ask_ai_consent, needs_ai_consent
from dialogs.flows.common import ask_choice, ask_text, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import owned_by, recent_question_ids
from storage.models import Answer

QUESTIONS_PER_REFLECTION = 3

reflection = Dialog("reflection", version=1, first="intro", title="reflection.title")
add_share_step(reflection, then="insight")
add_ai_consent_step(reflection)


def pick_questions(db: Session, content: Content, person_id: int) -> list[str]:
    """Least recently practised competencies first; never a question from the last round.
    Seeded from the person's history, so a replay picks the same and the next round differs."""
    history = recent_question_ids(db, person_id, dialog_id=reflection.id, limit=60)
    seed = zlib.crc32(f"{person_id}:{','.join(history[:12])}".encode())
    last_round = set(history[:QUESTIONS_PER_REFLECTION])
    recency = {c: len(history) for c in COMPETENCIES}  # never asked: the oldest of all
    for position, question_id in reversed(list(enumerate(history))):
        recency[_competency(content, question_id)] = position
    rng = random.Random(seed)
    order = sorted(COMPETENCIES, key=lambda c: (-recency[c], rng.random()))
    picked: list[str] = []
    for competency in order[:QUESTIONS_PER_REFLECTION]:
        candidates = [
            q.id for q in content.questions if q.competency == competency and q.id not in last_round
        ]
        picked.append(rng.choice(candidates))
    return picked


def _competency(content: Content, question_id: str) -> str:
    try:
        return content.question(question_id).competency
    except StopIteration:  # a question removed from the bank since
        return COMPETENCIES[0]


@reflection.step("intro")
def intro(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if needs_ai_consent(ctx):
        return ask_ai_consent(ctx, then="intro")
    ctx.values["questions"] = pick_questions(ctx.db, ctx.content, ctx.person.id)
    ctx.values["index"] = 0
    ctx.say("reflection.intro", count=QUESTIONS_PER_REFLECTION)
    return Goto("question")


@reflection.step("question")
def question(ctx: Ctx) -> Next:
    index: int = ctx.values["index"]
    current = ctx.content.question(ctx.values["questions"][index])
    if not ctx.answered:
        return ask_text(
            ctx,
            "reflection.question",
            skippable=True,
            long=True,
            number=index + 1,
            total=len(ctx.values["questions"]),
            question=current.text[ctx.lang],
        )
    ctx.values["index"] = index + 1
    if ctx.answer is not None:
        answer = Answer(
            **owned_by(ctx.person, now=ctx.now),
            dialog_id=reflection.id,
            question_id=current.id,
            competency=current.competency,
            frame=current.frame,
            text=str(ctx.answer),
        )
        ctx.db.add(answer)
        remember_saved(ctx, answer)
        ctx.values["answered"] = ctx.values.get("answered", 0) + 1
        if not ctx.values.get("followed_up"):
            ctx.values["followed_up"] = True
            follow = ctx.assistant.follow_up(
                ctx.db, ctx.person, question=current, answer=answer.text
            )
            if follow:
                ctx.values["follow_up"] = [answer.id, follow]
                return Goto("follow_up")
    return _next_question(ctx)


def _next_question(ctx: Ctx) -> Next:
    if ctx.values["index"] < len(ctx.values["questions"]):
        return Goto("question")
    if ctx.values.get("answered"):
        ctx.say("reflection.thanks")
    return Goto("share")


@reflection.step("follow_up")
def follow_up(ctx: Ctx) -> Next:
    """One follow-up on the first answer; the reply is added to that answer."""
    answer_id, text = ctx.values["follow_up"]
    if not ctx.answered:
        return Ask(
            TextPrompt(
                text=text,
                retry=ctx.t("retry.text", limit=1000),
                skip_label=ctx.t("common.skip"),
                long=True,
            )
        )
    answer = ctx.db.get(Answer, int(answer_id))
    if ctx.answer is not None and answer is not None and answer.person_id == ctx.person.id:
        answer.text = ctx.t(
            "reflection.with_follow_up", answer=answer.text, question=text, reply=str(ctx.answer)
        )
        ctx.db.add(answer)
    return _next_question(ctx)


@reflection.step("insight")
def insight(ctx: Ctx) -> Next:
    if not ctx.answered:
        if not ctx.values.get("answered"):
            ctx.say("reflection.all_skipped")
            return End()
        options = labelled(ctx, "reflection.next", ("experiment", "plan", "nothing"))
        return ask_choice(ctx, "reflection.insight", options)
    if ctx.answer == "experiment":
        return Start("experiment", step="new")
    if ctx.answer == "plan":
        return Start("plan", step="add_kind")
    ctx.say("reflection.bye")
    return End()
