"""schemathesis against the app in production mode under gunicorn, on PostgreSQL: every default
check and phase, a small budget, a real bearer token. Nothing it sends may break the server:
no failed check, and no traceback in gunicorn's log.

What no schema can say is configured narrowly in fuzz_hooks.py. The fuzzer may not revoke its
own token (DELETE /api/tokens/{id}): every later request would be a 401 and test nothing;
test_api_contract.py exercises that operation.
"""

import os
import subprocess

import pytest
from cryptography.fernet import Fernet

from conftest import BIN_DIR, child_env, database_url_for_children, free_port, start_web_server
from webhooks.services import api_token_create

pytestmark = [
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

HOOKS = os.path.join(os.path.dirname(__file__), "fuzz_hooks.py")
EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "10")  # per operation and phase
SEED = os.environ.get("FUZZ_SEED", "1")  # fixed, so a run in CI can be replayed exactly


def production(tmp_path) -> dict[str, str]:
    (tmp_path / "var" / "staticfiles").mkdir(parents=True)
    return {
        "DEBUG": "False",
        "SECRET_KEY": "fuzz-" * 10,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url_for_children(),
        # Its own broker and cache: no worker runs, and no queued task outlives the test.
        "CELERY_BROKER_URL": "filesystem://",
        "REDIS_URL": None,
        # A closed port on loopback, should a fuzzed account ever reach Shopify's API.
        "SHOPIFY_ADMIN_URL_TEMPLATE": f"http://127.0.0.1:{free_port()}/{{shop}}/{{resource}}",
    }


def test_schemathesis_finds_no_failure_and_the_server_logs_no_traceback(
    tmp_path, django_user_model
):
    _, token = api_token_create(user=django_user_model.objects.create_user("fuzz"), name="fuzz")
    server, base_url = start_web_server(
        child_env(**production(tmp_path)), tmp_path / "web.log", workers=2
    )
    try:
        run = subprocess.run(
            [str(BIN_DIR / "schemathesis"), "run", f"{base_url}/api/schema/",
             "--header", f"Authorization: Bearer {token}",
             "--exclude-operation-id", "tokens_destroy",
             "--max-examples", EXAMPLES, "--seed", SEED, "--generation-database", "none",
             # PostgreSQL cannot store a NUL in text: every such value is refused with 422
             # invalid_value, which test_api_contract.py proves for every operation.
             "--generation-allow-x00", "false",
             "--request-timeout", "20", "--no-color"],
            cwd=tmp_path,
            env=child_env(SCHEMATHESIS_HOOKS=HOOKS),
            capture_output=True,
            text=True,
            timeout=240,
        )  # fmt: skip
    finally:
        server.stop()

    print(run.stdout[-4_000:])  # the summary, for `pytest -s` and a failure's report
    assert run.returncode == 0, run.stdout[-30_000:] + run.stderr[-5_000:]
    assert "Traceback" not in server.log(), server.log()[-30_000:]
