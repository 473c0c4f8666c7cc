"""A PostgreSQL server of the benchmarks' own, started the way ``.ci/run`` starts one: ``initdb``
in a temporary directory, a port of its own (55499 unless ``REGIE_BENCH_PG_PORT`` says
otherwise), stopped and removed afterwards. Unlike CI it keeps PostgreSQL's durable defaults
(``fsync=on``, ``synchronous_commit=on``): a turn's figure includes its commit reaching the disk,
as on SQLite with ``synchronous=FULL``. No PostgreSQL binaries: :class:`NoPostgres` says why, and
the benchmark reports itself skipped with that reason.

    with postgres_server() as url:   # postgresql://postgres@127.0.0.1:55499/regie_bench
        ...
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PORT = int(os.environ.get("REGIE_BENCH_PG_PORT", "55499"))
"""The port tried first; when something listens there already, a free one is taken."""
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",
    "synchronous_commit": "on",
    "shared_buffers": "256MB",
    "max_connections": "50",
}


class NoPostgres(RuntimeError):
    """No PostgreSQL server could be started here (the message says why)."""


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        on_path = shutil.which("initdb")
        if on_path is None:
            raise NoPostgres(
                "no PostgreSQL binaries (initdb) on this machine: apt-get install postgresql"
            )
        return Path(on_path).parent
    return found[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: as CI does, run it as the postgres user then."""
    if os.getuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise NoPostgres("running as root without runuser: cannot start PostgreSQL")
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server(database: str = "regie_bench") -> Iterator[str]:
    """A fresh server with one empty database; yields its URL."""
    pg = _bin()
    data = Path(tempfile.mkdtemp(prefix="regie-bench-pg."))
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
    log = data / "server.log"
    port = _port()
    options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
    try:
        _run([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        _run(
            [
                str(pg / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-o",
                f"-p {port} -k {data} {options}",
                "start",
            ]
        )
    except subprocess.CalledProcessError as error:
        detail = log.read_text()[-500:] if log.exists() else (error.stderr or "")[-500:]
        shutil.rmtree(data, ignore_errors=True)
        raise NoPostgres(f"PostgreSQL did not start on port {port}: {detail.strip()}") from error
    try:
        _run([str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database])
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run(
            _as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)


def _port() -> int:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", PORT)) != 0:
            return PORT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str]) -> None:
    subprocess.run(_as_postgres(command), capture_output=True, text=True, check=True)


def version() -> str:
    try:
        out = subprocess.run(
            [str(_bin() / "postgres"), "--version"], capture_output=True, text=True
        )
    except NoPostgres:
        return "none"
    return out.stdout.strip()
