"""`python manage.py webhook_receiver --secret whsec_… [--port 9000]`: a tiny endpoint to
subscribe while trying the platform out.

It prints one line per delivery (event id, type, and whether the Standard Webhooks signature
verifies against the secret) and answers 200, or 401 when the signature fails, so a failed
check also shows up as a failed delivery with its retries. Verification uses the project's own
`webhooks.signing`, since the `standardwebhooks` package is only a test dependency.
"""

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError

from webhooks.signing import SECRET_PREFIX, SignatureError, standard_verify
from webhooks.untrusted import MalformedInput, ascii_int, json_parse

MAX_BODY_BYTES = 10 * 1024 * 1024
_print_lock = threading.Lock()  # one line per delivery, whichever thread answers it


def _described(body: bytes, headers) -> tuple[str, str]:
    """The event id and type of a delivery, as far as its body and headers tell."""
    try:
        payload = json_parse(body)
    except MalformedInput:
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    event_id = payload.get("id") or headers.get("webhook-id") or "?"
    event_type = payload.get("event_type") or headers.get("X-Webhook-Event") or "?"
    return str(event_id), str(event_type)


class Command(BaseCommand):
    help = (
        "Listen on 127.0.0.1 for webhook deliveries, print each one and whether its signature "
        "verifies; answer 200, or 401 when it does not."
    )
    requires_system_checks = []  # it never touches the database or the settings it checks

    def add_arguments(self, parser):
        parser.add_argument("--secret", required=True, help="The subscription's whsec_ secret.")
        parser.add_argument("--port", type=int, default=9000, help="Port on 127.0.0.1 (9000).")

    def handle(self, *args, secret: str, port: int, **options):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except ValueError as exc:  # binascii.Error, or a non-ASCII character such as "…"
            raise CommandError(f"--secret is not a {SECRET_PREFIX}<base64> secret: {exc}") from exc
        if not key:  # an unset shell variable: every signature would fail, for no clear reason
            raise CommandError(
                f"--secret is empty: give the subscription's {SECRET_PREFIX}… secret."
            )
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), self._handler(secret))
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        server.daemon_threads = True
        host, bound_port = server.server_address[:2]
        self._print(f"Listening on http://{host}:{bound_port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def _print(self, line: str) -> None:
        with _print_lock:
            self.stdout.write(line)
            self.stdout.flush()

    def _handler(self, secret: str):
        command = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                try:
                    length = ascii_int(self.headers.get("Content-Length") or "0")
                except MalformedInput:
                    self._answer(400, b"bad Content-Length\n")
                    return
                if length > MAX_BODY_BYTES:
                    self._answer(413, b"too large\n")
                    return
                body = self.rfile.read(length)
                event_id, event_type = _described(body, self.headers)
                try:
                    standard_verify(
                        [secret],
                        msg_id=self.headers.get("webhook-id", ""),
                        timestamp=self.headers.get("webhook-timestamp", ""),
                        signature_header=self.headers.get("webhook-signature", ""),
                        body=body,
                    )
                except SignatureError as exc:
                    command._print(f"{event_id} {event_type}: signature NOT verified ({exc})")
                    self._answer(401, b"signature not verified\n")
                    return
                command._print(f"{event_id} {event_type}: signature verified")
                self._answer(200, b"ok\n")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass  # one line per delivery is ours; the per-request access log is noise

        return Handler
