"""The explorer's HTTP server: the standard library's ThreadingHTTPServer, one page, a JSON API.

It serves three fixed files shipped in the package (no path from a request ever reaches the file
system, so there is nothing to traverse) and the API below; every other path is a 404. Requests
are answered by an ``Explorer``; a refused parameter is a 400 with a message and the server goes
on serving. Nothing here prints: the command prints the URL.

    GET  /api/meta                        the page's set-up: data kind, latent sliders, limits
    GET  /api/map?method=auto|pca|tsne    the 2-D map of the posterior means, labels
    GET  /api/example?index=I             input, reconstruction, posterior mean (and codes) of example I
    GET  /api/palette                     a VQ-VAE's codebook entries, decoded
    POST /api/decode         {"z"}        decoded means at slider values
    POST /api/decode_codes   {"codes"}    decoded means of VQ code grids
    POST /api/interpolate    {"from", "to", "steps", "methods"}
    POST /api/traverse       {"dim", "span", "steps", "index" | "z"}
    POST /api/sample         {"n", "temperature", "seed"}
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import socket
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from ...errors import UserError
from .wire import MAX_BODY, BadRequest, parse_body

INTEGER = re.compile(r"-?[0-9]{1,18}")  # a query value read as an integer
MAX_DRAIN = 64 << 20  # bytes of a too-large body read and dropped before the 413

ASSETS = {  # URL path -> (file in the package's assets folder, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/explorer.js": ("explorer.js", "text/javascript; charset=utf-8"),
    "/explorer.css": ("explorer.css", "text/css; charset=utf-8"),
}
GETS = {"/api/meta": "meta_query", "/api/map": "latent_map", "/api/example": "example", "/api/palette": "palette"}
POSTS = {"/api/decode": "decode", "/api/decode_codes": "decode_codes", "/api/interpolate": "interpolate",
         "/api/traverse": "traverse", "/api/sample": "sample"}
# The page may load only what this server sends: no script, style, font or image from anywhere else.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("assets", name).read_bytes()


class ExplorerHandler(BaseHTTPRequestHandler):
    """One request: a fixed asset, or an API call answered by ``self.server.explorer``."""

    server_version = "vaekit-explore"
    protocol_version = "HTTP/1.1"  # keep-alive: the page's decode requests reuse one connection
    disable_nagle_algorithm = True  # headers and body are two writes; Nagle would hold the body for an ACK

    def do_GET(self) -> None:
        self.answer(self.get)

    def do_POST(self) -> None:
        self.answer(self.post)

    def do_PUT(self) -> None:
        self.answer(self.refuse_method)

    do_DELETE = do_PATCH = do_PUT

    def get(self, path: str, query: dict):
        if path in ASSETS:
            if query:
                raise BadRequest(f"{path} takes no query")
            name, content_type = ASSETS[path]
            return asset(name), content_type
        if path in POSTS:
            raise BadRequest(f"{path} takes POST with a JSON body", 405)
        if path not in GETS:
            raise BadRequest(f"no such page or API: {path}", 404)
        return getattr(self.server.explorer, GETS[path])(query)

    def post(self, path: str, query: dict):
        if path not in POSTS:
            status = 405 if path in GETS or path in ASSETS else 404
            raise BadRequest(f"{path} does not take POST" if status == 405 else f"no such API: {path}", status)
        if query:
            raise BadRequest(f"{path} takes its parameters in the JSON body, not the query")
        return getattr(self.server.explorer, POSTS[path])(parse_body(self.body()))

    def refuse_method(self, path: str, query: dict):
        raise BadRequest(f"{self.command} is not served; the explorer answers GET and POST", 405)

    def body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest("a POST needs a Content-Length header with the body's size in bytes", 411)
        if int(length) > MAX_BODY:
            self.discard(int(length))
            raise BadRequest(f"the body has {length} bytes; the explorer takes at most {MAX_BODY}", 413)
        return self.rfile.read(int(length))

    def discard(self, length: int) -> None:
        """Read and drop a refused body of up to MAX_DRAIN bytes, so the client sees the answer and not a
        reset connection; a larger one is left unread (``fail`` closes the connection after answering)."""
        while 0 < length <= MAX_DRAIN:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:  # the client stopped sending
                return
            length -= len(chunk)

    def answer(self, route) -> None:
        """Run ``route(path, query)`` and send what it gives: (bytes, type) or a dict as JSON; errors as JSON."""
        try:
            self.check_host()
            parts = urlsplit(self.path)
            query = parse_query(parts.query)
            result = route(parts.path, query)
            if isinstance(result, tuple):
                self.send(200, *result)
            else:
                self.send(200, json.dumps(result, allow_nan=False).encode(), "application/json")
        except BadRequest as exc:
            self.fail(exc.status, str(exc))
        except UserError as exc:  # the latent tools' own checks (e.g. t-SNE on too few points)
            self.fail(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 and the server keeps serving
            self.fail(500, f"internal error: {type(exc).__name__}: {exc}")

    def fail(self, status: int, message: str) -> None:
        if status == 411 or status == 413:
            self.close_connection = True  # an unread body must not be taken for the next request
        headers = {"Allow": "GET, POST"} if status == 405 else {}
        self.send(status, json.dumps({"error": message}).encode(), "application/json", headers)

    def send(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", POLICY)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def check_host(self) -> None:
        """On a loopback address, answer only requests addressed to a loopback name: a web page elsewhere
        cannot reach the model by pointing its own host name at 127.0.0.1 (DNS rebinding)."""
        if not self.server.loopback:
            return
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        if host not in ("localhost", "127.0.0.1", "::1"):
            raise BadRequest(f"host {host!r} is not served; open the page at {self.server.url}", 403)

    def log_message(self, format: str, *args) -> None:
        """Quiet: the library does not print (the standard handler logs every request to stderr)."""


def parse_query(text: str) -> dict:
    """The query string as a dict of single values, integers as int; a parameter given twice is refused."""
    try:
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=16)
    except ValueError as exc:
        raise BadRequest(f"the query string is malformed ({exc})") from None
    repeated = [key for key, values in pairs.items() if len(values) > 1]
    if repeated:
        raise BadRequest(f"parameter(s) {', '.join(repeated)} given more than once")
    return {key: int(values[0]) if INTEGER.fullmatch(values[0]) else values[0] for key, values in pairs.items()}


class ExplorerServer(ThreadingHTTPServer):
    """The HTTP server holding the ``Explorer`` its handlers ask; ``url`` is where to open the page."""

    daemon_threads = True

    def __init__(self, explorer, host: str = "127.0.0.1", port: int = 0):
        self.explorer = explorer
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), ExplorerHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"port {port} on {host} is in use; pass another --port, or --port 0 for a free one") from None
            raise UserError(f"cannot listen on {host} port {port} ({exc.strerror or exc}); check --host and --port") from None
        self.loopback = is_loopback(host)
        bound = self.server_address[1]
        local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # every address: this machine reaches it so
        self.url = f"http://{f'[{local}]' if ':' in local else local}:{bound}/"

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the host (slow or hanging on machines without DNS)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[0], self.server_address[1]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
