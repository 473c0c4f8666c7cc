"""One-time links in the console: a download is written to disk right away (the console is
on the person's own computer) and its path printed, and so is a workshop's calendar file; a
sign-in link is printed as a URL.

Files go to ``REGIE_EXPORT_DIR`` (default ``./regie-exports/``, made ``0700``), named after
the person and the date, readable by their owner only (``0600``). Writing a file uses its
link like a browser would: once, audited ("you downloaded your data")."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.web.urls import link_url
from dialogs.engine.content import Content
from dialogs.engine.replies import PersonalLinks
from storage.models import LinkPurpose

if TYPE_CHECKING:
    from bot.web.export_files import ExportFile


@dataclass(frozen=True)
class Shown:
    """What the console shows for a set of links: its text, the files written, the URLs."""

    text: str
    files: tuple[Path, ...] = ()
    urls: tuple[tuple[str, str], ...] = ()

    def plain(self) -> str:
        lines = [self.text]
        lines += [f"  {path}" for path in self.files]
        lines += [f"  → {label}: {url}" for label, url in self.urls]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "say",
            "kind": "links",
            "text": self.text,
            "files": [str(path) for path in self.files],
            "links": [{"label": label, "url": url} for label, url in self.urls],
            "choices": [],
        }


@dataclass(frozen=True)
class ConsoleLinks:
    engine: Engine
    content: Content
    base_url: str
    export_dir: Path
    clock: Callable[[], datetime]

    def show(self, reply: PersonalLinks, lang: str) -> Shown:
        # Imported here: the file builders bring in the web app's templating, which a console
        # chat that never downloads anything should not pay for at start-up.
        from bot.web.calendar import calendar_file
        from bot.web.export_files import redeem_file

        files: list[Path] = []
        urls: list[tuple[str, str]] = []
        expired = False
        for link in reply.links:
            purpose = LinkPurpose(link.purpose)
            if purpose == LinkPurpose.SIGN_IN:
                urls.append((link.label, link_url(self.base_url, link.purpose, link.token)))
                continue
            if purpose == LinkPurpose.CALENDAR:  # a workshop's .ics, beside the exports
                found = calendar_file(self.engine, link.token, now=self.clock())
            else:
                found = redeem_file(
                    self.engine, link.token, now=self.clock(), content=self.content, via="console"
                )
            if found is None:
                expired = True
            else:
                files.append(self._write(found))
        calendar = all(LinkPurpose(link.purpose) == LinkPurpose.CALENDAR for link in reply.links)
        if files and calendar:
            text = self.content.text(lang, "campaign_care.calendar.saved")
        elif files:
            text = self.content.text(lang, "web.console.saved")
        elif expired:
            text = self.content.text(lang, "web.console.link_expired")
        else:
            text = reply.text
        return Shown(text, tuple(files), tuple(urls))

    def _write(self, found: ExportFile) -> Path:
        self.export_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.export_dir / found.filename
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(found.body)
        path.chmod(0o600)  # also when the file was there before
        return path.resolve()
