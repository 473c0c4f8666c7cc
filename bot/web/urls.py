"""Where a one-time link points: the one place that turns a token into a URL."""

from __future__ import annotations

from storage.models import LinkPurpose

SIGN_IN_PREFIX = "/app/sign-in/"
DOWNLOAD_PREFIX = "/download/"
CALENDAR_PREFIX = "/calendar/"
PREFIXES = {LinkPurpose.SIGN_IN: SIGN_IN_PREFIX, LinkPurpose.CALENDAR: CALENDAR_PREFIX}
HOME = "/app/"


def link_url(base_url: str, purpose: LinkPurpose | str, token: str) -> str:
    """The full URL of a link: ``{base_url}/app/sign-in/{token}`` for a sign-in,
    ``{base_url}/calendar/{token}`` for a workshop's calendar file,
    ``{base_url}/download/{token}`` for a download."""
    prefix = PREFIXES.get(LinkPurpose(purpose), DOWNLOAD_PREFIX)
    return f"{base_url.rstrip('/')}{prefix}{token}"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a relative path inside the web app (``/app/…``);
    anything else (another host, ``//evil``, a backslash, a scheme) is the home page."""
    if not value or not value.startswith(HOME):
        return HOME
    if "//" in value or "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME
    return value
