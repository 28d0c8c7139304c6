"""Project-wide fixtures: API clients with real Bearer tokens, and real server and worker processes.

Process fixtures run the same commands as the Procfile, against the test database that
pytest-django created, so what they prove is what production runs.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from channels_app.selectors import active_accounts_forget
from subscriptions.tests.receiver import Receiver
from webhooks.services import api_token_create

BASE_DIR = Path(__file__).resolve().parent
BIN_DIR = Path(sys.executable).parent

# Property tests: a modest number of examples keeps the suite minutes long; HYPOTHESIS_PROFILE=
# thorough searches far more. No deadline: a receiver's first example also warms its caches.
# No example database: like the pytest cache, nothing is written into the checkout; a failure
# prints the @reproduce_failure line that replays it.
hypothesis.settings.register_profile(
    "suite", max_examples=40, deadline=None, database=None, print_blob=True
)
hypothesis.settings.register_profile("thorough", parent=hypothesis.settings.get_profile("suite"),
                                     max_examples=2000)  # fmt: skip
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s: {predicate}")


def database_url_for_children() -> str:
    """DATABASE_URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


@dataclass
class ProcessHandle:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process and everything it started (a worker's pool, a server's workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_process(args: list[str], env: dict[str, str], log_path: Path) -> ProcessHandle:
    log_file = open(log_path, "wb")  # noqa: SIM115  (owned by the child until it stops)
    process = subprocess.Popen(
        args,
        cwd=BASE_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() reaches its children
    )
    return ProcessHandle(process=process, log_path=log_path)


def start_web_server(
    env: dict[str, str], log_path: Path, workers: int = 1
) -> tuple[ProcessHandle, str]:
    """gunicorn with the project's config on a free port; returns once it answers."""
    port = free_port()
    handle = start_process(
        [str(BIN_DIR / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py"],
        {**env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        log_path,
    )
    base_url = f"http://127.0.0.1:{port}"
    _await_start(handle, lambda: _answers(handle, base_url))
    return handle, base_url


def start_asgi_server(
    env: dict[str, str], log_path: Path, port: int | None = None
) -> tuple[ProcessHandle, str]:
    """uvicorn serving the ASGI app (the Procfile's `stream` process), on a free port by default."""
    port = port or free_port()
    handle = start_process(
        [str(BIN_DIR / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "1"],
        env,
        log_path,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    _await_start(handle, lambda: _answers(handle, base_url))
    return handle, base_url


def _await_start(handle: ProcessHandle, ready, timeout: float = 60) -> None:
    """Wait until `ready()`; a process that never gets there is stopped, not left running."""
    try:
        wait_until(ready, timeout=timeout)
    except BaseException:
        handle.stop()
        raise


def _answers(handle: ProcessHandle, base_url: str) -> bool:
    if handle.process.poll() is not None:
        pytest.fail(f"server exited early:\n{handle.log()}")
    try:
        return requests.get(f"{base_url}/health/live", timeout=2).ok
    except requests.RequestException:
        # Refused before gunicorn binds, or no answer while its worker still boots: not yet.
        return False


def start_celery_worker(env: dict[str, str], log_path: Path) -> ProcessHandle:
    handle = start_process(
        [
            str(BIN_DIR / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--queues",
            "default,deliveries,inbound",
            "--concurrency",
            "2",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        env,
        log_path,
    )
    _await_start(handle, lambda: "ready." in handle.log() or handle.process.poll() is not None)
    if handle.process.poll() is not None:
        handle.stop()
        pytest.fail(f"worker exited early:\n{handle.log()}")
    return handle


@pytest.fixture(scope="session", autouse=True)
def _clean_test_broker():
    """Drop messages a previous run left in the test broker, so no stale task runs here."""
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture(scope="session", autouse=True)
def _children_disconnected(django_db_setup, django_db_blocker):
    """Before the test database is dropped, wait for child processes' sessions to close."""
    yield
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or not name.startswith("test_"):
        return  # not PostgreSQL, or no test database was created (no test used one)
    with django_db_blocker.unblock():

        def others() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    [name],
                )
                return cursor.fetchone()[0]

        deadline = time.monotonic() + 15
        while others() and time.monotonic() < deadline:
            time.sleep(0.1)


@pytest.fixture(autouse=True)
def _accounts_forgotten():
    """Receivers remember accounts per process; each test's accounts are its own."""
    active_accounts_forget()


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[ProcessHandle]:
    """A real Celery worker on the test database and the test broker (Redis in CI)."""
    handle = start_celery_worker(
        child_env(DATABASE_URL=database_url_for_children()), tmp_path / "worker.log"
    )
    yield handle
    handle.stop()


@pytest.fixture
def live_app(transactional_db, tmp_path) -> Iterator[str]:
    """The app under gunicorn, on the test database; yields its base URL."""
    handle, base_url = start_web_server(
        child_env(DATABASE_URL=database_url_for_children()), tmp_path / "web.log"
    )
    yield base_url
    handle.stop()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="unused-password")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="unused-password")


def client_for(user) -> APIClient:
    _, raw_token = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    """An API client authenticated as `user` with a real Bearer token."""
    return client_for(user)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return client_for(other_user)


# --- Nothing the suite starts outlives it -----------------------------------------------------
# Every process the suite starts inherits this variable (child_env copies os.environ, and so
# does Playwright), wherever it is reparented later: it is how the check below finds them.
SUITE_RUN_VAR = "WEBHOOKS_TEST_SUITE_RUN"


def processes_started_with(name: str, value: str) -> dict[int, str]:
    """Running processes whose environment had `name=value` when they started: pid -> what."""
    wanted = f"{name}={value}".encode()
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes().split(b"\0")
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            # Exited meanwhile, or unreadable: chromium's zygotes and renderers make themselves
            # undumpable, but they are children of its main process, which is found.
            continue
        if wanted in environ:  # a zombie's environment reads empty: only live ones match
            command = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            test = next((v for v in environ if v.startswith(b"PYTEST_CURRENT_TEST=")), b"")
            during = test.removeprefix(b"PYTEST_CURRENT_TEST=").decode(errors="replace")
            found[int(entry.name)] = f"{command} (started during {during or 'no test'})"
    return found


def pytest_configure(config):
    # xdist's workers inherit the controller's value, so one run has one value.
    os.environ.setdefault(SUITE_RUN_VAR, uuid.uuid4().hex)


@pytest.hookimpl(trylast=True)  # after session fixtures are torn down and xdist's workers left
def pytest_sessionfinish(session):
    if not sys.platform.startswith("linux") or hasattr(session.config, "workerinput"):
        return  # no /proc; or an xdist worker, whose processes the controller checks
    run = os.environ[SUITE_RUN_VAR]
    deadline = time.monotonic() + 5  # a process stopped just now may still be exiting
    while (left := processes_started_with(SUITE_RUN_VAR, run)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", f"{len(left)} processes the suite started still ran", red=True)
        for pid, what in sorted(left.items()):
            reporter.write_line(f"pid {pid}: {what} (now killed)")
        reporter.stats.setdefault("left running", []).extend(left)  # in the summary line
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def receiver():
    """A real local HTTP receiver for outbound deliveries (subscriptions.tests.receiver)."""
    running = Receiver().start()
    yield running
    running.stop()
