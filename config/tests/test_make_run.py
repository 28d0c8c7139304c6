"""`make run` stops every process it started within 10 s, however it is told to stop.

Each test starts a real `make run` on the embedded default (SQLite and the filesystem broker
in a temporary VAR_DIR, on free ports), waits until all its processes are up, signals it the
way a terminal or a process supervisor does, and checks that none of its processes is left
10 s after the first signal. They are found by a variable in their environment, which each of
them inherits whatever session, process group or parent it ends up with.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conftest import BASE_DIR, BIN_DIR, child_env, free_port, processes_started_with, wait_until

pytestmark = pytest.mark.server  # about 15 s a test: each boots the whole service

RUN_VAR = "MAKE_RUN_TEST_RUN"
STOP_WITHIN = 10.0
PROGRAMS = ("honcho", "gunicorn", "celery -A config worker", "celery -A config beat", "uvicorn")


@dataclass
class MakeRun:
    process: subprocess.Popen
    run_id: str
    log_path: Path

    def processes(self) -> dict[int, str]:
        return processes_started_with(RUN_VAR, self.run_id)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_service_port() -> int:
    """A PORT for `make run` whose stream port, PORT + 300 (see the Makefile), is free too."""
    while True:
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 300))
            except OSError:
                continue
        return port


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


@pytest.fixture
def make_run(tmp_path) -> Iterator[MakeRun]:
    """`make run` on the embedded default, with all its processes up; nothing of it survives."""
    port, run_id = free_service_port(), uuid.uuid4().hex
    embedded = {
        name: None
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY",
                     "FIELD_ENCRYPTION_KEYS", "DEBUG", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }  # fmt: skip
    env = child_env(**embedded, VAR_DIR=str(tmp_path / "var"), **{RUN_VAR: run_id})
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}", f"VENV={BIN_DIR.parent}"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    run = MakeRun(process=process, run_id=run_id, log_path=log_path)

    def all_up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"make run exited early:\n{run.log()}")
        log = run.log()
        return (
            "beat: Starting" in log
            and log.count(" ready.") >= 2  # the worker and the deliveries worker
            and answers(f"http://127.0.0.1:{port}/health/live")
            and answers(f"http://127.0.0.1:{port + 300}/health/live")
        )

    try:
        wait_until(all_up, timeout=90, interval=0.2)
        yield run
    finally:
        for pid in run.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()


def ctrl_c(make: subprocess.Popen) -> None:
    os.killpg(make.pid, signal.SIGINT)  # a terminal signals its whole foreground group


def terminal_closed(make: subprocess.Popen) -> None:
    os.killpg(make.pid, signal.SIGHUP)  # so does a terminal that goes away


def sigterm(make: subprocess.Popen) -> None:
    os.kill(make.pid, signal.SIGTERM)  # a process supervisor signals the process it started


def sigterm_to_all(make: subprocess.Popen) -> None:
    os.killpg(make.pid, signal.SIGTERM)  # as systemd does: make also passes it on, a second one


def sigterm_then_sigkill(make: subprocess.Popen) -> None:
    os.kill(make.pid, signal.SIGTERM)
    time.sleep(3)
    # …then kills its group, make and the supervisor: honcho still has to stop the rest.
    os.killpg(make.pid, signal.SIGKILL)


STOPS = [ctrl_c, terminal_closed, sigterm, sigterm_to_all, sigterm_then_sigkill]


@pytest.mark.parametrize("stop", STOPS)
def test_no_process_outlives_make_run(make_run, stop: Callable[[subprocess.Popen], None]):
    running = " | ".join(make_run.processes().values())
    assert all(program in running for program in PROGRAMS), running

    signalled = time.monotonic()
    stop(make_run.process)
    while (left := make_run.processes()) and time.monotonic() - signalled < STOP_WITHIN:
        time.sleep(0.1)

    assert not left, "\n".join(
        [f"still running {STOP_WITHIN:.0f} s after the signal:", *left.values(), make_run.log()]
    )
