"""``/download/{token}``: a "download my data" file, for whoever holds the link (it is the
credential: once, for at most 15 minutes, audited). ``GET`` (opening the link, as scanners
do too) shows a page with one "Download my data" button (``bot/web/confirm.py``) and uses
nothing; ``POST`` (the button) uses the link and answers with the file: an attachment, never
cached."""

from __future__ import annotations

from aiohttp import web

from bot.web import context
from bot.web.confirm import confirm_page, page
from bot.web.export_files import ExportFile, language_of_link, redeem_file
from storage import links

FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
"""The "My development" page carries its own styles (it is a file to keep): allowed inline,
and nothing else — no script, no request anywhere."""


async def download_page(request: web.Request) -> web.StreamResponse:
    """Opening the link: the button (or the page saying the link no longer works)."""
    return await confirm_page(request, links.DOWNLOADS, gone="download")


async def download(request: web.Request) -> web.StreamResponse:
    """The button: the link is used and the file sent."""
    token = request.match_info["token"]
    engine, content = context.engine(request), context.content(request)
    now = context.now(request)
    found = await context.in_thread(
        lambda: redeem_file(engine, token, now=now, content=content, via="web")
    )
    if found is None:
        default = context.settings(request).language
        language = await context.in_thread(lambda: language_of_link(engine, token, default))
        return page(request, "sign_in.html", {"problem": "download"}, language, status=410)
    return file_response(found)


def file_response(found: ExportFile) -> web.Response:
    """A file to keep: an attachment under its own name, never cached, inert."""
    return web.Response(
        body=found.body,
        headers={
            "Content-Type": found.content_type,
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": FILE_CSP,
        },
    )
