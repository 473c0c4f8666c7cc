"""Configuration: the only module that reads the environment (and ``.env``)."""

from __future__ import annotations

from functools import cache

from pydantic import field_validator
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

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("en", "nl"):
            raise ValueError("REGIE_LANGUAGE must be 'en' or 'nl'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)  # raises for an unknown zone
        return value


@cache
def get_settings() -> Settings:
    return Settings()
