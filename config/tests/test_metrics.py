"""/metrics across processes: what Celery's prefork children record shows on the web's
/metrics (gunicorn), through the multiprocess folder they share."""

import os
import subprocess

from config.metrics_dir import metrics_dir_reset_if_unused


def test_the_folder_is_emptied_only_when_no_process_that_wrote_there_runs(tmp_path):
    running = subprocess.Popen(["sleep", "30"])
    try:
        gone = subprocess.Popen(["true"])
        gone.wait()
        (tmp_path / f"counter_{gone.pid}.db").write_bytes(b"")
        (tmp_path / f"histogram_{running.pid}.db").write_bytes(b"")

        assert not metrics_dir_reset_if_unused(tmp_path)
        assert len(list(tmp_path.iterdir())) == 2
    finally:
        running.kill()
        running.wait()

    assert metrics_dir_reset_if_unused(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert os.path.isdir(tmp_path)
