"""Profile the order path (`python -m bench.profile`): the bench's stack on
one database, ``POST /order/limit`` from one client at the bench's pace, and
py-spy (pinned in requirements-dev.txt) sampling the gunicorn process and the
gateway worker the whole time, idle threads included (time spent waiting for
the database or Redis is on the path too).

It prints where one order's time goes, in milliseconds per order: on the web
side each sample of a request thread goes to the innermost step it is in
(authentication, the demo guard, the audit INSERT, the kill switch, the
heartbeat, the bus...), on the worker side to the thread and step.  The raw
stacks (py-spy's collapsed format) are kept under var/bench/profile/ for a
flame graph (``py-spy``'s speedscope or any collapsed-stack viewer).

    python -m bench.profile --database postgres --orders 400
    python -m bench.profile --database sqlite --orders 400
    python -m bench.profile --database postgres --endpoint v2   # POST /v2/orders
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.databases import DATABASES, database_url, drop
from bench.driver import Sample, measure
from bench.floors import DirectClient
from bench.run import ORDER_BODY, V2_ORDER_BODY, migrate
from tests.stack import ROOT, Stack

OUT = ROOT / "var" / "bench" / "profile"
RATE = 250  # samples a second (1000 doubled the order time on 2 cores)

# Web side: a request thread's sample goes to the innermost frame that names a
# step (frames are py-spy's "function (file:line)"; matched on "function (file").
WEB_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("v2: client_order_id reserved", ("_reserve (v2api/services.py",)),
    ("v2: the order read back (mirror, journal)", ("order_placed (v2api/selectors.py",)),
    ("v2: the service's other work", ("order_submit (v2api/services.py",)),
    ("db: connection health check (SELECT 1)", ("close_if_health_check_failed (", "is_usable (")),
    ("db: connect", ("get_new_connection (",)),
    ("idempotency record", ("run_once (trading/idempotency.py", "_replay (trading/")),
    ("audit: request row INSERT (+ kill switch since issue 18)", ("request_opened (trading/",)),
    ("audit: outcome handed to the writer", ("outcome_recorded (trading/audit.py",)),
    ("kill switch SELECT (before issue 18)", ("halt_check (trading/risk.py",)),
    ("limits", ("limits_check (trading/risk.py",)),
    ("heartbeat read (before issue 18)", ("require_ready (trading/mirror.py",)),
    ("live check", ("live_check (trading/risk.py",)),
    ("bus: send (+ heartbeat since issue 18)", ("lpush (redis/", "Pipeline.execute (redis/")),
    ("bus: wait for the worker (BLPOP)", ("blpop (redis/",)),
    ("bus: other", ("_redis_call (trading/bus.py",)),
    ("service: other", ("order_place (trading/services.py", "_run (trading/services.py")),
    ("auth: token", ("authenticate (trading/auth.py",)),
    ("auth: demo guard", ("demo_refusal (trading/auth.py", "has_permission (trading/auth.py")),
    ("request validation", ("is_valid (rest_framework/serializers.py",)),
    ("rendering", ("finalize_response (rest_framework/views.py",)),
    ("view: other", ("post (trading/views.py",)),
    ("DRF dispatch", ("dispatch (rest_framework/views.py",)),
    ("Django: signals, connections at request end", ("close_old_connections (",)),
    ("Django middleware and handler", ("get_response (django/core/handlers/base.py",)),
    ("gunicorn: parse, write", ("handle_request (gunicorn/workers/gthread.py",)),
]
REQUEST_ROOT = "handle (gunicorn/workers/gthread.py"

# Worker side: threads by the function they run, then steps inside them.
WORKER_THREADS: list[tuple[str, str]] = [
    ("gateway loop", "_run (trading/gateway/runtime.py"),
    ("bus intake thread (before issue 18)", "_consume (trading/gateway/intake.py"),
    ("bus replier thread (before issue 18)", "_reply (trading/gateway/intake.py"),
    ("journal writer", "_run (trading/gateway/journal_feed.py"),
    ("mirror publisher", "_run (trading/gateway/publisher.py"),
]
WORKER_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("idle: waiting for events (select)", ("select (selectors.py", "_run_once (asyncio/")),
    ("idle: waiting for a request (BRPOP)", ("brpop (redis/",)),
    ("idle: waiting for work (queue)", ("get (queue.py", "wait (threading.py")),
    ("pause before a journal write", ("sleep (",)),
    ("journal: order upsert", ("order_record (journal/services.py",)),
    ("journal: execution", ("execution_record (journal/", "commission_record (journal/")),
    ("journal: change token", ("journal_changed (journal/",)),
    ("db: commit", ("commit (django/db/backends",)),
    ("db: connection health check (SELECT 1)", ("close_if_health_check_failed (", "is_usable (")),
    ("answer: orders + replies pipeline", ("_answer (trading/gateway/", "_pipeline (trading/")),
    ("mirror: publish", ("publish (trading/gateway/publisher.py",)),
    ("order: intent HSET", ("add (trading/gateway/intents.py",)),
    ("order: place and wait", ("place (trading/gateway/orders.py",)),
    ("ib_async: decode and dispatch", ("_onSocketHasData (ib_async/", "dataReceived (ib_async/")),
    ("session: working orders", ("(trading/gateway/session.py",)),
]


def classify(stack: list[str], steps: list[tuple[str, tuple[str, ...]]]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, needles in steps:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def summarise(raw: Path, orders: int) -> dict[str, Any]:
    """Milliseconds per order by step, from py-spy's collapsed stacks."""
    web: collections.Counter[str] = collections.Counter()
    worker: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in raw.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        stack = frames.split(";")
        n = int(count)
        if any(REQUEST_ROOT in f for f in stack):
            web[classify(stack, WEB_STEPS)] += n
            continue
        for thread, root in WORKER_THREADS:
            if any(root in f for f in stack):
                worker[thread][classify(stack, WORKER_STEPS)] += n
                break

    def per_order(counter: collections.Counter[str]) -> dict[str, float]:
        return {
            k: round(v / RATE * 1000 / orders, 3)
            for k, v in sorted(counter.items(), key=lambda kv: -kv[1])
        }

    return {
        "web_ms_per_order": per_order(web),
        "web_total_ms": round(sum(web.values()) / RATE * 1000 / orders, 3),
        "worker_ms_per_order": {thread: per_order(c) for thread, c in worker.items()},
    }


# --trace: the web side in this process (Django's WSGI handler, no socket), each
# step timed by a wrapper: exact milliseconds, no sampling.  (target, attribute)
TRACED: list[tuple[str, str, str]] = [
    ("whole request (WSGI handler)", "django.core.handlers.wsgi", "WSGIHandler.__call__"),
    ("DRF: authentication, permissions (demo guard)", "rest_framework.views", "APIView.initial"),
    ("validation", "rest_framework.serializers", "BaseSerializer.is_valid"),
    ("view (order or no-op)", "rest_framework.views", "APIView.dispatch"),
    ("response serializer", "trading.serializers", "OutSerializer.to_representation"),
    ("idempotency", "trading.idempotency", "run_once"),
    ("service (everything below)", "trading.services", "order_place"),
    ("audit: request row (+ kill switch since issue 18)", "trading.audit", "request_opened"),
    ("kill switch (a SELECT before issue 18)", "trading.risk", "halt_check"),
    ("limits", "trading.risk", "limits_check"),
    ("heartbeat read (before issue 18)", "trading.mirror", "require_ready"),
    ("heartbeat check (read with the send since issue 18)", "trading.mirror", "check_ready"),
    ("bus: push and wait", "trading.bus", "call"),
    ("audit: outcome handed over", "trading.audit", "outcome_recorded"),
    ("db: health check", "django.db.backends.base.base", "BaseDatabaseWrapper.is_usable"),
    ("db: health check", "django.db.backends.postgresql.base", "DatabaseWrapper.is_usable"),
    ("db: connect", "django.db.backends.base.base", "BaseDatabaseWrapper.connect"),
    ("rendering", "rest_framework.response", "Response.rendered_content"),
]


def _wrap(timings: dict[str, list[float]]) -> None:
    import importlib
    import time as clock

    def timed(label: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = clock.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings.setdefault(label, []).append((clock.perf_counter() - t0) * 1000)

        return wrapper

    for label, module_name, attribute in TRACED:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner_name, _, name = attribute.rpartition(".")
        owner = getattr(module, owner_name) if owner_name else module
        original = owner.__dict__.get(name)
        if original is None:
            continue
        if isinstance(original, property):
            setattr(owner, name, property(timed(label, original.fget)))
        else:
            setattr(owner, name, timed(label, original))


def trace(stack: Stack, orders: int, rate: float) -> dict[str, Any]:
    """The web side in-process against the running worker, each step timed."""
    import django

    os.environ.update(
        {
            k: v
            for k, v in stack.env.items()
            if k not in os.environ
            or k
            in (
                "DATABASE_URL",
                "GATEWAY_QUEUE",
                "CACHE_KEY_PREFIX",
                "IB_PORT",
                "IBKR_LOCAL_DEMO",
                "ORDER_ACK_TIMEOUT",
                "GATEWAY_STALE_AFTER",
                "BENCH_NOOP_ENDPOINT",
            )
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibkr_project.settings")
    django.setup()
    from django.db import close_old_connections
    from django.test import Client

    timings: dict[str, list[float]] = {}
    client = Client(SERVER_NAME="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    for _ in range(5):
        client.post("/order/limit", ORDER_BODY, content_type="application/json")
    _wrap(timings)
    for i in range(orders * 2):
        path = "/order/limit" if i % 2 == 0 else "/bench/noop"
        t0 = time.perf_counter()
        # What Django's handler does at a request's start (the test client skips it).
        close_old_connections()
        response = client.post(path, ORDER_BODY, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.content[:200]!r}")
        timings.setdefault(f"whole request {path}", []).append((time.perf_counter() - t0) * 1000)
        if i % 60 == 59:
            stack.sim.call("reset")
        time.sleep(max(0.0, 1 / rate - (time.perf_counter() - t0)))
    out = {}
    for label, values in timings.items():
        values.sort()
        out[label] = {
            "calls_per_order": round(len(values) / orders, 2),
            "p50_ms": round(values[len(values) // 2], 3),
            "ms_per_order": round(sum(values) / orders, 3),
        }
    return out


ENDPOINTS = {"root": "/order/limit", "v2": "/v2/orders"}


def order_body(path: str) -> dict[str, Any]:
    """The bench's order for ``path`` (/v2's with a client_order_id of its own)."""
    if path == ENDPOINTS["v2"]:
        return {**V2_ORDER_BODY, "client_order_id": f"profile-{uuid.uuid4().hex}"}
    return ORDER_BODY


def spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return subprocess.Popen(
        [
            *(binary, "record", "--pid", str(pid), "--subprocesses", "--idle", "--nonblocking"),
            *("--rate", str(RATE), "--format", "raw", "--output", str(output)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_spies(spies: list[tuple[str, subprocess.Popen[bytes], Path]]) -> None:
    for _, proc, _ in spies:
        proc.send_signal(signal.SIGINT)
    for _, proc, _ in spies:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def post(stack: Stack, path: str, count: int, rate: float) -> dict[str, Any]:
    """``count`` POSTs of the bench's order body to ``path``, one client."""
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as http:

        async def one() -> None:
            response = await http.post(path, json=order_body(path))
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")

        sample = await measure(path, one, count=count, warmup=5, interval_s=1 / rate)
    return sample.summary()


async def side_by_side(stack: Stack, path: str, count: int, rate: float) -> dict[str, Any]:
    """The order, floor A and floor B in alternating slices of ``count`` / 5
    (a drift of the machine falls on all three), one client each."""
    floor_a = DirectClient("127.0.0.1", stack.sim_port)
    await floor_a.start()
    samples = {name: Sample(name=name, concurrency=1) for name in ("api", "floor_a", "floor_b")}
    try:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as http:
            api_path = path

            def poster(path: str) -> Any:
                async def one() -> None:
                    response = await http.post(path, json=order_body(path))
                    if response.status_code != 200:
                        raise RuntimeError(f"{response.status_code} {response.text[:200]}")

                return one

            operations = {
                "api": poster(api_path),
                "floor_a": floor_a.place,
                "floor_b": poster("/bench/noop"),
            }
            for operation in operations.values():
                for _ in range(5):
                    await operation()
            for _ in range(5):
                for name, operation in operations.items():
                    part = await measure(name, operation, count=count // 5, interval_s=1 / rate)
                    samples[name].extend(part)
                    if name != "floor_b":  # as the bench does: a quiet book for the next slice
                        await asyncio.to_thread(stack.sim.call, "reset")
                        await asyncio.sleep(0.3)
    finally:
        floor_a.stop()
    out = {name: sample.summary() for name, sample in samples.items()}
    a, b = out["floor_a"]["p50_ms"], out["floor_b"]["p50_ms"]
    out["ratio"] = round(out["api"]["p50_ms"] / (a + b), 3) if a and b else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database", choices=sorted(DATABASES), default="postgres")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0, help="orders a second (1 client)")
    parser.add_argument("--no-spy", action="store_true", help="time only, no profiler")
    parser.add_argument(
        "--endpoint", choices=sorted(ENDPOINTS), default="root", help="the guide's or /v2's order"
    )
    parser.add_argument(
        "--trace", action="store_true", help="also the web side in-process, each step timed"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    # Floor A's connection sees every reset cancel its orders (logged at ERROR).
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    token = uuid.uuid4().hex[:8]
    url, sqlite_path = database_url(args.database, token)
    stack = Stack(url, BENCH_NOOP_ENDPOINT="1")
    OUT.mkdir(parents=True, exist_ok=True)
    label = f"{args.database}-{args.endpoint}-{time.strftime('%Y%m%d-%H%M%S')}"
    spies: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    result: dict[str, Any] = {"database": args.database, "orders": args.orders, "run": stack.token}
    try:
        migrate(stack.env)
        stack.start()
        # Unprofiled first: the order, floor A and floor B side by side.
        path = ENDPOINTS[args.endpoint]
        result["endpoint"] = path
        result.update(asyncio.run(side_by_side(stack, path, args.orders, args.rate)))
        if not args.no_spy:
            stack.sim.call("reset")
            for name in ("web", "worker"):
                raw = OUT / f"{label}-{name}.txt"
                spies.append((name, spy(stack.procs[name].pid, raw), raw))
            time.sleep(1.0)  # py-spy attached
            try:
                result["api_profiled"] = asyncio.run(post(stack, path, args.orders, args.rate))
            finally:
                stop_spies(spies)
        if args.trace:
            stack.sim.call("reset")
            result["trace"] = trace(stack, args.orders, args.rate)
    finally:
        stack.stop()
        drop(url, sqlite_path)
    for name, _, raw in spies:
        if raw.exists():
            # Warm-up orders included: 5 more than measured.
            result[f"{name}_profile"] = summarise(raw, args.orders + 5)
    out = OUT / f"{label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"[profile] {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
