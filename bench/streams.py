#!/usr/bin/env python
"""Do open live streams slow down the webhook receiver?

Serves the app as production does: gunicorn (2 workers) for receivers, uvicorn for streams.
Posts signed Shopify webhooks from 10 concurrent senders for a fixed time and reports the
receiver's throughput and p50/p99, first with no stream open, then with 500 SSE streams open
on the ASGI process (heartbeats and the per-process poller running). Target: p99 with 500
streams within 20 % of p99 with none.

    .venv/bin/python bench/streams.py [--streams 500] [--seconds 15]
"""

import argparse
import asyncio
import json
import multiprocessing
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

import outbound as common  # the shared process and database helpers

SHOP, SECRET = "bench.myshopify.com", "shpss_bench_secret"
SENDERS = 10


def load(base_url: str, seconds: float) -> dict:
    """SENDERS threads posting distinct signed orders; returns rate and latency percentiles."""
    import requests

    from channels_app.platforms.shopify.platform import shopify_hmac

    body = (common.REPO / "channels_app/platforms/shopify/fixtures/orders_create.json").read_bytes()
    signature = shopify_hmac(SECRET, body)
    latencies: list[float] = []
    errors = []
    stop_at = time.perf_counter() + seconds

    def sender(index: int):
        session = requests.Session()
        sent = 0
        while time.perf_counter() < stop_at:
            headers = {
                "X-Shopify-Hmac-Sha256": signature,
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": f"{index}-{sent}-{time.time_ns()}",
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            response = session.post(f"{base_url}/webhooks/shopify", data=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors.append(response.status_code)
            sent += 1

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests_per_s": round(len(latencies) / seconds),
        "p50_ms": common.percentile(latencies, 0.5),
        "p99_ms": common.percentile(latencies, 0.99),
        "errors": len(errors),
    }


def hold_streams(port: int, token: str, count: int, ready, stop) -> None:
    """In its own process: open `count` SSE connections and keep reading them until `stop`."""

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        await reader.readuntil(b": connected")
        return reader, writer

    async def main():
        connections = []
        for _ in range(count // 50):
            connections += await asyncio.gather(*(one() for _ in range(50)))
        ready.set()
        while not stop.is_set():
            for reader, _ in connections:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(4096), timeout=0.001)
            await asyncio.sleep(0.5)
        for _, writer in connections:
            writer.close()

    asyncio.run(main())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    common.setup_django()
    from channels_app.models import ChannelAccount, InboundEvent
    from webhooks.services import api_token_create

    owner = common.reset()
    InboundEvent.objects.all().delete()
    ChannelAccount.objects.all().delete()
    ChannelAccount.objects.create(
        owner=owner, platform="shopify", name="bench", external_id=SHOP, secret=SECRET
    )
    _, token = api_token_create(user=owner, name="bench")
    web_port, stream_port = 8981, 8982
    gunicorn = common.process(
        [str(common.VENV_BIN / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py",
         "-b", f"127.0.0.1:{web_port}", "-w", "2"],
        "streams-gunicorn.log", ready=lambda: _answers(web_port),
    )  # fmt: skip
    uvicorn = common.process(
        [str(common.VENV_BIN / "uvicorn"), "config.asgi:application", "--port", str(stream_port),
         "--no-access-log", "--timeout-graceful-shutdown", "1"],
        "streams-uvicorn.log", ready=lambda: _answers(stream_port),
    )  # fmt: skip
    results = {}
    with gunicorn, uvicorn:
        load(f"http://127.0.0.1:{web_port}", 2)  # warm-up
        results["no_streams"] = load(f"http://127.0.0.1:{web_port}", args.seconds)
        ready, stop = multiprocessing.Event(), multiprocessing.Event()
        holder = multiprocessing.Process(
            target=hold_streams, args=(stream_port, token, args.streams, ready, stop)
        )
        holder.start()
        if not ready.wait(timeout=120):
            raise RuntimeError("streams did not open")
        results[f"{args.streams}_streams"] = load(f"http://127.0.0.1:{web_port}", args.seconds)
        stop.set()
        holder.join(timeout=30)
    results["p99_ratio"] = round(
        results[f"{args.streams}_streams"]["p99_ms"] / results["no_streams"]["p99_ms"], 2
    )
    for name, figures in results.items():
        print(f"{name:14} {json.dumps(figures)}")


def _answers(port: int) -> bool:
    try:
        return common.http_json(f"http://127.0.0.1:{port}/health/live")["status"] == "ok"
    except OSError:
        return False


if __name__ == "__main__":
    main()
