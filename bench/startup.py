"""Start-up, as an operator or a newcomer meets it: ``regie chat`` until its first reply is on
the screen (a line typed at once), and ``regie serve`` until ``/healthz`` answers 200; each a
fresh process on a SQLite file made by ``regie init`` and ``regie demo`` beforehand (not
timed). Three runs each: the median and the slowest. One JSON object each (bench/report.py).

    .venv/bin/python bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import at_most, emit, machine

REGIE = str(Path(sys.executable).parent / "regie")
EMAIL = "alex@example.com"


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    return env | {"REGIE_DATABASE_URL": f"sqlite:///{folder / 'regie.db'}"}


def first_reply(env: dict[str, str]) -> float:
    started = time.perf_counter()
    chat = subprocess.Popen(
        [REGIE, "chat", "--as", EMAIL, "--json"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("hi\n")
    chat.stdin.flush()
    line = chat.stdout.readline()
    seconds = time.perf_counter() - started
    chat.stdin.close()
    chat.wait(timeout=60)
    if not line.strip():
        raise RuntimeError("regie chat said nothing")
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(env: dict[str, str]) -> float:
    port = free_port()
    started = time.perf_counter()
    serve = subprocess.Popen(
        [REGIE, "serve"],
        env=env | {"REGIE_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("regie serve was not healthy within 60 s")
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    env = environment(folder)
    for command in (["init"], ["demo"]):
        subprocess.run([REGIE, *command], env=env, check=True, capture_output=True)
    load = machine()
    chats = [first_reply(env) for _ in range(args.runs)]
    serves = [healthy(env) for _ in range(args.runs)]
    for name, runs, limit, what in (
        ("startup.chat", chats, 1.0, "regie chat: first reply, s"),
        ("startup.serve", serves, 3.0, "regie serve: healthz 200, s"),
    ):
        median = round(statistics.median(runs), 3)
        emit(
            name,
            {
                "runs_seconds": [round(r, 3) for r in runs],
                "median_seconds": median,
                "machine": load,
            },
            [at_most(f"{what} (median of {len(runs)})", median, limit)],
        )


if __name__ == "__main__":
    main()
