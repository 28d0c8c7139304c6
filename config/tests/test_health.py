import pytest
import requests

from conftest import child_env, start_web_server

pytestmark = pytest.mark.django_db


def test_live_answers_without_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/health/ready", "/api/v1/health/ready"])
def test_ready_when_database_and_broker_answer(client, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"]
    assert body["checks"]["broker"]["ok"]


@pytest.mark.parametrize("path", ["/health", "/api/v1/health"])
def test_detail_reports_latency_version_and_pending_work(client, path):
    body = client.get(path).json()
    assert body["version"]
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert isinstance(body["pending_work"], dict)


def test_ready_is_503_naming_the_broker_when_it_is_unreachable(client, monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert "broker" in body["status"]


@pytest.mark.server
def test_ready_is_503_naming_the_database_when_it_is_unreachable(tmp_path):
    # A real server whose DATABASE_URL points at a closed port.
    handle, base_url = start_web_server(
        child_env(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere"), tmp_path / "web.log"
    )
    try:
        response = requests.get(f"{base_url}/health/ready", timeout=10)
    finally:
        handle.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {
        "ok": False,
        "error": "OperationalError",
        "latency_ms": body["checks"]["database"]["latency_ms"],
    }
    assert "database" in body["status"]
