"""The schema: every table Regie stores.

Personal items (answers, experiments, check-ins, plan items, profile entries) all carry the
privacy model of DESIGN.md through :class:`SharedItem`: a ``visibility`` (``private`` by default,
or ``manager``) and ``in_aggregates`` (may this item be counted, never shown, in anonymous
aggregates). Schema changes go through Alembic migrations in ``storage/migrations``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Double,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime stores it the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC)


OnDelete = Literal["CASCADE", "SET NULL"]


class Role(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"


class Visibility(StrEnum):
    PRIVATE = "private"
    MANAGER = "manager"


class ExperimentStatus(StrEnum):
    PLANNED = "planned"
    DOING = "doing"
    DONE = "done"
    DROPPED = "dropped"


class PlanKind(StrEnum):
    PERSONAL = "personal"
    IMPROVEMENT = "improvement"
    TEAM = "team"


class PlanStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class ProfileKind(StrEnum):
    SKILL = "skill"
    TALENT = "talent"
    LEARN = "learn"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


class ConsentKind(StrEnum):
    PRIVACY_NOTICE = "privacy_notice"
    AI = "ai"
    """May text this person wrote be sent (masked) to the organisation's AI model?"""


class EnumString(TypeDecorator[StrEnum]):
    """A ``VARCHAR`` holding one of a StrEnum's values, read back as the enum's member (so a
    loaded row holds what its annotation says). The database's own check is ``one_of``."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: StrEnum | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def one_of(table: str, column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK that ``column`` holds one of the enum's values (NULL passes, as always in SQL),
    named ``ck_<table>_<column>``: the database refuses any other value."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}")


def _person_fk(*, nullable: bool = False, on_delete: OnDelete = "CASCADE") -> Any:
    """A foreign key to ``person``; a fresh Field each call, so subclasses never share a Column."""
    if nullable:
        return Field(
            default=None, foreign_key="person.id", ondelete=on_delete, nullable=True, index=True
        )
    return Field(foreign_key="person.id", ondelete=on_delete, index=True)


def table_name(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


class Person(SQLModel, table=True):
    __table_args__ = (
        one_of("person", "role", Role),
        one_of("person", "default_visibility", Visibility),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(320), unique=True, index=True)
    name: str = Field(sa_type=String(200))
    manager_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    buddy_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    """A new hire's buddy: the colleague who shows them the way (``buddy_email`` in the CSV)."""
    growth_rhythm_months: int | None = None
    """Growth conversations with the manager every this many months (either side sets it;
    ``storage/conversations.py`` proposes the next date from it); None: no rhythm."""
    department: str = Field(default="", sa_type=String(200))
    role: Role = Field(default=Role.EMPLOYEE, sa_type=EnumString(Role))
    language: str = Field(default="en", sa_type=String(8))
    timezone: str = Field(default="Europe/Amsterdam", sa_type=String(64))
    country: str = Field(default="NL", sa_type=String(8))
    start_date: date | None = None
    slack_user_id: str | None = Field(default=None, sa_type=String(64), unique=True)
    teams_aad_id: str | None = Field(default=None, sa_type=String(64), unique=True)
    nudge_frequency: str = Field(default="biweekly", sa_type=String(16))
    nudge_paused_until: date | None = None
    nudge_weekday: int | None = None
    """Preferred weekday for nudges (0 = Monday); None: the organisation's default."""
    nudge_time: str | None = Field(default=None, sa_type=String(5))
    """Preferred local time of day for nudges, "HH:MM"; None: the organisation's default."""
    digest_cadence: str | None = Field(default=None, sa_type=String(16))
    """For managers: weekly, biweekly or monthly digests; None: the organisation's default."""
    default_visibility: Visibility = Field(
        default=Visibility.PRIVATE, sa_type=EnumString(Visibility)
    )
    in_aggregates: bool = True
    campaigns_opt_out: bool = False
    """No messages from HR campaigns (people can say so in settings)."""
    welcomed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DialogSession(SQLModel, table=True):
    """One conversation in progress (or finished): the durable state of the dialog runtime."""

    __tablename__ = "dialog_session"
    __table_args__ = (
        Index("ix_dialog_session_person_status", "person_id", "status"),
        one_of("dialog_session", "status", SessionStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _person_fk()
    dialog_id: str = Field(sa_type=String(64))
    dialog_version: int = 1
    step: str = Field(sa_type=String(64))
    seq: int = 0
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prompt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: SessionStatus = Field(default=SessionStatus.ACTIVE, sa_type=EnumString(SessionStatus))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None


class SharedItem(SQLModel):
    """Columns every personal item carries: who owns it and who may see it. Each table declares
    ``one_of(<table>, "visibility", Visibility)`` among its own ``__table_args__``."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _person_fk()
    visibility: Visibility = Field(default=Visibility.PRIVATE, sa_type=EnumString(Visibility))
    in_aggregates: bool = True
    created_at: datetime = Field(default_factory=utcnow)


def month_of(moment: datetime) -> str:
    """``YYYY-MM`` of a moment in UTC (a naive moment is taken as UTC, as stored)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m")


def _created_month(context: Any) -> str:
    return month_of(context.get_current_parameters()["created_at"])


def created_month_field() -> Any:
    """The UTC month of ``created_at``, written with the row (by the ORM and by bulk inserts
    alike: a column default computed from the row's ``created_at``), so that HR's monthly
    figures count people per month from an index instead of reading and sorting every row.
    Never set it yourself; ``created_at`` never changes after the insert."""
    return Field(
        default=None,
        sa_type=String(7),
        nullable=False,
        sa_column_kwargs={"default": _created_month},
    )


def monthly_index(table: str) -> Index:
    """People per month from the index alone: (counted?, month, person, moment)."""
    return Index(f"ix_{table}_monthly", "in_aggregates", "created_month", "person_id", "created_at")


class Answer(SharedItem, table=True):
    """A free-text answer in a reflection."""

    __table_args__ = (one_of("answer", "visibility", Visibility), monthly_index("answer"))

    dialog_id: str = Field(sa_type=String(64))
    question_id: str = Field(sa_type=String(64))
    competency: str | None = Field(default=None, sa_type=String(32))
    frame: str | None = Field(default=None, sa_type=String(16))
    text: str = Field(sa_type=Text)
    created_month: str | None = created_month_field()


class Experiment(SharedItem, table=True):
    """One of the "three new things a year"."""

    __table_args__ = (
        one_of("experiment", "visibility", Visibility),
        one_of("experiment", "status", ExperimentStatus),
        # HR's participation report counts people with a planned, running or (this year) done
        # experiment from this index alone, without reading the experiments' texts.
        Index("ix_experiment_aggregates", "in_aggregates", "status", "person_id", "done_at"),
    )

    title: str = Field(sa_type=String(500))
    idea_id: str | None = Field(default=None, sa_type=String(64))
    why: str = Field(default="", sa_type=Text)
    planned_date: date | None = None
    status: ExperimentStatus = Field(
        default=ExperimentStatus.PLANNED, sa_type=EnumString(ExperimentStatus)
    )
    learned: str | None = Field(default=None, sa_type=Text)
    keep_doing: str | None = Field(default=None, sa_type=Text)
    lesson_private: bool = False
    """The lesson (``learned``, ``keep_doing``) stays private even when the experiment is
    shared: written later than the rest, it is shared only when its owner says so."""
    updated_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", ondelete="SET NULL", nullable=True, index=True
    )
    """The campaign whose message it was started from (counted, never shown, in its report)."""


class CheckIn(SharedItem, table=True):
    __tablename__ = "check_in"
    __table_args__ = (
        one_of("check_in", "visibility", Visibility),
        one_of("check_in", "experiment_status", ExperimentStatus),
        monthly_index("check_in"),
    )

    energy: int
    experiment_id: int | None = Field(
        default=None, foreign_key="experiment.id", ondelete="SET NULL", nullable=True
    )
    experiment_status: ExperimentStatus | None = Field(
        default=None, sa_type=EnumString(ExperimentStatus)
    )
    next_step: str = Field(default="", sa_type=Text)
    created_month: str | None = created_month_field()


class PlanItem(SharedItem, table=True):
    __tablename__ = "plan_item"
    __table_args__ = (
        one_of("plan_item", "visibility", Visibility),
        one_of("plan_item", "kind", PlanKind),
        one_of("plan_item", "status", PlanStatus),
    )

    kind: PlanKind = Field(sa_type=EnumString(PlanKind))
    title: str = Field(sa_type=String(500))
    target_date: date | None = None
    status: PlanStatus = Field(default=PlanStatus.OPEN, sa_type=EnumString(PlanStatus))
    done_at: datetime | None = None


class ProfileEntry(SharedItem, table=True):
    """A skill or talent to be known for, or something the person wants to learn."""

    __tablename__ = "profile_entry"
    __table_args__ = (
        one_of("profile_entry", "visibility", Visibility),
        one_of("profile_entry", "kind", ProfileKind),
    )

    kind: ProfileKind = Field(sa_type=EnumString(ProfileKind))
    text: str = Field(sa_type=String(500))


class FeedbackState(StrEnum):
    ASKED = "asked"
    LATER = "later"
    """The colleague asked to be reminded (once)."""
    ANSWERED = "answered"
    DECLINED = "declined"
    """"No thanks", no reason asked; the requester only ever sees how many answered."""


class FeedbackRequest(SharedItem, table=True):
    """Someone asked 1–3 colleagues for feedback on something (an experiment, a plan item, a
    quality). The answers are the requester's alone: private unless they share them with their
    manager (``visibility``); ``anonymous``: shown without names, once at least 3 answered."""

    __tablename__ = "feedback_request"
    __table_args__ = (one_of("feedback_request", "visibility", Visibility),)

    topic: str = Field(sa_type=String(500))
    anonymous: bool = False


class FeedbackAsk(SQLModel, table=True):
    """One colleague asked within a :class:`FeedbackRequest`, and what they answered. The
    answer is the colleague's text too: forgetting either of them deletes it."""

    __tablename__ = "feedback_ask"
    __table_args__ = (
        UniqueConstraint("request_id", "colleague_id", name="uq_feedback_ask"),
        one_of("feedback_ask", "state", FeedbackState),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="feedback_request.id", ondelete="CASCADE", index=True)
    colleague_id: int = _person_fk()
    state: FeedbackState = Field(default=FeedbackState.ASKED, sa_type=EnumString(FeedbackState))
    answer: str | None = Field(default=None, sa_type=Text)
    asked_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None


class StoryState(StrEnum):
    SHARED = "shared"
    WITHDRAWN = "withdrawn"


class PostState(StrEnum):
    """A story's message in the organisation's stories channel."""

    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"
    """The platform refused it for good (``post_error`` says why)."""
    DELETING = "deleting"
    """Withdrawn: the posted message is to be deleted."""
    DELETED = "deleted"
    KEPT = "kept"
    """Withdrawn, but the platform would not delete it (``post_error`` says why)."""


class Story(SQLModel, table=True):
    """A finished experiment told as a short story, shared only on its author's say-so: with
    HR for campaigns (``for_hr``) and/or in the stories channel (``in_channel``). Withdrawn,
    it is no longer shown anywhere and its channel message is deleted where the platform
    allows. A forgotten author's posted story keeps only what its deletion needs (no person,
    no text) until the message is gone."""

    __table_args__ = (
        one_of("story", "state", StoryState),
        one_of("story", "post_state", PostState),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = _person_fk(nullable=True, on_delete="CASCADE")
    experiment_id: int | None = Field(
        default=None, foreign_key="experiment.id", ondelete="SET NULL", nullable=True
    )
    title: str = Field(default="", sa_type=String(300))
    tried: str = Field(default="", sa_type=Text)
    learned: str = Field(default="", sa_type=Text)
    for_hr: bool = False
    in_channel: bool = False
    state: StoryState = Field(default=StoryState.SHARED, sa_type=EnumString(StoryState))
    created_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None
    post_state: PostState | None = Field(default=None, sa_type=EnumString(PostState))
    post_channel: str | None = Field(default=None, sa_type=String(16))
    """The platform it was posted on (slack, teams)."""
    post_ref: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """What deleting the message needs (Slack: channel and ts; Teams: conversation and id)."""
    post_error: str | None = Field(default=None, sa_type=Text)
    posted_at: datetime | None = None
    post_attempts: int = 0
    """Tries of the current post or deletion (each claimed before the platform is called)."""
    post_after: datetime | None = None
    """The next try waits until then (a claim in progress, or the backoff after a failure)."""


class LearningKind(StrEnum):
    COURSE = "course"
    TRAINING = "training"
    CERTIFICATE = "certificate"
    INFORMAL = "informal"
    """Shadowing, mentoring, a colleague who showed how: learning without a course."""


class LearningEntry(SharedItem, table=True):
    """One entry of the learning record (``storage/learning.py``): a course, training,
    certificate or informal learning, and what the person took from it."""

    __tablename__ = "learning_entry"
    __table_args__ = (
        one_of("learning_entry", "visibility", Visibility),
        one_of("learning_entry", "kind", LearningKind),
    )

    kind: LearningKind = Field(sa_type=EnumString(LearningKind))
    title: str = Field(sa_type=String(300))
    learned_on: date | None = None
    link: str | None = Field(default=None, sa_type=String(500))
    """An http(s) address only (a certificate, the course page)."""
    takeaway: str = Field(default="", sa_type=Text)
    """What I took from it."""


class ConversationSide(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"


class ConversationStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class GrowthConversation(SQLModel, table=True):
    """A planned growth conversation between an employee and their manager
    (``storage/conversations.py``). The prep is the employee's and private until they bring it
    (``agenda_shared_at``): then the manager's agenda shows the three short texts and the
    brought items that are still shared with them. Agreements become the employee's plan items;
    the manager's note only when the employee adds it."""

    __tablename__ = "growth_conversation"
    __table_args__ = (
        Index("ix_growth_conversation_person_date", "person_id", "planned_for"),
        one_of("growth_conversation", "set_by", ConversationSide),
        one_of("growth_conversation", "status", ConversationStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _person_fk()
    """The employee."""
    manager_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    planned_for: date
    set_by: ConversationSide = Field(sa_type=EnumString(ConversationSide))
    status: ConversationStatus = Field(
        default=ConversationStatus.PLANNED, sa_type=EnumString(ConversationStatus)
    )
    topics: str = Field(default="", sa_type=Text)
    """What I want to talk about."""
    went_well: str = Field(default="", sa_type=Text)
    needs: str = Field(default="", sa_type=Text)
    """What I need."""
    brought: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """References of the employee's own shared items they chose to bring (``experiment:12``)."""
    prepared_at: datetime | None = None
    agenda_shared_at: datetime | None = None
    """When the employee brought the prep to their manager; None: it stays theirs alone."""
    employee_agreement: str | None = Field(default=None, sa_type=Text)
    manager_note: str | None = Field(default=None, sa_type=Text)
    """The manager's agreement, shown to the employee, who decides whether it joins their plan."""
    manager_note_added: bool | None = None
    """None: not decided yet; True: added to the employee's plan; False: not added."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsentRecord(SQLModel, table=True):
    """A consent given or withdrawn (privacy notice seen, AI use...), kept as history."""

    __tablename__ = "consent_record"
    __table_args__ = (one_of("consent_record", "kind", ConsentKind),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _person_fk()
    kind: ConsentKind = Field(sa_type=EnumString(ConsentKind, 32))
    granted: bool
    at: datetime = Field(default_factory=utcnow)


class ChannelAddress(SQLModel, table=True):
    """Where a person can be reached on a platform without them writing first (a Teams
    conversation reference), refreshed on every turn."""

    __tablename__ = "channel_address"
    __table_args__ = (UniqueConstraint("person_id", "channel", name="uq_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _person_fk()
    channel: str = Field(sa_type=String(16))
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class TeamsCard(SQLModel, table=True):
    """A card Regie sent in Teams, by the id Teams gave it (unique within its conversation): as
    sent and as it shows once settled, so every replica, and a restarted one, settles it keeping
    its text (``storage/teams_cards.py``). Deleted after ``REGIE_OUTBOX_RETENTION_DAYS``."""

    __tablename__ = "teams_card"
    __table_args__ = (
        UniqueConstraint("conversation_id", "activity_id", name="uq_teams_card_activity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(sa_type=String(255))
    activity_id: str = Field(sa_type=String(255))
    person_id: int = _person_fk()
    card: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """The Adaptive Card as sent."""
    prompt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The question it asks (``Prompt.to_dict()``, with its session, step and seq), if any."""
    asking: bool = False
    """It asks the person's latest question, which may still be open."""
    settled: bool = False
    shown: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The card as it shows once settled (what it said, and the answer or "closed")."""
    pressed_at: datetime | None = None
    """A press settled it and its turn is running (cleared when the turn has ended)."""
    created_at: datetime = Field(default_factory=utcnow, index=True)


class TeamsTeam(SQLModel, table=True):
    """A Teams team Regie was added to: where a message to one of its channels goes (the
    Bot Framework service URL, tenant and bot account; no person). Stored on install, deleted
    when Regie is removed from the team or the team is deleted (``storage/teams_teams.py``)."""

    __tablename__ = "teams_team"

    team_id: str = Field(sa_type=String(255), primary_key=True)
    """The team's id, which is also its General channel's conversation id (``19:…@thread…``)."""
    aad_group_id: str | None = Field(default=None, sa_type=String(64), index=True)
    """The team's Microsoft 365 group (the ``groupId`` of a link to one of its channels)."""
    name: str = Field(default="", sa_type=String(255))
    reference: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """A conversation reference to the General channel, without the person who added Regie."""
    updated_at: datetime = Field(default_factory=utcnow)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    """A transient error: tried again after ``not_before``."""
    DEAD = "dead"
    """A permanent error, with ``last_error`` saying why; ``regie outbox retry-dead`` revives."""
    SKIPPED = "skipped"
    """No longer relevant when its turn came (paused, already done, campaign cancelled)."""
    HELD = "held"
    """Waiting for its campaign to be resumed: not sent while held."""


class Outbound(SQLModel, table=True):
    """The row of a message the bot starts on its own (nudge, digest, campaign step), written
    from a ``storage.outbox.OutboxMessage`` in the same transaction as the decision to send;
    the idempotency key makes a second enqueue a no-op."""

    __tablename__ = "outbound"
    __table_args__ = (
        Index("ix_outbound_due", "state", "not_before"),
        Index(
            "ix_outbound_campaign",
            "campaign_id",
            "state",
            "campaign_step",
            "channel",
            "not_before",
            "person_id",
        ),  # a campaign's figures and live status, counted from the index alone
        Index(
            "ix_outbound_history",
            "person_id",
            "created_at",
            postgresql_include=["kind", "state"],
            postgresql_where=text("campaign_id IS NULL"),
            sqlite_where=text("campaign_id IS NULL"),
        ),  # the nudge rules' history per person (dialogs/nudges/rules.py), from the index alone
        one_of("outbound", "state", OutboxState),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_type=String(200), unique=True)
    person_id: int = _person_fk()
    kind: str = Field(sa_type=String(32))
    channel: str | None = Field(default=None, sa_type=String(16))
    """Where it went (slack, teams, console); chosen at delivery time."""
    payload: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    """The replies, as channel-neutral dicts (rendered per channel when sent)."""
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=EnumString(OutboxState))
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", ondelete="CASCADE", nullable=True
    )
    """Set for a campaign's messages: its status and report count them."""
    campaign_step: str | None = Field(default=None, sa_type=String(40))
    """The campaign step it carries (set with ``campaign_id``); a copy queued by a button press
    ("remind me tomorrow", a freed workshop place) carries the step it came from."""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    not_before: datetime = Field(default_factory=utcnow)
    not_after: datetime | None = None
    """Of no use from then on (an invitation or a reminder: its workshop's start): never
    delivered later, skipped instead (``bot/delivery.py``)."""
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class SendBudget(SQLModel, table=True):
    """A platform's send budget, shared by every process that delivers the outbox
    (``storage/send_budget.py``): the moment from which its slots are still free."""

    __tablename__ = "send_budget"

    name: str = Field(sa_type=String(64), primary_key=True)
    """The platform (``slack``, ``teams``)."""
    free_from: float = Field(default=0.0, sa_type=Double)
    """Seconds since the epoch: slots before this were taken by some process."""


class ProcessedInbound(SQLModel, table=True):
    """Inbound platform ids already handled, so a redelivered event is processed once."""

    __tablename__ = "processed_inbound"

    inbound_id: str = Field(sa_type=String(200), primary_key=True)
    processed_at: datetime = Field(default_factory=utcnow, index=True)


class AuditEntry(SQLModel, table=True):
    """Who read or removed whose data. No foreign keys: entries outlive the people in them."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, index=True)
    subject_id: int | None = Field(default=None, index=True)
    action: str = Field(sa_type=String(64))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LinkPurpose(StrEnum):
    """What a one-time link (``storage/links.py``) may be used for, and for nothing else."""

    DOWNLOAD_JSON = "download_json"
    DOWNLOAD_PAGE = "download_page"
    SIGN_IN = "sign_in"
    CALENDAR = "calendar"
    """A workshop's calendar file (``subject``: ``<campaign id>:<workshop id>``)."""


class OneTimeLink(SQLModel, table=True):
    """A link that works once, for one person and one purpose, until it expires. Only the
    SHA-256 of its random token is stored: the database alone cannot make a working link."""

    __tablename__ = "one_time_link"
    __table_args__ = (
        Index("ix_one_time_link_issued", "person_id", "purpose", "created_at"),
        one_of("one_time_link", "purpose", LinkPurpose),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    purpose: LinkPurpose = Field(sa_type=EnumString(LinkPurpose))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    subject: str | None = Field(default=None, sa_type=String(120))
    """What the link is for within its purpose, when that needs saying (a calendar link: the
    campaign and workshop, ``<campaign id>:<workshop id>``)."""


class WebSession(SQLModel, table=True):
    """A signed-in browser (``bot/web/sessions.py``), shared by every replica. The cookie holds
    a random id; only its SHA-256 is stored. ``csrf_secret`` is what forms must send back."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(sa_type=String(64), unique=True)
    person_id: int = _person_fk()
    csrf_secret: str = Field(sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class CampaignState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class Campaign(SQLModel, table=True):
    """An HR campaign launched from a campaign file; ``spec`` is the file as last launched."""

    __table_args__ = (one_of("campaign", "state", CampaignState),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(40), unique=True)
    name: str = Field(sa_type=String(200))
    owner_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    state: CampaignState = Field(default=CampaignState.RUNNING, sa_type=EnumString(CampaignState))
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    spec_hash: str = Field(sa_type=String(64))
    version: int = 1
    launched_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CampaignRecipient(SQLModel, table=True):
    """Someone a campaign was launched to (its audience, fixed at launch; for campaigns that
    follow each person's start date, new hires join as they arrive)."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id", name="uq_campaign_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    person_id: int = _person_fk()
    added_at: datetime = Field(default_factory=utcnow)
    stopped_at: datetime | None = None
    """When they said "not for me" to the campaign: none of its later steps reach them."""


class CampaignResponse(SQLModel, table=True):
    """A button someone pressed on a campaign message (interested, not for me, signed up…)."""

    __tablename__ = "campaign_response"
    __table_args__ = (
        UniqueConstraint("campaign_id", "step", "person_id", "kind", name="uq_campaign_response"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    step: str = Field(sa_type=String(40))
    person_id: int = _person_fk()
    kind: str = Field(sa_type=String(32))
    at: datetime = Field(default_factory=utcnow)


class RsvpState(StrEnum):
    GOING = "going"
    WAITLIST = "waitlist"
    CANCELLED = "cancelled"


class CampaignRsvp(SQLModel, table=True):
    """A place at a campaign's workshop, or on its waitlist. The campaign owner sees these by
    name (the sign-up button says so)."""

    __tablename__ = "campaign_rsvp"
    __table_args__ = (
        UniqueConstraint("campaign_id", "workshop", "person_id", name="uq_campaign_rsvp"),
        one_of("campaign_rsvp", "state", RsvpState),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    workshop: str = Field(sa_type=String(40))
    person_id: int = _person_fk()
    state: RsvpState = Field(default=RsvpState.GOING, sa_type=EnumString(RsvpState))
    at: datetime = Field(default_factory=utcnow)


class CampaignAuthor(SQLModel, table=True):
    """An hr person who may launch campaigns, and to whom: everyone, or people in the listed
    departments or countries (either one is enough). Set by an administrator."""

    __tablename__ = "campaign_author"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", unique=True)
    everyone: bool = False
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    countries: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Upper case (ISO 3166 codes)."""
    updated_at: datetime = Field(default_factory=utcnow)


class LaunchState(StrEnum):
    PENDING = "pending"
    """Waiting for a second hr or admin person to approve it."""
    APPROVED = "approved"
    """Approved by a second person, and launched."""
    LAUNCHED = "launched"
    """Launched by its author alone (within their scope and the size limit)."""
    DECLINED = "declined"
    SUPERSEDED = "superseded"
    """A newer request for the same campaign replaced it before anyone decided."""


class CampaignLaunch(SQLModel, table=True):
    """One launch (or edit) of a campaign, as previewed: the exact file data and its hash, the
    audience size, who asked, why it needed a second person, and who approved or declined it
    and when. The campaign's history."""

    __tablename__ = "campaign_launch"
    __table_args__ = (one_of("campaign_launch", "state", LaunchState),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(40), index=True)
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", ondelete="CASCADE", nullable=True, index=True
    )
    """Set once it launched."""
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    spec_hash: str = Field(sa_type=String(64))
    audience: int = 0
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Why it needs a second person: ``size`` (over the limit), ``scope`` (outside the
    author's); empty when the author could launch it alone."""
    state: LaunchState = Field(default=LaunchState.PENDING, sa_type=EnumString(LaunchState))
    requested_by_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    requested_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = _person_fk(nullable=True, on_delete="SET NULL")
    decided_at: datetime | None = None


PERSONAL_ITEM_TYPES: tuple[type[SharedItem], ...] = (
    Answer,
    Experiment,
    CheckIn,
    PlanItem,
    ProfileEntry,
    LearningEntry,
)


class LlmUsage(SQLModel, table=True):
    """Tokens one request of an optional AI feature used: what the monthly budget is checked
    against and what ``regie llm usage`` adds up per month and feature. One row per request
    (inserts never wait on each other, unlike a counter row). Nobody's text, and no person,
    is stored here."""

    __tablename__ = "llm_usage"
    __table_args__ = (Index("ix_llm_usage_month_feature", "month", "feature"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(sa_type=String(7))
    """Calendar month (UTC) of the request, "2026-11"."""
    feature: str = Field(sa_type=String(32))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    at: datetime = Field(default_factory=utcnow)


class PulseAnswer(SQLModel, table=True):
    """One answer to a question of a learning-needs pulse, unlinked from who gave it: no person,
    no time, a random id; rows are rewritten in a random order when the pulse closes, so not even
    the order they were stored in is left (``storage/pulse.py``). ``department`` is the
    answerer's when at least K of the pulse's recipients work there, else None."""

    __tablename__ = "pulse_answer"

    id: str = Field(sa_type=String(32), primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    question: str = Field(sa_type=String(40))
    value: str = Field(sa_type=Text)
    """A scale's number, a choice's id, or free text."""
    department: str | None = Field(default=None, sa_type=String(100))


class PulseCopy(SQLModel, table=True):
    """While a pulse is open, the link from a person to their own answers: so they can read them
    back, and so forgetting them removes them. Deleted when the pulse closes."""

    __tablename__ = "pulse_copy"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    person_id: int = _person_fk()
    answer_id: str = Field(sa_type=String(32), foreign_key="pulse_answer.id", ondelete="CASCADE")


class PulseClosed(SQLModel, table=True):
    """A pulse that has closed: no more answers, nothing links anyone to theirs."""

    __tablename__ = "pulse_closed"

    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", primary_key=True)
    closed_at: datetime


class SchedulerRun(SQLModel, table=True):
    """The last run of each scheduled job, written by whichever ``regie serve`` schedules
    (``storage/scheduler_runs.py``), so that every replica's health page knows it. Only the
    type of an error is kept: an exception's text may quote what people wrote."""

    __tablename__ = "scheduler_run"

    job: str = Field(sa_type=String(64), primary_key=True)
    at: datetime
    error: str | None = Field(default=None, sa_type=String(200))
    host: str = Field(default="", sa_type=String(255))
    """Which process ran it: host name and process id."""
