"""The dialog runtime: one inbound Turn in, the replies out, state committed in between.

``handle`` loads the person and their active dialog session, runs steps until the dialog asks
something or ends, and commits the session and every domain write of the steps in one
transaction. Stopping the process between two turns therefore loses nothing, and a redelivered
platform event (same inbound id) is answered once.

The transaction never waits on the network: a turn runs through
:func:`dialogs.assist.run_in_transaction`, so when a step's assistant needs the model, that
first run is rolled back (inbound claim included), the model is asked with nothing open, and
the turn runs again from the start — same time, fresh state — with the answer, and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.engine.assistant import Assistant, ContentAssistant, run_in_transaction
from dialogs.engine.content import Content
from dialogs.engine.dialog import Ask, Ctx, Dialog, DialogSettings, End, Goto, Retry, Start
from dialogs.engine.replies import ParseContext, Reply, Say, prompt_from_dict, with_ref
from dialogs.engine.text import MAX_TEXT_CHARS, clean, normalise_keyword
from dialogs.engine.turn import Turn
from storage.inbound import claim
from storage.models import DialogSession, Person, SessionStatus, utcnow
from storage.people import pause_nudges
from storage.sessions import person_with_open_session

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_HOPS = 50
"""Steps one turn may run; more means a dialog loops on itself, which is a bug."""

DIALOG_INTENTS: dict[str, Start] = {
    "menu": Start("menu"),
    "reflect": Start("reflection"),
    "experiment": Start("experiment"),
    "checkin": Start("checkin"),
    "plan": Start("plan"),
    "profile": Start("profile"),
    "privacy": Start("privacy"),
    "settings": Start("settings"),
    "team": Start("team"),
    "report": Start("report"),
    "pause": Start("privacy", {"from_overview": False}, step="pause"),
    "campaigns": Start("campaigns"),
    "campaign": Start("campaign_reply"),
    "summary": Start("summary"),
    "field": Start("field"),
    "later": Start("nudge_later"),
    "growth": Start("growth"),
    "team_growth": Start("growth", {"side": "manager"}),
    "learning": Start("learning"),
    "buddy": Start("buddy"),
    "web": Start("web"),
    "feedback": Start("feedback"),
    "feedback_reply": Start("feedback_reply"),
    "stories": Start("stories"),
    "pulse": Start("pulse"),
    "pulse_results": Start("pulse_results"),
}
"""Global intents that open a conversation, in any state. A button's intent may carry an
argument after a colon (``campaign:12:kickoff:interested``): the dialog gets it as ``arg``."""
BUTTON_ONLY_INTENTS = frozenset({"campaign", "later", "feedback_reply"})
"""Intents only a button sends (with its argument); no typed phrase maps to them."""


class UnknownPerson(LookupError):
    pass


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    """A redelivery of an inbound id already handled: no replies."""
    STALE = "stale"
    """An answer to a prompt that is no longer open: state unchanged."""
    INVALID = "invalid"
    """The answer did not fit the prompt: asked again."""
    REFUSED = "refused"
    """The message was too long: asked again."""
    REJECTED = "rejected"
    """A button whose conversation may not start (its campaign ended, is unknown or not meant
    for this person): said why, the open question asked again, state unchanged."""


@dataclass(frozen=True)
class Handled:
    replies: list[Reply]
    outcome: Outcome = Outcome.HANDLED
    language: str = ""
    """The person's language after the turn (it may have just changed), for channel texts."""
    timezone: str = ""
    """The person's time zone after the turn, for a channel reading a typed date back (no
    second trip to the database for it)."""


class Runtime:
    def __init__(
        self,
        engine: Engine,
        *,
        dialogs: Mapping[str, Dialog],
        content: Content,
        settings: DialogSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        session_ttl: timedelta = timedelta(days=14),
        assistant: Assistant | None = None,
    ) -> None:
        self.engine = engine
        self.dialogs = dict(dialogs)
        self.content = content
        self.settings = settings or DialogSettings()
        self.clock = clock
        self.session_ttl = session_ttl
        self.assistant: Assistant = assistant or ContentAssistant(content)

    # -- entry points -------------------------------------------------------------------

    def handle(self, turn: Turn) -> list[Reply]:
        return self.handle_turn(turn).replies

    def handle_turn(self, turn: Turn) -> Handled:
        """Like ``handle``, and says how the turn went, for channels that update the message
        a button was on (answered, stale...)."""
        return self.handle_turn_and(turn, _nothing)[0]

    def handle_turn_and(
        self, turn: Turn, then: Callable[[Session, Handled], T]
    ) -> tuple[Handled, T]:
        """``handle_turn``, then ``then(db, handled)`` in the same transaction: a channel's own
        writes that go with the turn (the messages it settles) are committed with it, in one
        commit, or not at all. Like the turn, ``then`` may run more than once (see the module's
        note) and must write only through ``db``; what the last run returns comes back."""
        now = self.clock()

        def work(db: Session) -> tuple[Handled, T]:
            handled = self._handle(db, turn, now)
            return handled, then(db, handled)

        return run_in_transaction(self.engine, work)

    def resume(self, person_id: int) -> list[Reply]:
        """What to show someone coming back: the open question, if a conversation is open."""
        with Session(self.engine, expire_on_commit=False) as db:
            replies = self.resume_in(db, person_id)
            db.commit()
            return replies

    def resume_in(self, db: Session, person_id: int) -> list[Reply]:
        """``resume`` in the caller's transaction (which commits it: a conversation found
        expired is closed)."""
        person, active = self._load(db, person_id, self.clock())
        if active is None or active.prompt is None:
            return []
        return [
            Say(self.content.text(person.language, "runtime.welcome_back")),
            prompt_from_dict(active.prompt),
        ]

    # -- one turn -----------------------------------------------------------------------

    def _handle(self, db: Session, turn: Turn, now: datetime) -> Handled:
        """One run of the turn (it may run twice, see the module's note): claim, load, respond."""
        if turn.inbound_id is not None and not claim(db, turn.inbound_id, now=now):
            log.info("inbound %s is a redelivery; ignored", turn.inbound_id)
            return Handled([], Outcome.DUPLICATE)
        person, active = self._load(db, turn.person_id, now)
        handled = self._respond(db, turn, person, active, now)
        return replace(handled, language=person.language, timezone=person.timezone)

    def _respond(
        self,
        db: Session,
        turn: Turn,
        person: Person,
        active: DialogSession | None,
        now: datetime,
    ) -> Handled:
        text = clean(turn.text) if turn.text is not None else None
        replies: list[Reply] = []

        if text is not None and len(text) > MAX_TEXT_CHARS:
            replies.append(self._say(person, "runtime.too_long", count=MAX_TEXT_CHARS))
            return Handled(replies + self._reprompt(active), Outcome.REFUSED)

        if turn.action is not None and turn.action.session_id is not None:
            action = turn.action
            if active is None or (active.id, active.step, active.seq) != (
                action.session_id,
                action.step,
                action.seq,
            ):
                log.debug("stale action for person %s", person.id)
                replies.append(self._say(person, "runtime.stale"))
                return Handled(replies + self._reprompt(active), Outcome.STALE)

        button_only = (turn.intent or "").partition(":")[0] in BUTTON_ONLY_INTENTS
        if person.welcomed_at is None and active is None and not button_only:
            # (a campaign button still counts for someone the bot has not welcomed yet)
            return Handled(self._start(db, person, now, Start("welcome"), replies))

        intent = turn.intent
        if intent is None and turn.action is None and text:
            intent = self.content.intents.get(normalise_keyword(text))
            if intent is not None and self._is_an_option(active, text, person, now):
                intent = None  # "team" typed at a question offering "team": the answer wins
        if intent is not None:
            return self._intent(db, person, now, intent, active, replies)

        if active is None or active.prompt is None:
            if active is not None:
                active.status = SessionStatus.ABANDONED
            return Handled(self._start(db, person, now, Start("menu"), replies))

        prompt = prompt_from_dict(active.prompt)
        pressed = turn.action is not None
        answer: Any = turn.action.value if turn.action is not None else text
        parsed = prompt.parse(answer, self._parse_context(person, now, pressed=pressed))
        if not parsed.ok:
            replies.append(Say(parsed.retry or prompt.retry))
            return Handled([*replies, prompt], Outcome.INVALID)
        return Handled(
            self._run(
                db, person, now, active, active.step, replies, answered=True, answer=parsed.value
            )
        )

    def _intent(
        self,
        db: Session,
        person: Person,
        now: datetime,
        intent: str,
        active: DialogSession | None,
        replies: list[Reply],
    ) -> Handled:
        if intent == "greet":  # an install or an opened home: nothing to say once welcomed
            return Handled(replies)
        if intent == "help":
            replies.append(self._say(person, "runtime.help"))
            return Handled(replies + self._reprompt(active))
        if intent == "cancel":
            if active is None:
                replies.append(self._say(person, "runtime.nothing_to_cancel"))
                return Handled(replies)
            active.status = SessionStatus.CANCELLED
            active.prompt = None
            replies.append(self._say(person, "runtime.cancelled"))
            return Handled(replies)
        if intent == "resume":
            today = now.astimezone(ZoneInfo(person.timezone)).date()
            paused = person.nudge_paused_until is not None and person.nudge_paused_until >= today
            pause_nudges(db, person, None)
            key = "runtime.resumed" if paused else "runtime.not_paused"
            replies.append(
                self._say(person, "runtime.nudges_off" if person.nudge_frequency == "off" else key)
            )
            return Handled(replies + self._reprompt(active))
        name, _, arg = intent.partition(":")
        if name not in DIALOG_INTENTS:
            log.info("unknown intent %r; showing the menu", name)
            name, arg = "menu", ""
        start = DIALOG_INTENTS[name]
        if arg:
            start = replace(start, values={**start.values, "arg": arg[:200]})
        refusal = self._refusal(db, person, now, start)
        if refusal is not None:
            # checked before anything is put aside: a refused button changes nothing
            replies.append(self._say(person, refusal))
            return Handled(replies + self._reprompt(active), Outcome.REJECTED)
        return Handled(self._start(db, person, now, start, replies, put_aside=active))

    def _refusal(self, db: Session, person: Person, now: datetime, start: Start) -> str | None:
        """The text key of why ``start`` may not begin now (its dialog's precondition), or None.
        Asked before the open conversation is put aside; a precondition only reads, and
        anything it says is dropped."""
        precondition = self.dialogs[start.dialog_id].precondition
        if precondition is None:
            return None
        return precondition(self._ctx(db, person, now, deepcopy(start.values)))

    # -- running steps ------------------------------------------------------------------

    def _start(
        self,
        db: Session,
        person: Person,
        now: datetime,
        start: Start,
        replies: list[Reply],
        *,
        put_aside: DialogSession | None = None,
    ) -> list[Reply]:
        if put_aside is not None:
            put_aside.status = SessionStatus.ABANDONED
            put_aside.prompt = None
            if put_aside.dialog_id not in (start.dialog_id, "menu"):
                title = self.content.text(person.language, self.dialogs[put_aside.dialog_id].title)
                replies.append(self._say(person, "runtime.put_aside", title=title))
        session = self._new_session(db, person, now, start)
        return self._run(db, person, now, session, session.step, replies)

    def _new_session(
        self, db: Session, person: Person, now: datetime, start: Start
    ) -> DialogSession:
        dialog = self.dialogs[start.dialog_id]
        assert person.id is not None
        session = DialogSession(
            person_id=person.id,
            dialog_id=dialog.id,
            dialog_version=dialog.version,
            step=start.step or dialog.first,
            values=dict(start.values),
            created_at=now,
            updated_at=now,
            expires_at=now + self.session_ttl,
        )
        db.add(session)
        db.flush()  # the id goes on every prompt's buttons
        return session

    def _run(
        self,
        db: Session,
        person: Person,
        now: datetime,
        session: DialogSession,
        step: str,
        replies: list[Reply],
        *,
        answered: bool = False,
        answer: Any = None,
    ) -> list[Reply]:
        # A deep copy: a step that changes a list in ``values`` in place must not change the
        # session's loaded state too, or the change would look like no change and not be saved.
        ctx = self._ctx(db, person, now, deepcopy(session.values), replies)
        ctx.answered, ctx.answer = answered, answer
        for _ in range(MAX_HOPS):
            dialog = self.dialogs[session.dialog_id]
            log.debug("person %s: %s.%s", person.id, dialog.id, step)
            outcome = dialog.steps[step](ctx)
            if ctx.forgotten:
                return ctx.replies
            if isinstance(outcome, Goto):
                step, ctx.answered, ctx.answer = outcome.step, False, None
                continue
            if isinstance(outcome, Start):
                self._close(session, ctx, now, SessionStatus.DONE)
                session = self._new_session(db, person, now, outcome)
                step, ctx.values = session.step, deepcopy(session.values)
                ctx.answered, ctx.answer = False, None
                continue
            if isinstance(outcome, End):
                self._close(session, ctx, now, SessionStatus.DONE)
                return ctx.replies
            if isinstance(outcome, Retry):
                ctx.replies.append(Say(outcome.message))
                self._save(session, ctx, now)
                return ctx.replies + self._reprompt(session)
            if isinstance(outcome, Ask):
                assert session.id is not None
                session.seq += 1
                session.step = step
                prompt = with_ref(outcome.prompt, session_id=session.id, step=step, seq=session.seq)
                session.prompt = prompt.to_dict()
                self._save(session, ctx, now)
                ctx.replies.append(prompt)
                return ctx.replies
            raise TypeError(f"{dialog.id}.{step} returned {outcome!r}")
        raise RuntimeError(f"dialog {session.dialog_id} ran {MAX_HOPS} steps without asking")

    def _ctx(
        self,
        db: Session,
        person: Person,
        now: datetime,
        values: dict[str, Any],
        replies: list[Reply] | None = None,
    ) -> Ctx:
        return Ctx(
            person=person,
            db=db,
            content=self.content,
            now=now,
            values=values,
            settings=self.settings,
            assistant=self.assistant,
            replies=[] if replies is None else replies,
        )

    def _save(self, session: DialogSession, ctx: Ctx, now: datetime) -> None:
        session.values = deepcopy(ctx.values)
        session.updated_at = now
        session.expires_at = now + self.session_ttl

    def _close(
        self, session: DialogSession, ctx: Ctx, now: datetime, status: SessionStatus
    ) -> None:
        self._save(session, ctx, now)
        session.status = status
        session.prompt = None

    # -- helpers ------------------------------------------------------------------------

    def _load(
        self, db: Session, person_id: int, now: datetime
    ) -> tuple[Person, DialogSession | None]:
        """The person and their open conversation, in one query; a conversation that expired
        or whose dialog changed shape since is closed instead."""
        row = person_with_open_session(db, person_id)
        if row is None:
            raise UnknownPerson(person_id)
        person, active = row
        if active is None:
            return person, None
        dialog = self.dialogs.get(active.dialog_id)
        expired = active.expires_at is not None and active.expires_at < now
        if (
            expired
            or dialog is None
            or dialog.version != active.dialog_version
            or active.step not in dialog.steps
        ):
            active.status = SessionStatus.ABANDONED
            active.prompt = None
            return person, None
        return person, active

    def _is_an_option(
        self, active: DialogSession | None, text: str, person: Person, now: datetime
    ) -> bool:
        """Whether ``text`` picks one of the open question's options (its buttons)."""
        if active is None or active.prompt is None:
            return False
        prompt = prompt_from_dict(active.prompt)
        if not prompt.options():
            return False
        parsed = prompt.parse(text, self._parse_context(person, now))
        return parsed.ok and not parsed.skipped

    def _reprompt(self, active: DialogSession | None) -> list[Reply]:
        if active is None or active.prompt is None:
            return []
        return [prompt_from_dict(active.prompt)]

    def _parse_context(
        self, person: Person, now: datetime, *, pressed: bool = False
    ) -> ParseContext:
        return ParseContext(
            today=now.astimezone(ZoneInfo(person.timezone)).date(),
            words=self.content.words,
            pressed=pressed,
        )

    def _say(self, person: Person, key: str, **values: Any) -> Say:
        return Say(self.content.text(person.language, key, **values))


def _nothing(_db: Session, _handled: Handled) -> None:
    """No channel work with the turn."""
