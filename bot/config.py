"""Configuration: the only module that reads the environment (and ``.env``).

Every setting is checked when it is read: a bad time, weekday, cadence, zone, country, URL,
number or name is a ``SettingsError`` with one line per bad variable, naming the variable as the
operator wrote it (``REGIE_NUDGE_TIME=9h30: expected a time like 09:30``). The CLI prints those
lines and exits with code 2 (``settings_or_exit``), so nothing starts on a bad configuration.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "REGIE_"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CADENCES = ("weekly", "biweekly", "monthly")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SYNCHRONOUS = ("full", "normal")
"""SQLite's ``synchronous`` settings Regie allows (``storage/db.py`` ``Synchronous``)."""
APP_TYPES = {"multitenant": "MultiTenant"}
APP_TYPES_WITH_TENANT = {"singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
MULTI_TENANT = ("common", "organizations", "consumers")
"""Entra ID's shared issuers: any tenant's accounts, so not one organisation's directory."""
DATABASE_DRIVERS = {"sqlite": {"", "pysqlite"}, "postgresql": {"", "psycopg"}}
"""Backends (and SQLAlchemy drivers) Regie runs on; ``postgres://`` is read as ``postgresql://``."""


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _any_case(*choices: str) -> BeforeValidator:
    """Accept ``choices`` in any case; anything else stays as written, for the error line."""
    canonical = {choice.lower(): choice for choice in choices}

    def spelled(value: object) -> object:
        if isinstance(value, str):
            return canonical.get(value.strip().lower(), value)
        return value

    return BeforeValidator(spelled)


def _blank_is_none(value: object) -> object:
    """An empty variable (``REGIE_NUDGE_WEEKDAY=``) means "not set"."""
    return None if isinstance(value, str) and not value.strip() else value


def _weekday_name(value: object) -> object:
    if isinstance(value, str):
        name = value.strip().lower()
        for number, day in enumerate(WEEKDAYS):
            if name in (day, day[:3]):
                return number
    return value


def _zero_padded(clock: str) -> str:
    hours, minutes = clock.split(":")
    return f"{int(hours):02d}:{minutes}"


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone name at all
        raise ValueError(EXPECTED["timezone"]) from None
    return value


def _holidays_country(value: str) -> str:
    from holidays.registry import COUNTRIES

    code = value.strip().upper()
    if code not in {names[1] for names in COUNTRIES.values()}:
        raise ValueError(EXPECTED["holidays_country"])
    return code


_HTTP_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


def _http_url(value: str) -> str:
    """The text as written (clients join paths to it), once pydantic agrees it is http(s)."""
    _HTTP_URL.validate_python(value)
    return value


def _database_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(EXPECTED["database_url"]) from None
    backend, _, driver = url.drivername.partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in DATABASE_DRIVERS:
        raise ValueError(f"{EXPECTED['database_url']}; {backend} is not supported")
    if driver not in DATABASE_DRIVERS[backend]:
        raise ValueError(f"{EXPECTED['database_url']}; the {driver} driver is not supported")
    if backend == "postgresql" and not _installed("psycopg"):
        raise ValueError("PostgreSQL needs the postgres extra: pip install 'regie[postgres]'")
    return value


def _installed(module: str) -> bool:
    """Whether an optional dependency (an extra of the package) is installed."""
    from importlib.util import find_spec

    return find_spec(module) is not None


Clock = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^([01]?\d|2[0-3]):[0-5]\d$"),
    AfterValidator(_zero_padded),
]
"""A local time of day, ``HH:MM`` (24-hour; ``9:30`` is read as ``09:30``)."""
Weekday = Annotated[int, BeforeValidator(_weekday_name), Field(ge=0, le=6)]
"""0 = Monday … 6 = Sunday, or the English day name (``monday``, ``mon``)."""
HttpUrlText = Annotated[str, BeforeValidator(_stripped), AfterValidator(_http_url)]
Positive = Annotated[float, Field(gt=0)]
Months = Annotated[int, Field(ge=1)]
Secret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]
"""A token or password; an empty variable counts as not set."""
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]


class Settings(BaseSettings):
    """Each field is read from ``REGIE_<NAME>`` (e.g. ``REGIE_DATABASE_URL``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: Annotated[str, BeforeValidator(_stripped), AfterValidator(_database_url)] = (
        "sqlite:///regie.db"
    )
    sqlite_synchronous: Annotated[Literal["full", "normal"], _any_case(*SYNCHRONOUS)] = "full"
    """REGIE_SQLITE_SYNCHRONOUS (a SQLite file only): ``full`` (default) writes every turn to
    disk before the bot answers; ``normal`` answers sooner, and a power cut or OS crash may then
    lose the last turns (docs/performance.md)."""
    language: Annotated[Literal["en", "nl"], _any_case("en", "nl")] = "en"
    """Language for people the bot enrols itself (nl or en)."""
    timezone: Annotated[str, BeforeValidator(_stripped), AfterValidator(_time_zone)] = (
        "Europe/Amsterdam"
    )
    holidays_country: Annotated[str, AfterValidator(_holidays_country)] = "NL"
    min_group_size: int = Field(default=5, ge=3)
    open_enrolment: bool = True
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], _any_case(*LOG_LEVELS)
    ] = "WARNING"
    nudge_time: Clock = "09:30"
    """Default local time of day for nudges (people can choose their own)."""
    nudge_weekday: Annotated[Weekday | None, BeforeValidator(_blank_is_none)] = None
    """Default weekday for periodic nudges, 0 = Monday; unset: any working day."""
    digest_weekday: Weekday = 0
    """Managers' digests come on this weekday (0 = Monday), at ``digest_time`` local time."""
    digest_time: Clock = "09:00"
    digest_cadence: Annotated[Literal["weekly", "biweekly", "monthly"], _any_case(*CADENCES)] = (
        "weekly"
    )
    """weekly, biweekly or monthly; each manager can choose their own under settings."""
    digest_nothing_new_note: bool = False
    """Send a short "nothing new" note instead of skipping a week with nothing shared."""
    nudge_grace_hours: Positive = 24.0
    """After downtime, a nudge that fell due at most this long ago is still sent (once)."""
    outbox_stuck_after: Positive = 120.0
    """Seconds after which a message still "sending" is taken to belong to a dead process."""
    delivery_stuck_after: Positive = 300.0
    """Seconds without a completed delivery pass after which ``/healthz`` says unhealthy."""
    slack_send_rate: Positive = 10.0
    """Messages per second the outbox sends to Slack at most (halved on each 429)."""
    teams_send_rate: Positive = 50.0
    """Requests per second to Teams for this app at most (Bot Framework: ~50/s per tenant)."""
    teams_sends_per_conversation: Positive = 7.0
    campaigns_dir: str = "campaigns"
    """Campaign files HR can launch from chat ("campaigns"); the CLI takes any path."""
    campaign_approval_over: int = Field(default=50, ge=1)
    """REGIE_CAMPAIGN_APPROVAL_OVER: a campaign launch (or edit) reaching more people than
    this needs the approval of a second hr or admin person."""
    outbox_retention_days: int = Field(default=30, ge=1)
    """Days a message's text stays in the outbox after it was delivered (or skipped, or died);
    then only the row remains (its key, state and times)."""
    retention_months: Annotated[Months | None, BeforeValidator(_blank_is_none)] = None
    """Personal items nobody changed for this many months are deleted, after a notice to their
    owner; unset or empty: kept until the person deletes them."""
    retention_notice_days: int = Field(default=14, ge=1, le=27)
    """How many days before such a deletion its owner is told."""
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    public_url: Annotated[HttpUrlText | None, BeforeValidator(_blank_is_none)] = None
    """REGIE_PUBLIC_URL: where people reach ``regie serve`` (download and sign-in links are
    built on it; https makes the web app's cookie Secure). Unset: http://localhost:<port>."""
    export_dir: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = (
        "regie-exports"
    )
    """REGIE_EXPORT_DIR: where ``regie chat`` writes "download my data" files."""

    slack_bot_token: Secret = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: Secret = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: Secret = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    """Set to use Socket Mode instead of the HTTP Events API."""
    slack_api_url: HttpUrlText = "https://slack.com/api/"
    stories_slack_channel: OptionalText = None
    """REGIE_STORIES_SLACK_CHANNEL: the id (C…) of the Slack channel where success stories are
    posted when their authors choose to (invite the app to it). Unset: no stories channel."""

    microsoft_app_id: OptionalText = Field(default=None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: Secret = Field(default=None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: OptionalText = Field(
        default=None, validation_alias="MICROSOFT_APP_TENANT_ID"
    )
    microsoft_app_type: str = Field(default="MultiTenant", validation_alias="MICROSOFT_APP_TYPE")
    teams_allow_unauthenticated: bool = False
    """Local development only: accept Teams activities without a Bot Framework token."""
    stories_teams_channel: OptionalText = None
    """REGIE_STORIES_TEAMS_CHANNEL: the Teams channel where success stories are posted when
    their authors choose to: its link (in Teams: the channel's ⋯ > Get link to channel) or,
    for a team's General channel, the team's id (19:…@thread.tacv2). Add the app to the team.
    Unset: no stories channel in Teams."""

    # Optional AI assistance (off by default; the product is complete without it).
    llm: Annotated[Literal["off", "on"], _any_case("off", "on")] = "off"
    """REGIE_LLM: on sends (masked) text to the model, for people who agreed."""
    llm_model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = (
        "gpt-4o-mini"
    )
    llm_monthly_token_budget: int = Field(default=2_000_000, ge=0)
    """Prompt plus completion tokens per calendar month (UTC); when spent, no more calls."""
    llm_timeout: Positive = 8.0
    """Seconds to wait for the model before carrying on without it."""
    openai_api_key: Secret = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: Annotated[HttpUrlText | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, validation_alias="OPENAI_BASE_URL"
    )
    """Azure OpenAI or any OpenAI-compatible server (default: OpenAI's own)."""
    calm: bool = True
    """REGIE_CALM: at most one message per person per half-day (dialogs/nudges/calm.py)."""

    # OpenID Connect sign-in to the web app (bot/web/oidc.py); a provider is on when its
    # client id and secret are set. Entra ID needs its tenant's issuer.
    oidc_entra_issuer: Annotated[HttpUrlText | None, BeforeValidator(_blank_is_none)] = None
    """https://login.microsoftonline.com/<tenant id>/v2.0 (your own tenant, not common)."""
    oidc_entra_client_id: OptionalText = None
    oidc_entra_client_secret: Secret = None
    oidc_slack_issuer: HttpUrlText = "https://slack.com"
    oidc_slack_client_id: OptionalText = None
    oidc_slack_client_secret: Secret = None

    @field_validator("oidc_entra_issuer", "oidc_slack_issuer")
    @classmethod
    def _oidc_issuer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        url = urlsplit(value)
        local = url.hostname in ("localhost", "127.0.0.1", "::1")
        if url.scheme != "https" and not local:
            raise ValueError("an issuer must be an https URL (http only on localhost)")
        tenant = url.path.strip("/").split("/")[0].lower()
        if url.hostname == "login.microsoftonline.com" and tenant in MULTI_TENANT:
            raise ValueError(
                "use your own tenant's issuer, "
                "https://login.microsoftonline.com/<tenant id>/v2.0, not " + tenant
            )
        return value.rstrip("/")

    @field_validator("oidc_entra_client_secret", "oidc_slack_client_secret")
    @classmethod
    def _oidc_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        provider = str(info.field_name).split("_")[1]
        client_id = info.data.get(f"oidc_{provider}_client_id")
        if bool(client_id) != (value is not None):
            raise ValueError(
                f"set both REGIE_OIDC_{provider.upper()}_CLIENT_ID and "
                f"REGIE_OIDC_{provider.upper()}_CLIENT_SECRET, or neither"
            )
        # An issuer that is merely invalid is not in info.data: it has its own line.
        unset = "oidc_entra_issuer" in info.data and not info.data["oidc_entra_issuer"]
        if provider == "entra" and value is not None and unset:
            raise ValueError("Entra ID sign-in needs REGIE_OIDC_ENTRA_ISSUER as well")
        return value

    @property
    def base_url(self) -> str:
        """The public URL without a trailing slash (links append ``/download/…``)."""
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def llm_enabled(self) -> bool:
        return self.llm == "on" and self.openai_api_key is not None

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_allow_unauthenticated

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @field_validator("stories_slack_channel")
    @classmethod
    def _stories_channel(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        channel = value.strip()
        if not re.fullmatch(r"[CG][A-Z0-9]{6,}", channel):
            raise ValueError(
                "expected a Slack channel id like C0123456789 (in Slack: the channel's details, "
                "at the bottom), not its name"
            )
        if info.data.get("slack_bot_token") is None:
            raise ValueError("a stories channel needs the Slack app: set SLACK_BOT_TOKEN as well")
        return channel

    @field_validator("stories_teams_channel")
    @classmethod
    def _stories_teams_channel(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        channel = value.strip()
        teams_channel(channel)  # a clear line when it is neither a channel's id nor its link
        if not (info.data.get("microsoft_app_id") or info.data.get("teams_allow_unauthenticated")):
            raise ValueError(
                "a stories channel in Teams needs the Teams app: set MICROSOFT_APP_ID as well"
            )
        if info.data.get("stories_slack_channel"):
            raise ValueError(
                "there is one stories channel: REGIE_STORIES_SLACK_CHANNEL is set as well"
            )
        return channel

    @property
    def stories_teams(self) -> TeamsChannel | None:
        """The Teams stories channel, read from its setting."""
        channel = self.stories_teams_channel
        return teams_channel(channel) if channel is not None else None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("llm")
    @classmethod
    def _llm_installed(cls, value: str) -> str:
        if value == "on" and not _installed("openai"):
            raise ValueError("AI assistance needs the ai extra: pip install 'regie[ai]'")
        return value

    @field_validator("microsoft_app_type")
    @classmethod
    def _app_type(cls, value: str, info: ValidationInfo) -> str:
        key = value.strip().lower()
        if key in APP_TYPES:
            return APP_TYPES[key]
        if key not in APP_TYPES_WITH_TENANT:
            raise ValueError(EXPECTED["microsoft_app_type"])
        name = APP_TYPES_WITH_TENANT[key]
        if info.data.get("microsoft_app_id") and not info.data.get("microsoft_app_tenant_id"):
            raise ValueError(f"a {name} bot needs MICROSOFT_APP_TENANT_ID as well")
        return name


@dataclass(frozen=True)
class TeamsChannel:
    """A Teams channel as a setting names it: its conversation id, and the team's Microsoft 365
    group when a link gave it (finds the team of a channel other than General)."""

    channel_id: str
    group_id: str | None = None


_TEAMS_CHANNEL_ID = re.compile(r"19:[A-Za-z0-9_.-]+@thread\.(?:tacv2|skype)")
_TEAMS_LINK = re.compile(
    r"https://teams\.(?:microsoft\.com|cloud\.microsoft)/l/(?:channel|team)/([^/?#]+)"
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def teams_channel(value: str) -> TeamsChannel:
    """A Teams channel's id, or a link to the channel (or team) as Teams gives it; ValueError
    with what was expected otherwise."""
    link = _TEAMS_LINK.match(value)
    channel = unquote(link.group(1)) if link else value
    if not _TEAMS_CHANNEL_ID.fullmatch(channel):
        raise ValueError(
            "expected the channel's link (in Teams: the channel's ⋯ > Get link to channel) or "
            "a team's id like 19:…@thread.tacv2"
        )
    group = parse_qs(urlsplit(value).query).get("groupId", [""])[0] if link else ""
    return TeamsChannel(channel, group.lower() if _GUID.fullmatch(group) else None)


EXPECTED: dict[str, str] = {
    "database_url": (
        "expected a database URL like sqlite:///regie.db or postgresql://user:password@host/db"
    ),
    "sqlite_synchronous": "expected full or normal",
    "language": "expected en or nl",
    "timezone": "expected an IANA time zone like Europe/Amsterdam",
    "holidays_country": "expected a country code the holidays package knows, like NL, BE or DE",
    "min_group_size": "expected a whole number of at least 3",
    "log_level": f"expected one of {', '.join(LOG_LEVELS)}",
    "nudge_time": "expected a time like 09:30",
    "digest_time": "expected a time like 09:00",
    "nudge_weekday": "expected a weekday 0-6 (0 = Monday) or a day name like monday, or empty",
    "digest_weekday": "expected a weekday 0-6 (0 = Monday) or a day name like monday",
    "digest_cadence": f"expected {', '.join(CADENCES[:-1])} or {CADENCES[-1]}",
    "nudge_grace_hours": "expected a number of hours above 0",
    "outbox_stuck_after": "expected a number of seconds above 0",
    "delivery_stuck_after": "expected a number of seconds above 0",
    "slack_send_rate": "expected a number of messages per second above 0",
    "teams_send_rate": "expected a number of requests per second above 0",
    "teams_sends_per_conversation": "expected a number of messages per second above 0",
    "outbox_retention_days": "expected a whole number of days, at least 1",
    "retention_months": "expected a whole number of months, at least 1, or empty (off)",
    "retention_notice_days": "expected a whole number of days from 1 to 27 (less than a month)",
    "host": "expected a host name or address like 127.0.0.1",
    "port": "expected a port number 1-65535",
    "public_url": "expected an http(s) URL like https://regie.example.com",
    "export_dir": "expected a directory like regie-exports",
    "slack_api_url": "expected an http(s) URL like https://slack.com/api/",
    "microsoft_app_type": "expected MultiTenant, SingleTenant or UserAssignedMSI",
    "llm": "expected on or off",
    "llm_model": "expected a model (or Azure deployment) name like gpt-4o-mini",
    "llm_monthly_token_budget": "expected a whole number of tokens, 0 or more",
    "llm_timeout": "expected a number of seconds above 0",
    "openai_base_url": "expected an http(s) URL like http://localhost:8000/v1",
    "oidc_entra_issuer": "expected an issuer like https://login.microsoftonline.com/<tenant>/v2.0",
    "oidc_slack_issuer": "expected an issuer like https://slack.com",
}
"""What each setting should look like, as the end of its error line."""
BY_ERROR_TYPE = {
    "bool_parsing": "expected true or false",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
}
SECRET_SHOWN = "***"
MAX_SHOWN = 80


class SettingsError(Exception):
    """Bad settings: ``lines`` holds one line per bad variable, naming it."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def variable_name(field: str) -> str:
    """The environment variable a setting is read from (``nudge_time`` -> REGIE_NUDGE_TIME)."""
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    return f"{ENV_PREFIX}{field.upper()}"


def _field_of(location: str) -> str:
    """The field a pydantic error location names (a field name, or its alias)."""
    for name, info in Settings.model_fields.items():
        if location in (name, info.validation_alias):
            return name
    return location


def _shown(field: str, value: Any) -> str:
    """The value as the error line quotes it: never a secret, never a password in a URL."""
    info = Settings.model_fields.get(field)
    if info is not None and SecretStr in (info.annotation, *get_args(info.annotation)):
        return SECRET_SHOWN
    text = value if isinstance(value, str) else str(value)
    text = re.sub(r"(//[^/@:]*):[^/@]*@", rf"\1:{SECRET_SHOWN}@", text)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _reason(field: str, error: Any) -> str:
    if error["type"] == "value_error":  # our own validators say it in full
        return str(error.get("ctx", {}).get("error", "")) or str(error["msg"])
    return EXPECTED.get(field) or BY_ERROR_TYPE.get(error["type"]) or error["msg"]


def describe(error: ValidationError) -> list[str]:
    """One line per bad variable: ``VARIABLE=value: what was expected``."""
    lines: dict[str, str] = {}
    for item in error.errors():
        field = _field_of(str(item["loc"][0])) if item["loc"] else ""
        if field in lines:
            continue  # a union reports each of its members: one line is enough
        name = variable_name(field) if field else "settings"
        lines[field] = f"{name}={_shown(field, item.get('input', ''))}: {_reason(field, item)}"
    return list(lines.values())


def load_settings(**values: Any) -> Settings:
    """Settings from the environment and ``.env`` (``values`` override them, as in tests)."""
    try:
        return Settings(**values)
    except ValidationError as error:
        raise SettingsError(describe(error)) from None


@cache
def get_settings() -> Settings:
    return load_settings()


def settings_or_exit() -> Settings:
    """For the CLI: the settings, or one line per bad variable on stderr and exit code 2."""
    try:
        return get_settings()
    except SettingsError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        raise SystemExit(2) from None
