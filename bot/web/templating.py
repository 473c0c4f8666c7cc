"""The Jinja2 environment of the web app and of the "My development" page: templates in
``bot/web/templates/``, autoescaping on for every template, texts from the content files in
the reader's language, dates and numbers written the language's way (Babel)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from dialogs.engine.content import Content

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def environment_options() -> dict[str, Any]:
    """What every environment of ours is made with (aiohttp-jinja2 takes the same)."""
    return {
        "loader": jinja2.FileSystemLoader(TEMPLATES),
        "autoescape": True,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }


def environment() -> jinja2.Environment:
    """An environment for rendering outside a request (the download files, the console)."""
    return jinja2.Environment(**environment_options())


@dataclass(frozen=True)
class Words:
    """What a template calls to write: ``t("web.key", name=…)``, ``fmt.date(d)``…, in the
    reader's language and time zone."""

    content: Content
    lang: str
    timezone: str = "Europe/Amsterdam"

    def t(self, key: str, count: Any = None, **values: Any) -> str:
        return self.content.text(self.lang, key, count, **values)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(self.timezone)).date()
        return format_date(value, format="long", locale=self.lang)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(
            value, format="medium", tzinfo=ZoneInfo(self.timezone), locale=self.lang
        )

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.lang)

    def context(self) -> dict[str, Any]:
        """The template variables: ``t``, ``fmt`` and ``lang``."""
        return {"t": self.t, "fmt": self, "lang": self.lang}
