"""The HTTP side of `serve`: the built files, plus a live-reload script and its event stream.

HTML responses get one `<script src="/__serve/reload.js" defer>` before `</body>` (a file, not
inline code, so a Content-Security-Policy without 'unsafe-inline' allows it). The script listens
on /__serve/events (Server-Sent Events) for `reload` after a successful rebuild and `errors`
after a failed one. Bound to loopback, the server answers only requests addressed to loopback
names, so a web page cannot read the unpublished site through DNS rebinding.
"""

from __future__ import annotations

import dataclasses
import html
import io
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from .errors import Problem

PREFIX = "/__serve/"
RELOAD_JS = (Path(__file__).parent / "serve_assets" / "reload.js").read_bytes()
KEEPALIVE = 15.0  # seconds between comments on an idle event stream, which notice a closed tab


@dataclass(frozen=True)
class State:
    """What the browser should show: the latest successful build, and the problems of a failed one since."""

    generation: int = 0
    problems: tuple[Problem, ...] = ()


class Hub:
    """The latest state; each event stream waits here for the next one."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.state = State()
        self.version = 0
        self.closed = False

    def publish(self, state: State) -> None:
        with self.condition:
            self.state = state
            self.version += 1
            self.condition.notify_all()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def wait(self, version: int, timeout: float) -> tuple[int, State] | None:
        """The state once its version differs from `version` (or after `timeout`); None once closed."""
        with self.condition:
            self.condition.wait_for(lambda: self.closed or self.version != version, timeout)
            return None if self.closed else (self.version, self.state)


def inject(page: bytes, generation: int) -> bytes:
    """The page with the reload script before its last `</body>` (or at the end)."""
    tag = f'<script src="{PREFIX}reload.js" data-build="{generation}" defer></script>'.encode()
    at = page.lower().rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def problems_json(problems: tuple[Problem, ...]) -> list[dict[str, Any]]:
    return [{**dataclasses.asdict(p), "text": str(p)} for p in problems]


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


NOT_FOUND = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>\n'
    "<body><h1>Not found</h1><p>The last successful build has no page at <code>{}</code>.</p></body></html>\n"
)


class Handler(SimpleHTTPRequestHandler):
    """The output folder as a static host serves it, plus the reload script and the event stream."""

    def __init__(self, *args: Any, hub: Hub, hosts: frozenset[str], **kwargs: Any) -> None:
        self.hub, self.hosts = hub, hosts  # before super().__init__, which handles the request
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows builds, not requests

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _allowed(self) -> bool:
        host = self.headers.get("Host")
        port = cast(ThreadingHTTPServer, self.server).server_port
        if self.hosts and host is not None and host.lower().removesuffix(f":{port}") not in self.hosts:
            self.send_error(403, "Only requests addressed to this machine's loopback address are answered")
            return False
        return True

    def do_GET(self) -> None:
        if not self._allowed():
            return
        url = urlsplit(self.path)
        if url.path == PREFIX + "events":
            self._events(parse_qs(url.query).get("since", [""])[0])
        elif url.path == PREFIX + "reload.js":
            self._send(200, "text/javascript; charset=utf-8", RELOAD_JS)
            self.wfile.write(RELOAD_JS)
        else:
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._allowed():
            super().do_HEAD()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def send_head(self) -> Any:
        """HTML with the reload script, a 404 page that has it too; anything else as it is on disk."""
        url_path = urlsplit(self.path).path
        local = Path(self.translate_path(self.path))
        if url_path.endswith("/"):
            local /= "index.html"
        elif local.is_dir():
            return super().send_head()  # redirects to the path with a slash
        if local.suffix != ".html":
            return super().send_head()
        generation = self.hub.state.generation  # before reading: a newer page only costs one more reload
        try:
            page, status = local.read_bytes(), 200
        except OSError:
            page, status = NOT_FOUND.format(html.escape(url_path)).encode(), 404
        body = inject(page, generation)
        self._send(status, "text/html; charset=utf-8", body)
        return io.BytesIO(body)

    def _events(self, since: str) -> None:
        """Server-Sent Events: `reload` once the page's build is outdated, `errors` while a build fails."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        version: int = -1
        shown: tuple[Problem, ...] = ()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while (seen := self.hub.wait(version, KEEPALIVE)) is not None:
                if seen[0] == version:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                version, state = seen
                if str(state.generation) != since:
                    self.wfile.write(sse("reload", state.generation))
                    self.wfile.flush()
                    return
                if state.problems != shown:
                    shown = state.problems
                    self.wfile.write(sse("errors", problems_json(state.problems)))
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the tab was closed or reloaded


def make_server(host: str, port: int, folder: Path, hub: Hub) -> ThreadingHTTPServer:
    """Bind (raises OSError when the port is taken); `serve_forever` is the caller's to start."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
    # Bound to loopback, only loopback names are answered; --allow-remote answers any name.
    names = ("127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host.lower())
    hosts = frozenset(names) if is_loopback(host) else frozenset()
    return server_class((host, port), partial(Handler, hub=hub, hosts=hosts, directory=str(folder)))
