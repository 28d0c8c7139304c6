"""bin/supervise.py, which `make run` runs honcho under, on a small command of our own.

test_make_run.py checks the whole of `make run`; these check the supervisor's own rules in a
second each: one graceful stop per run, nothing left behind, a stop even when it is SIGKILLed.
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import BASE_DIR, child_env, wait_until

SUPERVISE = str(BASE_DIR / "bin" / "supervise.py")

# Says when it is ready and what it was sent; takes a moment to stop, as a server does.
GRACEFUL = textwrap.dedent(
    """
    import signal, sys, time

    def stop(signum, frame):
        print(signal.Signals(signum).name, flush=True)
        time.sleep(0.5)
        print("stopped", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    while True:
        time.sleep(1)
    """
)


def supervise(*command: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, SUPERVISE, *command],
        cwd=BASE_DIR,
        env=child_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def read_ready(process: subprocess.Popen) -> None:
    assert process.stdout.readline() == "ready\n"


def test_sighup_and_a_repeated_sigterm_make_one_graceful_stop():
    process = supervise(sys.executable, "-c", GRACEFUL)
    read_ready(process)

    process.send_signal(signal.SIGHUP)  # a closed terminal
    process.send_signal(signal.SIGTERM)  # the same stop passed on by make, say
    out, _ = process.communicate(timeout=10)

    assert out == "SIGTERM\nstopped\n"
    assert process.returncode == -signal.SIGHUP


def test_what_the_command_leaves_behind_is_stopped_when_it_exits():
    leaves_a_sleep = (
        "import subprocess; "
        "print(subprocess.Popen(['sleep', '300'], start_new_session=True).pid, flush=True)"
    )
    process = supervise(sys.executable, "-c", leaves_a_sleep)
    orphan = int(process.stdout.readline())

    _, err = process.communicate(timeout=10)

    assert process.returncode == 0
    assert "1 processes outlived" in err
    with pytest.raises(ProcessLookupError):
        os.kill(orphan, 0)


def test_a_sigkilled_supervisor_still_stops_the_command(tmp_path):
    out = tmp_path / "out"
    with open(out, "w") as out_file:
        process = supervise(sys.executable, "-c", GRACEFUL, stdout=out_file)
    wait_until(lambda: out.read_text() == "ready\n")

    process.kill()
    process.wait()

    wait_until(lambda: out.read_text() == "ready\nSIGTERM\nstopped\n", timeout=5)
