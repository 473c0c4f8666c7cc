"""What the fake platforms share: a threaded HTTP server on 127.0.0.1:<free port>, started and
stopped with the test (also as a context manager)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LocalServer:
    path = "/"
    """What the URL ends with (Slack's Web API lives under ``/api/``)."""
    platform = "the platform's"
    """Whose contract the fake stands for (possessive), for the message when it was broken."""
    strict = True
    """Raise, when the fake stops, if it refused anything (``refusals``): the product often only
    logs a failed platform call, so a refusal would otherwise pass unseen."""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise TypeError(f"{type(self).__name__} must say how it answers requests")

    def refusals(self) -> list[str]:
        """Each call the fake refused as the platform would, one line each."""
        return []

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        refused = self.refusals()
        if exc is None and self.strict and refused:
            raise AssertionError(
                f"the code under test broke {self.platform} contract "
                "(make the fake with strict=False to test that on purpose):\n"
                + "\n".join(f"  {line}" for line in refused)
            )
