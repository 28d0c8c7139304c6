#!/usr/bin/env python
"""Outbound delivery benchmark: our end-to-end path against the raw signed-POST ceiling.

Run on demand (not in CI), from the repository root, with PostgreSQL and Redis on 127.0.0.1:

    .venv/bin/python bench/outbound.py            # full run, a few minutes
    .venv/bin/python bench/outbound.py --quick    # smoke run, smaller figures

Measures, in one run, on database `bench_outbound` and Redis db 13:
  (a) ceiling: ../shared/peers/deliver.py, one process signing and POSTing with a keep-alive
      requests.Session to the peers' sink;
  (b) end to end: event_publish of N events to one subscription, as fast as one process can,
      with a real Celery worker (prefork, concurrency 2) delivering to the sink, until the
      sink has all N; the same with two publishing processes (as two web workers would);
      plus the drain rate of the same N published before the worker starts; each at the
      default max_in_flight (10) and at 100, as a subscriber that can take more sets it;
  (c) fan-out: one event to 1,000 subscriptions;
  (d) isolation: p50/p99 publish-to-arrival latency of a healthy endpoint, alone, beside
      one that answers 10 s late, and beside one that never answers;
  (e) endpoints that answer like real ones: the peers' sink with every answer 100 ms late,
      20 subscriptions, 2,000 queued deliveries drained by the real worker, against the
      ceiling of one asyncio + aiohttp process with 200 in flight posting the same signed
      requests (deliver_async.py); one event to 1,000 subscriptions at that latency; and the
      worker processes' memory (RSS) while 200 requests are in flight;
  (f) publishing to 1,000 subscriptions without payload filters and with one on each that
      every event matches (the same deliveries either way), no worker running.
Prints each figure and the ratios, and appends JSON lines to bench/out/outbound.jsonl.
"""

import argparse
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO.parent / "shared" / "peers"
VENV_BIN = Path(sys.executable).parent
DATABASE = "bench_outbound"
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-not-secret-" + "x" * 40,
    "FIELD_ENCRYPTION_KEYS": "hxiHDG1Z1h0Qw0p0c8Jbx2M4iNqo7G0r1mX8G9E0ZrY=",
    "WEBHOOKS_ALLOW_PRIVATE_URLS": "true",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}
os.environ.update(ENV)
sys.path.insert(0, str(REPO))
PAD = "x" * 900  # about 1 KB per delivered body, like the ceiling's


def http_json(url: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read() or b"null")


@contextmanager
def process(args: list[str], log_name: str, ready=None):
    """A child in its own process group, stopped with everything it started."""
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    with open(out / log_name, "wb") as log:
        child = subprocess.Popen(
            args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 30
            while ready and not ready():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[0]} did not start; see bench/out/{log_name}")
                time.sleep(0.1)
            yield child
        finally:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def sink(port: int, *options: str):
    def ready():
        try:
            return http_json(f"http://127.0.0.1:{port}/_stats") is not None
        except OSError:
            return False

    script = PEERS / "sink.py"
    if not script.exists():
        sys.exit(f"{script} is missing: the benchmark needs shared/peers beside the repository")
    return process(
        [sys.executable, str(script), "--port", str(port), *options], f"sink-{port}.log", ready
    )


@contextmanager
def silent_endpoint(port: int):
    """Accepts connections and never answers a byte: a subscriber that hangs."""
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    held, stop = [], threading.Event()

    def hold():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def worker_rss_mb(worker_process) -> list[float]:
    """Resident memory of each process in the worker's process group, in MB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            pid = int(status.parent.name)
            if os.getpgid(pid) != worker_process.pid:
                continue
            rss_kb = next(
                int(line.split()[1])
                for line in status.read_text().splitlines()
                if line.startswith("VmRSS:")
            )
        except (OSError, StopIteration, ValueError):
            continue
        sizes.append(round(rss_kb / 1024, 1))
    return sorted(sizes)


def worker():
    log = REPO / "bench" / "out" / "worker.log"
    return process(
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO",
         "--queues", "default,deliveries,inbound", "--concurrency", "2",
         "--without-mingle", "--without-gossip"],
        "worker.log",
        ready=lambda: log.exists() and b"ready." in log.read_bytes(),
    )  # fmt: skip


def sink_count(port: int) -> int:
    return http_json(f"http://127.0.0.1:{port}/_stats")["count"]


def wait_for_count(port: int, expected: int, timeout: float) -> float:
    """Seconds until the sink counted `expected` requests (raises past `timeout`)."""
    started = time.perf_counter()
    while (count := sink_count(port)) < expected:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"sink on {port} has {count} of {expected} after {timeout}s")
        time.sleep(0.02)
    return time.perf_counter()


def latencies_ms(port: int) -> list[float]:
    """Publish-to-arrival latency of each recorded request (bodies carry `sent_at`)."""
    return sorted(
        (arrived - json.loads(body)["data"]["sent_at"]) * 1000
        for arrived, body in http_json(f"http://127.0.0.1:{port}/_dump")
    )


def percentile(values: list[float], fraction: float) -> float:
    return round(values[min(len(values) - 1, int(fraction * len(values)))], 1)


def setup_django():
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], capture_output=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset(*ports: int):
    import redis
    from django.contrib.auth import get_user_model

    from subscriptions.models import Subscription
    from webhooks.models import Event

    Event.objects.all().delete()  # deliveries and attempts cascade
    Subscription.objects.all().delete()
    redis.Redis.from_url(ENV["REDIS_URL"]).flushdb()
    for port in ports:
        http_json(f"http://127.0.0.1:{port}/_reset", method="POST")
    return get_user_model().objects.get_or_create(username="bench")[0]


def publish(owner, number: int):
    from webhooks.services import event_publish

    event_publish(
        owner=owner,
        event_type="task.created",
        data={"n": number, "sent_at": time.time(), "pad": PAD},
    )


def subscribe(owner, port: int, **fields):
    from subscriptions.services import subscription_create

    return subscription_create(
        owner=owner, url=f"http://127.0.0.1:{port}/hook", event_types=["*"], **fields
    )


def ceiling(port: int, seconds: float) -> dict:
    result = subprocess.run(
        [sys.executable, str(PEERS / "deliver.py"), "--client", "requests", "--procs", "1",
         "--seconds", str(seconds), "--sink", f"http://127.0.0.1:{port}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def _publish_numbers(owner, numbers: range) -> None:
    for number in numbers:
        publish(owner, number)


def publish_from(processes: int, owner, n: int) -> None:
    """Publish events 0..n-1 from `processes` forked processes (one: this one)."""
    if processes == 1:
        _publish_numbers(owner, range(n))
        return
    from django.db import connections

    connections.close_all()  # each child opens its own
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.starmap(_publish_numbers, [(owner, range(i, n, processes)) for i in range(processes)])


def end_to_end(port: int, n: int, publishers: int = 1, max_in_flight: int = 10) -> dict:
    owner = reset(port)
    subscribe(owner, port, max_in_flight=max_in_flight)
    with worker():
        started = time.perf_counter()
        publish_from(publishers, owner, n)
        published = time.perf_counter()
        finished = wait_for_count(port, n, timeout=300)
    lat = latencies_ms(port)
    return {
        "n": n,
        "publishers": publishers,
        "max_in_flight": max_in_flight,
        "seconds": round(finished - started, 2),
        "deliveries_per_s": round(n / (finished - started)),
        "publish_per_s": round(n / (published - started)),
        "latency_p50_ms": percentile(lat, 0.5),
        "latency_p99_ms": percentile(lat, 0.99),
    }


def drain(port: int, n: int, max_in_flight: int = 10) -> dict:
    """The delivery side alone: N events already published, then the worker starts."""
    owner = reset(port)
    subscribe(owner, port, max_in_flight=max_in_flight)
    for number in range(n):
        publish(owner, number)
    with worker():
        from subscriptions.delivery.maintenance import deliveries_sweep

        started = time.perf_counter()
        deliveries_sweep()  # what beat does every few seconds: wake the subscription
        finished = wait_for_count(port, n, timeout=300)
    return {"n": n, "max_in_flight": max_in_flight, "seconds": round(finished - started, 2),
            "deliveries_per_s": round(n / (finished - started))}  # fmt: skip


def fanout(port: int, subscriptions: int) -> dict:
    owner = reset(port)
    for _ in range(subscriptions):
        subscribe(owner, port)
    with worker():
        started = time.perf_counter()
        publish(owner, 0)
        finished = wait_for_count(port, subscriptions, timeout=300)
    return {"subscriptions": subscriptions, "seconds": round(finished - started, 2),
            "deliveries_per_s": round(subscriptions / (finished - started))}  # fmt: skip


def isolation(healthy_port: int, slow_port, rate: float, seconds: float):
    """`slow_port`: None (alone), or an endpoint that answers late or never."""
    owner = reset(healthy_port)
    subscribe(owner, healthy_port)
    if slow_port:
        subscribe(owner, slow_port, timeout_seconds=10)
    count = int(rate * seconds)
    with worker():
        for number in range(count):
            publish(owner, number)
            time.sleep(1 / rate)
        wait_for_count(healthy_port, count, timeout=120)
    lat = latencies_ms(healthy_port)
    return {
        "beside": slow_port,
        "events": count,
        "healthy_p50_ms": percentile(lat, 0.5),
        "healthy_p99_ms": percentile(lat, 0.99),
    }


def ceiling_async(port: int, n: int, endpoints: int) -> dict:
    result = subprocess.run(
        [sys.executable, str(PEERS / "deliver_async.py"), "--url", f"http://127.0.0.1:{port}",
         "--n", str(n), "--inflight", "200", "--endpoints", str(endpoints)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def latency_drain(port: int, n: int, endpoints: int) -> dict:
    """N deliveries queued to `endpoints` subscriptions on a late-answering sink, then drained."""
    owner = reset(port)
    for number in range(endpoints):
        subscribe_path(owner, port, f"/ep{number}")
    for number in range(n // endpoints):
        publish(owner, number)
    with worker() as child:
        from subscriptions.delivery.maintenance import deliveries_sweep

        started = time.perf_counter()
        deliveries_sweep()
        rss, deadline = [], started + 300
        while (count := sink_count(port)) < n:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"sink on {port} has {count} of {n}")
            if not rss and count > n // 4:
                rss = worker_rss_mb(child)  # mid-drain: the pumps have 200 in flight
            time.sleep(0.02)
        finished = time.perf_counter()
    return {"n": n, "endpoints": endpoints, "seconds": round(finished - started, 2),
            "deliveries_per_s": round(n / (finished - started)), "worker_rss_mb": rss}  # fmt: skip


def publish_cost_with_filters(port: int, subscriptions: int, events: int) -> dict:
    """Milliseconds per publish to `subscriptions` endpoints, without filters and with a
    two-clause filter on each that every event matches (so both create as many deliveries)."""
    from subscriptions.models import Subscription
    from subscriptions.services import subscription_update

    owner = reset(port)
    for _ in range(subscriptions):
        subscribe(owner, port)

    def per_publish_ms() -> float:
        started = time.perf_counter()
        for number in range(events):
            publish(owner, number)
        return round((time.perf_counter() - started) / events * 1000, 2)

    plain = per_publish_ms()
    for subscription in Subscription.objects.all():
        subscription_update(
            subscription=subscription,
            filter={"data.n": {"$gte": 0}, "data.pad": {"$exists": True}},
        )
    filtered = per_publish_ms()
    return {"subscriptions": subscriptions, "events": events, "plain_ms": plain,
            "filtered_ms": filtered, "ratio": round(filtered / plain, 2)}  # fmt: skip


def subscribe_path(owner, port: int, path: str):
    from subscriptions.services import subscription_create

    return subscription_create(owner=owner, url=f"http://127.0.0.1:{port}{path}", event_types=["*"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, for a smoke run")
    args = parser.parse_args()
    n, fan, seconds = (500, 100, 3) if args.quick else (5000, 1000, 10)
    late_n = 500 if args.quick else 2000
    setup_django()
    results = {}
    with (
        sink(8961),
        sink(8962, "--record"),
        sink(8963, "--sleep-every", "1", "--sleep-ms", "10000"),
        sink(8964, "--sleep-every", "1", "--sleep-ms", "100"),
        silent_endpoint(8965),
    ):
        results["a_ceiling"] = ceiling(8961, seconds)
        results["b_end_to_end"] = end_to_end(8962, n)
        results["b_end_to_end_2_publishers"] = end_to_end(8962, n, publishers=2)
        results["b_end_to_end_max_in_flight_100"] = end_to_end(8962, n, max_in_flight=100)
        results["b_drain"] = drain(8961, n)
        results["b_drain_max_in_flight_100"] = drain(8961, n, max_in_flight=100)
        results["c_fanout"] = fanout(8961, fan)
        results["d_isolation_alone"] = isolation(8962, None, 20, seconds)
        results["d_isolation_beside_slow"] = isolation(8962, 8963, 20, seconds)
        results["d_isolation_beside_silent"] = isolation(8962, 8965, 20, seconds)
        results["e_ceiling_100ms"] = ceiling_async(8964, late_n, 20)
        results["e_drain_100ms"] = latency_drain(8964, late_n, 20)
        results["e_fanout_100ms"] = fanout(8964, fan)
        results["f_publish_filters"] = publish_cost_with_filters(8961, fan, 20)
    ceiling_rate = results["a_ceiling"]["deliveries_per_s"]
    alone_p99 = max(results["d_isolation_alone"]["healthy_p99_ms"], 0.1)
    results["ratios"] = {
        "b_end_to_end/a": round(results["b_end_to_end"]["deliveries_per_s"] / ceiling_rate, 3),
        "b_end_to_end_2_publishers/a": round(
            results["b_end_to_end_2_publishers"]["deliveries_per_s"] / ceiling_rate, 3
        ),
        "b_end_to_end_max_in_flight_100/a": round(
            results["b_end_to_end_max_in_flight_100"]["deliveries_per_s"] / ceiling_rate, 3
        ),
        "b_drain/a": round(results["b_drain"]["deliveries_per_s"] / ceiling_rate, 3),
        "b_drain_max_in_flight_100/a": round(
            results["b_drain_max_in_flight_100"]["deliveries_per_s"] / ceiling_rate, 3
        ),
        "d_p99_beside_slow/alone": round(
            results["d_isolation_beside_slow"]["healthy_p99_ms"] / alone_p99, 2
        ),
        "d_p99_beside_silent/alone": round(
            results["d_isolation_beside_silent"]["healthy_p99_ms"] / alone_p99, 2
        ),
        "e_drain_100ms/e_ceiling_100ms": round(
            results["e_drain_100ms"]["deliveries_per_s"]
            / results["e_ceiling_100ms"]["deliveries_per_s"],
            3,
        ),
    }
    for name, figures in results.items():
        print(f"{name:28} {json.dumps(figures)}")
    out = REPO / "bench" / "out"
    with open(out / "outbound.jsonl", "a") as log:
        log.write(json.dumps({"at": time.time(), "quick": args.quick, **results}) + "\n")


if __name__ == "__main__":
    main()
