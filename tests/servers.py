"""Real servers on 127.0.0.1 for the tests of slow and broken dependencies: an SMTP server that
accepts connections and never answers, a working one (aiosmtpd), and an HTTP proxy in front of
moto that can delay or refuse what boto3 sends. Nothing here patches a client: the code under
test talks to sockets.

Ports come from 8220-8229, the range this project's test servers use on the shared machine.
"""

import contextlib
import http.client
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

PORTS = range(8220, 8230)


def free_port(ports: range = PORTS) -> int:
    """The first port of `ports` nothing listens on at 127.0.0.1."""
    for port in ports:
        with contextlib.closing(socket.socket()) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


class SilentSMTPServer:
    """Accepts TCP connections and never says a word: the SMTP greeting never comes."""

    def __init__(self):
        self.port = free_port()
        self.connections: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)  # held open, unanswered

    def stop(self):
        self._stopped.set()
        self._thread.join(5)
        for conn in self.connections:
            conn.close()
        self._listener.close()


class _Inbox:
    def __init__(self, refuse):
        self.messages = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {
                "to": envelope.rcpt_tos,
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 OK"


class WorkingSMTPServer:
    """A real SMTP server (aiosmtpd) that keeps what it receives in `messages` and refuses the
    addresses in `refuse` for good (550)."""

    def __init__(self, refuse=()):
        self.port = free_port()
        self._inbox = _Inbox(set(refuse))
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[dict]:
        return self._inbox.messages

    def stop(self):
        self._controller.stop()


class AWSProxy:
    """An HTTP proxy in front of moto's server: records each request, and can `delay` it (seconds
    before it is forwarded) or `refuse` it (a 500 InternalFailure without forwarding). A request
    still being delayed when the proxy stops is dropped, so it never reaches a later test."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.delay = 0.0
        self.refuse = False
        self.requests: list[dict] = []
        self._stopped = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                proxy._handle(self)

            do_GET = do_PUT = do_DELETE = do_POST

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handle(self, handler: BaseHTTPRequestHandler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        self.requests.append(
            {"method": handler.command, "path": handler.path, "headers": dict(handler.headers),
             "body": body}
        )  # fmt: skip
        if self.delay and self._stopped.wait(self.delay):
            return
        if self.refuse:
            payload = b'{"__type": "InternalFailure", "message": "refused by the test proxy"}'
            handler.send_response(500)
            handler.send_header("Content-Type", "application/x-amz-json-1.1")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=30
        )
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
        try:
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            handler.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting: fine
            pass
        finally:
            upstream.close()

    def stop(self):
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
