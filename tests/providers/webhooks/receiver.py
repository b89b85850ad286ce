"""A real HTTP receiver on 127.0.0.1 whose answers a test scripts, path by path."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 refuses connections when a worker opens many at once


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (cut short when the server stops)


Script = Callable[[str, int], Answer]  # (path, how many requests this path had before) -> answer


class Receiver:
    """Records every request; answers as ``script`` says (204 for every path by default)."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda _path, _n: Answer())
        self.received: list[Received] = []
        self.in_flight = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def for_path(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _answer_for(self, path: str) -> Answer:
        with self._lock:
            count = self._counts.get(path, 0)
            self._counts[path] = count + 1
            self.in_flight += 1
        return self.script(path, count)

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:
                started = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                answer = receiver._answer_for(self.path)
                if answer.delay:
                    receiver.stopping.wait(answer.delay)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(Received(self.path, headers, body, started, time.monotonic()))
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (timeout) before we answered

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` in a thread for the duration of the block."""
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.stopping.set()
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=5)
