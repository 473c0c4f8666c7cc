"""Configuration: the only module that reads the environment (and ``.env``)."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Each field is read from ``REGIE_<NAME>`` (e.g. ``REGIE_DATABASE_URL``)."""

    model_config = SettingsConfigDict(
        env_prefix="REGIE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///regie.db"
    language: str = "en"
    """Language for people the bot enrols itself (nl or en)."""
    timezone: str = "Europe/Amsterdam"
    holidays_country: str = "NL"
    min_group_size: int = 5
    open_enrolment: bool = True
    log_level: str = "WARNING"
    nudge_time: str = "09:30"
    """Default local time of day for nudges (people can choose their own)."""
    nudge_weekday: int | None = None
    """Default weekday for periodic nudges, 0 = Monday; unset: any working day."""
    digest_weekday: int = 0
    """Managers' digests come on this weekday (0 = Monday), at ``digest_time`` local time."""
    digest_time: str = "09:00"
    digest_cadence: str = "weekly"
    """weekly, biweekly or monthly; each manager can choose their own under settings."""
    digest_nothing_new_note: bool = False
    """Send a short "nothing new" note instead of skipping a week with nothing shared."""
    nudge_grace_hours: float = 24.0
    """After downtime, a nudge that fell due at most this long ago is still sent (once)."""
    outbox_stuck_after: float = 120.0
    """Seconds after which a message still "sending" is taken to belong to a dead process."""
    slack_send_rate: float = 10.0
    """Messages per second the outbox sends to Slack at most (halved on each 429)."""
    teams_send_rate: float = 50.0
    """Requests per second to Teams for this app at most (Bot Framework: ~50/s per tenant)."""
    teams_sends_per_conversation: float = 7.0
    campaigns_dir: str = "campaigns"
    """Campaign files HR can launch from chat ("campaigns"); the CLI takes any path."""
    host: str = "127.0.0.1"
    port: int = 3000

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    """Set to use Socket Mode instead of the HTTP Events API."""
    slack_api_url: str = "https://slack.com/api/"

    microsoft_app_id: str | None = Field(default=None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(
        default=None, validation_alias="MICROSOFT_APP_PASSWORD"
    )
    microsoft_app_tenant_id: str | None = Field(
        default=None, validation_alias="MICROSOFT_APP_TENANT_ID"
    )
    microsoft_app_type: str = Field(default="MultiTenant", validation_alias="MICROSOFT_APP_TYPE")
    teams_allow_unauthenticated: bool = False
    """Local development only: accept Teams activities without a Bot Framework token."""

    # Optional AI assistance (off by default; the product is complete without it).
    llm: Literal["off", "on"] = "off"
    """REGIE_LLM: on sends (masked) text to the model, for people who agreed."""
    llm_model: str = "gpt-4o-mini"
    llm_monthly_token_budget: int = Field(default=2_000_000, ge=0)
    """Prompt plus completion tokens per calendar month (UTC); when spent, no more calls."""
    llm_timeout: float = Field(default=8.0, gt=0)
    """Seconds to wait for the model before carrying on without it."""
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    """Azure OpenAI or any OpenAI-compatible server (default: OpenAI's own)."""

    @property
    def llm_enabled(self) -> bool:
        return self.llm == "on" and self.openai_api_key is not None

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_allow_unauthenticated

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("en", "nl"):
            raise ValueError("REGIE_LANGUAGE must be 'en' or 'nl'")
        return value

    @field_validator("llm", mode="before")
    @classmethod
    def _llm(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)  # raises for an unknown zone
        return value


@cache
def get_settings() -> Settings:
    return Settings()
