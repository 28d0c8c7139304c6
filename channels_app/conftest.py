"""Fixtures shared by the inbound tests: a fake of Qualia's GraphQL API over real HTTP, and
the Qualia account whose messages it answers for."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channels_app.platforms.qualia.tests.case import qualia


class FakeQualia:
    """Answers the OrderMessages query for one order, or a scripted failure status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        self.answer: bytes | None = None  # instead of the order's messages
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"auth": self.headers.get("Authorization"), "body": body})
                if fake.fail_with:
                    self.send_response(fake.fail_with)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = json.dumps({"data": {"order": {
                    "order_number": "TEST-2018-1",
                    "messages": [
                        {"_id": "other", "from_name": "X", "text": "no", "read": True},
                        {"_id": "LEPAjMB43myH8aGcP", "from_name": "Marty McFly",
                         "text": "Can you expedite?", "created_date": "2026-11-20T10:00:00Z",
                         "read": False, "attachments": [{"name": "deed.pdf", "url": "https://x"}]},
                    ],
                }}}).encode() if fake.answer is None else fake.answer  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/vendor/graphql"


@pytest.fixture
def qualia_api(settings):
    fake = FakeQualia()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the fake listens on loopback
    settings.QUALIA_API_URL = fake.url
    yield fake
    fake.server.shutdown()


@pytest.fixture
def qualia_account(user):
    return qualia.account_create(user, api_token="qualia-api-token")
