"""Production start-up refuses missing secrets; the embedded default serves with no server."""

import subprocess
import sys

import pytest
import requests

from conftest import BASE_DIR, BIN_DIR, child_env, start_web_server

PRODUCTION_WITHOUT_SECRETS = {
    "DEBUG": "False",
    "SECRET_KEY": "",
    "FIELD_ENCRYPTION_KEYS": "",
    "ALLOWED_HOSTS": "localhost",
}


def run(args: list[str], *, cwd=BASE_DIR, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=child_env(**env), capture_output=True, text=True, timeout=60
    )


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], **env)


def test_production_check_refuses_to_start_without_secret_key():
    result = run_manage("check", **PRODUCTION_WITHOUT_SECRETS)
    assert result.returncode != 0
    assert "config.E001" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "config.E002" in result.stderr


def test_production_wsgi_refuses_to_load_without_secret_key():
    result = run([sys.executable, "-c", "import config.wsgi"], **PRODUCTION_WITHOUT_SECRETS)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("process", [["worker", "--pool", "solo"], ["beat"]])
def test_production_celery_refuses_to_start_without_secrets(process, tmp_path):
    result = run(
        [str(BIN_DIR / "celery"), "-A", "config", *process],
        cwd=tmp_path,  # beat writes its schedule file here, if it ever got that far
        **PRODUCTION_WITHOUT_SECRETS,
        PYTHONPATH=str(BASE_DIR),
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        CELERY_BROKER_URL=f"filesystem://{tmp_path}",
    )
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", **{**PRODUCTION_WITHOUT_SECRETS, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "config.E004" in result.stderr


def test_production_starts_with_its_secrets():
    result = run_manage(
        "check",
        **{
            **PRODUCTION_WITHOUT_SECRETS,
            "SECRET_KEY": "x" * 50,
            "FIELD_ENCRYPTION_KEYS": "hxiHDG1Z1h0Qw0p0c8Jbx2M4iNqo7G0r1mX8G9E0ZrY=",
        },
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.server
def test_embedded_default_boots_and_serves_with_no_server(tmp_path):
    embedded = {
        "DATABASE_URL": None,
        "CELERY_BROKER_URL": None,
        "REDIS_URL": None,
        "SECRET_KEY": None,
        "FIELD_ENCRYPTION_KEYS": None,
        "DEBUG": None,
        "VAR_DIR": str(tmp_path / "var"),
    }
    migrate = run_manage("migrate", "--noinput", **embedded)
    assert migrate.returncode == 0, migrate.stderr

    handle, base_url = start_web_server(child_env(**embedded), tmp_path / "web.log")
    try:
        ready = requests.get(f"{base_url}/health/ready", timeout=10)
        admin = requests.get(f"{base_url}/admin/login/", timeout=10)
        docs = requests.get(f"{base_url}/api/docs/", timeout=10)
    finally:
        handle.stop()
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["broker"]["ok"]
    assert admin.status_code == 200
    assert "Webhook Platform" in admin.text
    assert docs.status_code == 200
    assert (tmp_path / "var" / "db.sqlite3").exists()
    assert (tmp_path / "var" / "field_encryption.key").exists()
