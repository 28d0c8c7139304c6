"""Run a command so that nothing it starts outlives it: `make run` runs honcho under this.

    python bin/supervise.py COMMAND [ARG...]

honcho stops the Procfile's processes on SIGINT and SIGTERM, but it starts each in a session
of its own, so nothing reaches them once honcho itself is gone: it has no handler for SIGHUP
(a closed terminal) and dies of it, and a SIGKILL (a process supervisor's last word) cannot be
handled at all. Here:

- The command runs in a process group of its own, so a terminal's signals reach this process
  only, and SIGINT, SIGTERM and SIGHUP become the one stop honcho handles (SIGHUP is sent on as
  SIGTERM). honcho then sends SIGTERM to each process and SIGKILL to those left 5 s later.
- This process is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever the command leaves
  behind when it dies becomes a child of ours instead of init's, so all of it can be found
  among our descendants. Once the command has exited, every descendant gets SIGTERM (as
  honcho sends it to each process's group); whatever is still running GRACE seconds after a
  stop signal (or after the command exited) gets SIGKILL. A second Ctrl-C kills at once.
- The command gets PR_SET_PDEATHSIG=SIGTERM: if this process is SIGKILLed, the command is still
  told to stop, and stops its processes as above.

What no process can ensure: if this process and honcho are both SIGKILLed at once, honcho's
processes are left running. Linux only (prctl, /proc); elsewhere the command is just executed.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
# Under `make run`'s promise of 10 s, and after honcho's own SIGKILL (5 s after its first
# process stopped).
GRACE = 8.0


def prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value})")


def descendants() -> set[int]:
    """Our live descendants (orphans handed to us included, zombies not)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if state != "Z":
            children.setdefault(int(ppid), []).append(int(entry.name))
    found, parents = set(), [os.getpid()]
    while parents:
        found.update(pids := children.get(parents.pop(), []))
        parents.extend(pids)
    return found


def signal_each(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def log(message: str) -> None:
    print(f"supervise: {message}", file=sys.stderr, flush=True)


def supervise(argv: list[str]) -> int:
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    watched = STOP_SIGNALS | {signal.SIGCHLD}
    # Taken with sigtimedwait below rather than by handlers, so no signal lands mid-step.
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    me = os.getpid()

    def in_child() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != me:  # we died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    command = subprocess.Popen(argv, process_group=0, preexec_fn=in_child)  # noqa: S603
    status = stop_signal = kill_at = None
    leftovers_told = killing = False
    while True:
        info = signal.sigtimedwait(watched, 0.2)
        if info is not None and info.si_signo in STOP_SIGNALS:
            if stop_signal is None:
                stop_signal = info.si_signo
                kill_at = time.monotonic() + GRACE
                if status is None:
                    forward = signal.SIGTERM if stop_signal == signal.SIGHUP else stop_signal
                    os.kill(command.pid, forward)
            elif info.si_signo == signal.SIGINT:  # not SIGTERM: make passes on one sent to all
                kill_at = time.monotonic()
        # Reap the command and any orphan handed to us (waitpid, not Popen: orphans too).
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == command.pid:
                status = command.returncode = os.waitstatus_to_exitcode(wait_status)
        if status is None and (kill_at is None or time.monotonic() < kill_at):
            continue  # running, or stopping within its grace
        left = descendants()
        if not left and status is not None:
            break
        if status is not None and not (leftovers_told or killing):
            leftovers_told = True
            log(f"{len(left)} processes outlived {argv[0]}: sending SIGTERM")
            signal_each(left, signal.SIGTERM)
            kill_at = kill_at or time.monotonic() + GRACE
        if kill_at is not None and time.monotonic() >= kill_at and left:
            if not killing:
                killing = True
                log(f"{len(left)} processes still running: sending SIGKILL")
            signal_each(left, signal.SIGKILL)

    if stop_signal is not None:
        # Die of the same signal, so that make and shells see how we ended.
        signal.signal(stop_signal, signal.SIG_DFL)
        os.kill(me, stop_signal)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {stop_signal})
    return status if status >= 0 else 128 - status


def main() -> int:
    argv = sys.argv[1:]
    if not argv:
        sys.exit(__doc__)
    if sys.platform != "linux":
        os.execvp(argv[0], argv)  # noqa: S606
    return supervise(argv)


if __name__ == "__main__":
    sys.exit(main())
