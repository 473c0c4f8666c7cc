"""The web app's one-time links on ``regie serve`` as an operator runs it — a real process on
its own port — with a sign-in link printed by ``regie web link --as EMAIL`` at the command
line: opening a link (as a scanner does) uses nothing, pressing its button works once. On
SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import links
from storage.models import AuditEntry, LinkPurpose, Person, utcnow
from tests.bot.test_serve import REGIE, start, stop

ACTION = re.compile(r'<form method="post" action="([^"]+)">')


def regie(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    env["REGIE_DATABASE_URL"] = database_url
    return subprocess.run(
        [REGIE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def request(
    url: str, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed (http.client follows none)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serve_gives_the_web_app_and_the_printed_link_works_once(
    db_url: str, engine: Engine
) -> None:
    with Session(engine) as db:
        db.add(Person(email="an@example.com", name="An de Wit", language="nl"))
        db.commit()
    refused = regie(db_url, "web", "link", "--as", "nobody@example.com")
    assert refused.returncode == 1 and "No person with e-mail nobody@example.com" in refused.stderr
    printed = regie(db_url, "web", "link", "--as", "an@example.com")
    assert printed.returncode == 0, printed.stderr
    [link] = printed.stdout.split()
    assert link.startswith("http://localhost:3000/app/sign-in/")  # REGIE_PUBLIC_URL's default
    assert "works once" in printed.stderr and "an@example.com only" in printed.stderr
    path = urlsplit(link).path

    process, url = start(db_url, {})
    try:
        for _ in range(2):  # a scanner, then the person: both see the button
            status, headers, body = request(url, "GET", path)
            page = body.decode()
            assert status == 200 and "<h1>Inloggen bij Regie</h1>" in page
            assert "default-src 'none'" in headers["Content-Security-Policy"]
            assert "Set-Cookie" not in headers
        assert request(url, "HEAD", path)[0] == 405
        [action] = ACTION.findall(page)
        status, headers, _ = request(url, "POST", action, {"Sec-Fetch-Site": "same-origin"})
        assert status == 303 and headers["Location"] == "/app/"
        cookie = headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith("regie_session=")
        status, _, body = request(url, "GET", "/app/", {"Cookie": cookie})
        assert status == 200 and "Mijn ontwikkeling" in body.decode()
        again = request(url, "POST", action)
        assert again[0] == 410 and "Deze link werkt niet meer" in again[2].decode()
        assert request(url, "GET", path)[0] == 410

        with Session(engine) as db:
            person = db.exec(select(Person)).one()
            assert person.id is not None
            token = links.issue(db, person.id, LinkPurpose.DOWNLOAD_JSON, now=utcnow()).token
            db.commit()
        status, _, body = request(url, "GET", f"/download/{token}")
        assert status == 200 and "Mijn gegevens downloaden" in body.decode()
        status, headers, body = request(url, "POST", f"/download/{token}")
        assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
        assert json.loads(body)["person"]["email"] == "an@example.com"
        assert request(url, "POST", f"/download/{token}")[0] == 410
    finally:
        output = stop(process)
    assert "Traceback" not in output
    with Session(engine) as db:
        actions = sorted(e.action for e in db.exec(select(AuditEntry)))
    assert actions == ["download", "web_sign_in"]
