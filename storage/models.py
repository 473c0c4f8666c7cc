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

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, Text, UniqueConstraint
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


class Answer(SharedItem, table=True):
    """A free-text answer in a reflection."""

    __table_args__ = (one_of("answer", "visibility", Visibility),)

    dialog_id: str = Field(sa_type=String(64))
    question_id: str = Field(sa_type=String(64))
    competency: str | None = Field(default=None, sa_type=String(32))
    frame: str | None = Field(default=None, sa_type=String(16))
    text: str = Field(sa_type=Text)


class Experiment(SharedItem, table=True):
    """One of the "three new things a year"."""

    __table_args__ = (
        one_of("experiment", "visibility", Visibility),
        one_of("experiment", "status", ExperimentStatus),
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
    )

    energy: int
    experiment_id: int | None = Field(
        default=None, foreign_key="experiment.id", ondelete="SET NULL", nullable=True
    )
    experiment_status: ExperimentStatus | None = Field(
        default=None, sa_type=EnumString(ExperimentStatus)
    )
    next_step: str = Field(default="", sa_type=Text)


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
        default=None, foreign_key="campaign.id", ondelete="CASCADE", nullable=True, index=True
    )
    """Set for a campaign's messages: its status and report count them."""
    campaign_step: str | None = Field(default=None, sa_type=String(40))
    """The campaign step it carries (set with ``campaign_id``); a copy queued by a button press
    ("remind me tomorrow", a freed workshop place) carries the step it came from."""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    not_before: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


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


PERSONAL_ITEM_TYPES: tuple[type[SharedItem], ...] = (
    Answer,
    Experiment,
    CheckIn,
    PlanItem,
    ProfileEntry,
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
