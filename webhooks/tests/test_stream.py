"""The live stream, served by a real uvicorn process on the test database.

Events are published by the test process, so every event crosses a process boundary on its
way to a stream, as it does from a Celery worker in production.
"""

import json
import queue
import threading
import time

import pytest
import requests
from django.db import connection, transaction

from conftest import child_env, database_url_for_children, start_asgi_server, wait_until
from webhooks.services import api_token_create, event_publish

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stream_server(tmp_path):
    handle, base_url = start_asgi_server(
        child_env(
            DATABASE_URL=database_url_for_children(),
            STREAM_POLL_SECONDS="0.2",
            STREAM_HEARTBEAT_SECONDS="1",
        ),
        tmp_path / "asgi.log",
    )
    yield base_url
    handle.stop()


class Listener:
    """Reads one SSE connection in a thread and parses it into messages and comments."""

    def __init__(self, url: str, token: str, headers: dict | None = None):
        self.messages: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.response = requests.get(
            url,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            stream=True,
            timeout=10,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        message: dict = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line:
                    name, _, value = line.partition(": ")
                    message[name] = value
                elif message:
                    self.messages.put(message)
                    message = {}
        except (requests.RequestException, AttributeError):  # closed by the test
            pass

    def next(self, timeout: float = 3.0) -> dict:
        return self.messages.get(timeout=timeout)

    def close(self):
        self.response.close()


@pytest.fixture
def listen(stream_server):
    listeners = []

    def open_stream(user, query: str = "", headers: dict | None = None, path="/api/events/stream"):
        _, token = api_token_create(user=user, name="stream")
        listener = Listener(f"{stream_server}{path}{query}", token, headers)
        listeners.append(listener)
        wait_until(lambda: "connected" in listener.comments, timeout=5)
        return listener

    yield open_stream
    for listener in listeners:
        listener.close()


def test_an_event_reaches_the_stream_within_a_second(listen, user):
    listener = listen(user, path="/api/webhooks/events/stream")
    assert listener.response.headers["Content-Type"].startswith("text/event-stream")

    published_at = time.monotonic()
    event = event_publish(owner=user, event_type="task.created", data={"task_id": "t1"}).event
    message = listener.next()

    assert time.monotonic() - published_at < 1.5
    assert message["id"] == event.public_id
    assert message["event"] == "task.created"
    data = json.loads(message["data"])
    assert data["id"] == event.public_id
    assert data["source"] == "app"
    assert "task_id=t1" in data["summary"]


def test_another_users_events_never_appear(listen, user, other_user):
    listener = listen(user)
    event_publish(owner=other_user, event_type="task.created", data={"secret": "theirs"})
    mine = event_publish(owner=user, event_type="task.updated", data={}).event

    assert listener.next()["id"] == mine.public_id
    with pytest.raises(queue.Empty):
        listener.next(timeout=1)


def test_filters_by_type_pattern_and_source(listen, user):
    listener = listen(user, "?types=email.*,task.completed&source=api")
    event_publish(owner=user, event_type="task.created", data={}, source="api")
    event_publish(owner=user, event_type="email.sent", data={}, source="app")
    wanted = event_publish(owner=user, event_type="email.sent", data={}, source="api").event

    assert listener.next()["id"] == wanted.public_id
    with pytest.raises(queue.Empty):
        listener.next(timeout=1)


def test_reconnecting_with_last_event_id_replays_what_was_missed(listen, user):
    first = event_publish(owner=user, event_type="task.created", data={"n": 1}).event
    missed = [
        event_publish(owner=user, event_type="task.created", data={"n": n}).event for n in (2, 3)
    ]

    listener = listen(user, headers={"Last-Event-ID": first.public_id})
    replayed = [listener.next()["id"], listener.next()["id"]]
    live = event_publish(owner=user, event_type="task.created", data={"n": 4}).event

    assert replayed == [event.public_id for event in missed]
    assert listener.next()["id"] == live.public_id
    with pytest.raises(queue.Empty):
        listener.next(timeout=1)


def test_a_heartbeat_comment_keeps_an_idle_stream_alive(listen, user):
    listener = listen(user)
    wait_until(lambda: "heartbeat" in listener.comments, timeout=3)


def test_heartbeats_go_on_while_only_filtered_out_events_arrive(listen, user):
    listener = listen(user, "?types=email.*")
    stop = time.monotonic() + 2.5
    while time.monotonic() < stop:  # a steady flow of events this stream does not want
        event_publish(owner=user, event_type="task.created", data={})
        time.sleep(0.2)

    assert "heartbeat" in listener.comments


def test_an_event_committing_late_after_a_replay_still_arrives(listen, user):
    first = event_publish(owner=user, event_type="task.created", data={"n": 1}).event
    late_committed, started = threading.Event(), threading.Event()
    late = {}

    def publish_late():
        with transaction.atomic():  # its id is taken now, its commit lands later
            late["event"] = event_publish(owner=user, event_type="task.created", data={}).event
            started.set()
            late_committed.wait(10)
        connection.close()

    publisher = threading.Thread(target=publish_late)
    publisher.start()
    started.wait(10)
    after = event_publish(owner=user, event_type="task.created", data={"n": 3}).event
    listener = listen(user, headers={"Last-Event-ID": first.public_id})
    replayed = listener.next()["id"]
    late_committed.set()
    publisher.join()

    assert replayed == after.public_id
    assert listener.next()["id"] == late["event"].public_id


def test_streams_recover_after_the_database_drops_their_connections(listen, user):
    listener = listen(user)
    with connection.cursor() as cursor:  # what a database restart does to the server's sessions
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    published = event_publish(owner=user, event_type="task.created", data={}).event

    assert listener.next(timeout=5)["id"] == published.public_id
    assert listen(user).response.status_code == 200  # a new Bearer stream authenticates


def test_unauthenticated_gets_401_json(stream_server):
    response = requests.get(f"{stream_server}/api/events/stream", timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    bad = requests.get(
        f"{stream_server}/api/events/stream",
        headers={"Authorization": "Bearer whk_wrong"},
        timeout=5,
    )
    assert bad.status_code == 401


def test_stream_stats_count_open_connections_for_staff(
    listen, stream_server, user, django_user_model
):
    listen(user)
    listen(user)
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    _, token = api_token_create(user=staff, name="ops")

    stats = requests.get(
        f"{stream_server}/api/webhooks/events/stream/stats",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    _, user_token = api_token_create(user=user, name="x")
    refused = requests.get(
        f"{stream_server}/api/webhooks/events/stream/stats",
        headers={"Authorization": f"Bearer {user_token}"},
        timeout=5,
    )

    anonymous = requests.get(f"{stream_server}/api/webhooks/events/stream/stats", timeout=5)

    assert stats.json() == {"connections": 2, "users": 1}
    assert refused.status_code == 403
    assert anonymous.status_code == 401


def test_under_wsgi_the_stream_answers_503_instead_of_holding_a_worker(live_app, user):
    _, token = api_token_create(user=user, name="stream")
    response = requests.get(
        f"{live_app}/api/events/stream", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 503
    assert response.json()["code"] == "stream_unavailable"


def test_pages_of_an_allowed_origin_may_open_the_stream(tmp_path, user):
    handle, base_url = start_asgi_server(
        child_env(
            DATABASE_URL=database_url_for_children(),
            STREAM_ALLOWED_ORIGINS="http://127.0.0.1:8000",
        ),
        tmp_path / "asgi.log",
    )
    _, token = api_token_create(user=user, name="stream")
    try:
        allowed = requests.get(
            f"{base_url}/api/events/stream",
            headers={"Authorization": f"Bearer {token}", "Origin": "http://127.0.0.1:8000"},
            stream=True,
            timeout=5,
        )
        other = requests.get(
            f"{base_url}/api/events/stream",
            headers={"Authorization": f"Bearer {token}", "Origin": "http://evil.example"},
            stream=True,
            timeout=5,
        )
        allowed.close()
        other.close()
    finally:
        handle.stop()
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in other.headers
