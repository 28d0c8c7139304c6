#!/usr/bin/env python
"""Inbound receivers under wrk, beside the bare Django insert view measured in the same run.

    .venv/bin/python bench/inbound.py [--seconds 15]

Needs wrk (Debian package) and ../shared/peers (its ingest peer, FastAPI peer and
setup_db.sh). Serves the bare Django peer and our app with gunicorn (2 sync workers,
persistent connections, production settings) and the seed's FastAPI stack with uvicorn
(2 workers, uvloop; installed once into bench/out/peers-venv), then runs wrk -t1 -c10 against:
the peer's /ingest/ (one INSERT of a 1 KB body), our Shopify receiver (signed 1 KB-class
orders, a new X-Shopify-Webhook-Id per request, so every request is stored), the FastAPI
peer's /webhook/activity (the seed's Qualia endpoint) and ours (the same message activity, a
distinct body per request, since ours deduplicates on the body). Prints each figure and the
ratios. Targets: Shopify >= 80 % of the bare view with p99 <= 25 ms; Qualia at least the
FastAPI peer's rate at no worse p99.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import outbound as common  # the shared process and database helpers

SHOP, SECRET = "bench.myshopify.com", "shpss_bench_secret"
QUALIA_USER, QUALIA_PASSWORD = "webhook_user", "webhook_pass"
OUT = common.REPO / "bench" / "out"


def wrk(url: str, seconds: float, script: Path) -> dict:
    output = subprocess.run(
        ["wrk", "-t1", "-c10", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
        check=True, capture_output=True, text=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M).groups()
        return round(float(value) * units[unit], 2)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def lua_scripts() -> tuple[Path, Path]:
    from channels_app.platforms.shopify.platform import shopify_hmac

    OUT.mkdir(exist_ok=True)
    body = (common.REPO / "channels_app/platforms/shopify/fixtures/orders_create.json").read_text()
    shopify = OUT / "shopify.lua"
    shopify.write_text(
        "-- One signed body; a new X-Shopify-Webhook-Id per request (not covered by the HMAC).\n"
        "local n = 0\n"
        f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['X-Shopify-Hmac-Sha256'] = '{shopify_hmac(SECRET, body.encode())}'\n"
        f"wrk.headers['X-Shopify-Shop-Domain'] = '{SHOP}'\n"
        "wrk.headers['X-Shopify-Topic'] = 'orders/create'\n"
        "request = function()\n  n = n + 1\n"
        "  wrk.headers['X-Shopify-Webhook-Id'] = 'bench-' .. os.time() .. '-' .. n\n"
        "  return wrk.format()\nend\n"
    )
    credentials = base64.b64encode(f"{QUALIA_USER}:{QUALIA_PASSWORD}".encode()).decode()
    qualia = OUT / "qualia.lua"
    qualia.write_text(
        "-- The seed's message activity; the description varies so no request is a duplicate.\n"
        "local n = 0\nwrk.method = 'POST'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['Authorization'] = 'Basic {credentials}'\n"
        "request = function()\n  n = n + 1\n"
        "  wrk.body = '{\"description\":\"Marty McFly sent you a message ' .. os.time() .. '-' "
        '.. n .. \'.","type":"message","order_id":"bK8bg5tajNkDpDk25",'
        '"message_id":"LEPAjMB43myH8aGcP"}\'\n'
        "  return wrk.format()\nend\n"
    )
    return shopify, qualia


FASTAPI_PEER_PACKAGES = [
    "fastapi==0.165.0",
    "uvicorn==0.54.0",
    "asyncpg==0.32.0",
    "uvloop",
    "httptools",
]  # fmt: skip  (the versions of peers/RESULTS.md)


def fastapi_peer_bin() -> Path:
    """The FastAPI peer's own virtualenv (outside our requirements), created on first use."""
    venv = OUT / "peers-venv"
    if not (venv / "bin" / "uvicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *FASTAPI_PEER_PACKAGES],
                       check=True)  # fmt: skip
    return venv / "bin"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    peers = common.PEERS
    subprocess.run(["bash", str(peers / "setup_db.sh")], check=True, capture_output=True)
    common.setup_django()
    from django.contrib.auth.hashers import make_password

    from channels_app.models import ChannelAccount, InboundEvent

    owner = common.reset()
    InboundEvent.objects.all().delete()
    ChannelAccount.objects.all().delete()
    ChannelAccount.objects.create(
        owner=owner, platform="shopify", name="bench", external_id=SHOP, secret=SECRET
    )
    ChannelAccount.objects.create(
        owner=owner, platform="qualia", name="bench", external_id=QUALIA_USER,
        password_hash=make_password(QUALIA_PASSWORD),
    )  # fmt: skip
    shopify_lua, qualia_lua = lua_scripts()
    peer_env = {**os.environ, "INGEST_CONN_MAX_AGE": "600"}
    peer_env.pop("DJANGO_SETTINGS_MODULE")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=peers / "ingest_peer",
                   env=peer_env, check=True)  # fmt: skip
    os.environ.setdefault("LOG_LEVEL", "INFO")
    # The limiter still runs (its Redis round trip is part of the cost), but never refuses.
    os.environ["INBOUND_RATE_LIMIT_PER_MINUTE"] = "100000000"
    results = {}
    fastapi_bin = fastapi_peer_bin()
    fastapi = subprocess.Popen(
        [str(fastapi_bin / "uvicorn"), "app:app", "--host", "127.0.0.1", "--port", "8993",
         "--workers", "2", "--loop", "uvloop", "--http", "httptools", "--no-access-log"],
        cwd=peers / "fastapi_peer", env=peer_env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    peer = subprocess.Popen(
        [str(common.VENV_BIN / "gunicorn"), "ingestproj.wsgi:application", "-b", "127.0.0.1:8991",
         "-w", "2"],
        cwd=peers / "ingest_peer", env=peer_env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    ours = common.process(
        [str(common.VENV_BIN / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py",
         "-b", "127.0.0.1:8992", "-w", "2"],
        "inbound-gunicorn.log",
        ready=lambda: _answers(8992),
    )  # fmt: skip
    try:
        with ours:
            common.time.sleep(2)
            wrk("http://127.0.0.1:8991/ingest/", 3, peers / "post_1k.lua")  # warm-up
            results["peer_bare_insert"] = wrk(
                "http://127.0.0.1:8991/ingest/", args.seconds, peers / "post_1k.lua"
            )
            wrk("http://127.0.0.1:8992/webhooks/shopify", 3, shopify_lua)
            results["shopify"] = wrk(
                "http://127.0.0.1:8992/webhooks/shopify", args.seconds, shopify_lua
            )
            # Warm-up: each worker checks the password hash once, then remembers the credential.
            wrk("http://127.0.0.1:8992/webhook/activity", 3, qualia_lua)
            results["qualia"] = wrk(
                "http://127.0.0.1:8992/webhook/activity", args.seconds, qualia_lua
            )
            wrk("http://127.0.0.1:8993/webhook/activity", 3, peers / "post_qualia.lua")
            results["peer_fastapi_qualia"] = wrk(
                "http://127.0.0.1:8993/webhook/activity", args.seconds, peers / "post_qualia.lua"
            )
    finally:
        for server in (peer, fastapi):
            os.killpg(server.pid, 15)
            server.wait()
    base = results["peer_bare_insert"]["req_per_s"]
    results["ratios"] = {
        "shopify/peer": round(results["shopify"]["req_per_s"] / base, 3),
        "qualia/peer": round(results["qualia"]["req_per_s"] / base, 3),
        "qualia/fastapi": round(
            results["qualia"]["req_per_s"] / results["peer_fastapi_qualia"]["req_per_s"], 3
        ),
    }
    for name, figures in results.items():
        print(f"{name:18} {json.dumps(figures)}")


def _answers(port: int) -> bool:
    try:
        return common.http_json(f"http://127.0.0.1:{port}/health/live")["status"] == "ok"
    except OSError:
        return False


if __name__ == "__main__":
    main()
