"""The folder where prometheus_client's multiprocess mode keeps every process's metrics.

The web (gunicorn's workers) and the Celery workers (each prefork child) write their counters
and histograms there, one file per process, and the web's `/metrics` merges them all: so a
delivery recorded in a worker shows on the web's `/metrics`. They share it when they run on
the same machine with the same `PROMETHEUS_MULTIPROC_DIR` (default `VAR_DIR/prometheus`).

prometheus_client picks its storage when it is first imported, so the folder is set before
that, and this module imports nothing of it.
"""

import contextlib
import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir_use() -> Path:
    """Point this process at the folder (unless the environment names one) and create it."""
    var_dir = os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var")
    path = Path(os.environ.setdefault(ENV, str(Path(var_dir) / "prometheus")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(file: Path) -> int | None:
    # prometheus_client names them <type>_<pid>.db: counter_123.db, gauge_livesum_123.db.
    suffix = file.stem.rsplit("_", 1)[-1]
    return int(suffix) if suffix.isdigit() else None


def _alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return False  # this process has written nothing yet: a file with its pid is stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def metrics_dir_reset_if_unused(path: Path) -> bool:
    """Delete an earlier run's files, unless a process that wrote one still runs; returns
    whether it did.

    While one does (a worker while the web restarts, or the other way round), every file is
    kept: the dead processes' counts stay in the sums, so no counter goes down, and a live
    process's open file is never unlinked from under it. The folder itself stays, since a
    process starting at the same moment may be creating its file in it.
    """
    files = list(path.glob("*.db"))
    if any(_alive(_pid(file)) for file in files):
        return False
    for file in files:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    return True
