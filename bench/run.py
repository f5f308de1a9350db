"""`make bench`: the production-like stack on the simulator, measured, on
SQLite and on PostgreSQL.

``python -m bench`` measures each database in a process of its own, one after
the other (``--database`` runs one alone).  Each starts the simulator, the
gateway worker (a real Celery worker on the real Redis) and gunicorn with
``tests.stack.Stack`` on a fresh database of its own (bench.databases: a
SQLite file under var/bench/, a PostgreSQL database created for the run and
dropped after it), and measures:

1. the order round trip (POST /order/limit until the permId; POST /v2/orders
   at 1 client too) with 1 and 8 clients, beside floor A (ib_async placing
   directly), floor B (the no-op DRF endpoint) and the anchor (a connection
   per order), without and with a 30 ms reply delay in the simulator (a 30 ms round trip to IB);
2. sustained order throughput at concurrency 8, and the simulator's pacing errors;
3. reads (GET /account, /positions, /orders, /executions) at concurrency 1 and 16;
4. the journal: GET /executions?symbol=AAPL&limit=100 and GET
   /v2/orders?status=closed&limit=500 with 10^3, 10^5 and 10^6 stored
   executions and orders, and a sync of 10^4 new executions.

Results go to bench/results/latest.json (each database's figures under
``databases``, and one ``targets`` list naming the database of each), the
chart to docs/benchmarks.png and the figures into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench import databases, journal_load, report
from bench.databases import DATABASES, VAR_BENCH
from bench.driver import Sample, measure
from bench.floors import RESTING_BUY_LIMIT, DirectClient, anchor_place
from tests.stack import LOGS, ROOT, Stack

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
SMOKE_OUTPUT = VAR_BENCH / "smoke.json"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
ORDER_BODY = {
    "symbol": "AAPL",
    "action": "BUY",
    "quantity": 1,
    "limit_price": RESTING_BUY_LIMIT,
    "order_ref": "bench-api",
}
READ_PATHS = {
    "account": "/account",
    "positions": "/positions",
    "orders": "/orders",
    "executions": "/executions",
}
# (httpx replaces a URL's query with ``params``: each probe's query is whole here.)
JOURNAL_PROBE = ("/executions", {"symbol": "AAPL", "limit": "100"})
# /v2's closed orders: a page of 500 from the journal's orders.
CLOSED_ORDERS_PROBE = ("/v2/orders", {"status": "closed", "limit": "500"})
V2_ORDER_BODY = {
    "symbol": "AAPL",
    "qty": "1",
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "limit_price": str(RESTING_BUY_LIMIT),
}


@dataclass(frozen=True)
class Plan:
    """How much of everything one run does."""

    smoke: bool
    orders_c1: int  # API and floor A, 1 client (each delay)
    orders_c8: int  # API and floor A, 8 clients (each delay)
    noop_c1: int
    noop_c8: int
    anchor_c1: int
    anchor_c8: int
    # One client places at most this many orders a second (every path alike):
    # back to back, floor A would outrun ib_async's own throttle (45 requests/s,
    # under IB's 50 messages/s) and measure the throttle's waits instead.
    c1_orders_per_s: float
    warmup: int
    order_rounds: int  # slices the 1-client order, floor A and floor B alternate in
    delay_ms: float
    sustained_s: float
    sustained_concurrency: int
    read_s: float  # per endpoint and concurrency
    read_rounds: int  # slices the reads alternate in
    read_resting_orders: int
    journal_sizes: tuple[int, ...]
    journal_probes: int
    sync_executions: int
    budget_s: float  # the whole run, stack start to results
    settle_timeout_s: float


FULL = Plan(
    smoke=False,
    orders_c1=120,
    orders_c8=160,
    noop_c1=300,
    noop_c8=400,
    anchor_c1=20,
    anchor_c8=16,
    c1_orders_per_s=25.0,
    warmup=5,
    order_rounds=4,
    delay_ms=30.0,
    sustained_s=30.0,
    sustained_concurrency=8,
    read_s=1.5,
    read_rounds=3,
    read_resting_orders=20,
    journal_sizes=(10**3, 10**5, 10**6),
    journal_probes=100,
    sync_executions=10**4,
    budget_s=420.0,
    settle_timeout_s=60.0,
)
SMOKE = Plan(
    smoke=True,
    orders_c1=10,
    orders_c8=16,
    noop_c1=20,
    noop_c8=40,
    anchor_c1=2,
    anchor_c8=8,
    c1_orders_per_s=25.0,
    warmup=2,
    order_rounds=1,
    delay_ms=30.0,
    sustained_s=2.0,
    sustained_concurrency=8,
    read_s=0.3,
    read_rounds=1,
    read_resting_orders=3,
    journal_sizes=(10**3,),
    journal_probes=20,
    sync_executions=100,
    budget_s=55.0,
    settle_timeout_s=15.0,
)


class RequestFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "nproc": nproc,
        "cpu_model": cpu_model or platform.processor() or "unknown",
        "memory_gb": memory_gb,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and the tracked files that differ from it (the
    bench's own files aside)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {}
    modified = sorted(
        line[3:] for line in status if not line[3:].startswith(("bench/", "docs/", "tests/bench/"))
    )
    return {"commit": commit, "modified": modified}


def redact(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


class Bench:
    def __init__(self, plan: Plan, stack: Stack, db: journal_load.DatabaseThread) -> None:
        self.plan = plan
        self.stack = stack
        self.db = db
        self.token = stack.token
        self.started = time.monotonic()
        self.deadline = self.started + plan.budget_s
        self.http: httpx.AsyncClient
        self.floor_a: DirectClient
        self.samples: dict[str, Sample] = {}
        # Wall-clock window of every measurement, to find its tasks in the worker log.
        self.windows: dict[str, tuple[float, float]] = {}
        self.settles: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.journal_base = (0, 0)
        self.filler = journal_load.Filler(self.token)
        self.orders_seeded = 0  # the filler's orders already counted in journal_base
        self.web_latency: dict[str, Any] = {}

    # --- plumbing -----------------------------------------------------------------

    async def sim(self, cmd: str, **args: Any) -> Any:
        return await asyncio.to_thread(self.stack.sim.call, cmd, **args)

    async def get_json(self, path: str) -> Any:
        response = await self.http.get(path)
        if response.status_code != 200:
            raise RequestFailed(f"GET {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    async def api_order(self) -> None:
        response = await self.http.post("/order/limit", json=ORDER_BODY)
        if response.status_code != 200:
            raise RequestFailed(f"{response.status_code} {response.text[:200]}")
        if not response.json().get("permId"):
            raise RequestFailed(f"no permId in {response.text[:200]}")

    async def v2_order(self) -> None:
        """Alpaca's POST /v2/orders (each with a client_order_id of its own)."""
        body = {**V2_ORDER_BODY, "client_order_id": f"bench-{uuid.uuid4().hex}"}
        response = await self.http.post("/v2/orders", json=body)
        if response.status_code != 200:
            raise RequestFailed(f"{response.status_code} {response.text[:200]}")
        if not response.json().get("id"):
            raise RequestFailed(f"no id in {response.text[:200]}")

    async def noop_post(self) -> None:
        response = await self.http.post("/bench/noop", json=ORDER_BODY)
        if response.status_code != 200:
            raise RequestFailed(f"{response.status_code} {response.text[:200]}")

    async def queue_ping(self) -> None:
        """A task round trip through Redis and the worker, no gateway involved."""
        from celery import current_app

        def ping() -> None:
            result = current_app.send_task("trading.gateway_ping")
            try:
                result.get(timeout=10)
            finally:
                result.forget()

        await asyncio.to_thread(ping)

    async def anchor(self) -> None:
        await anchor_place("127.0.0.1", self.stack.sim_port)

    def reader(self, path: str) -> Any:
        async def read() -> None:
            response = await self.http.get(path)
            if response.status_code != 200:
                raise RequestFailed(f"{response.status_code} {response.text[:200]}")

        return read

    def journal_reader(self) -> Any:
        """The journal probe, each request with an ``until`` of its own (far in
        the future: the same rows): a page the web has not cached, so the
        database answers every time."""
        counter = iter(range(10**9))
        until = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

        async def read() -> None:
            stamp = (until + dt.timedelta(seconds=next(counter))).strftime("%Y-%m-%dT%H:%M:%SZ")
            path, query = JOURNAL_PROBE
            response = await self.http.get(path, params={**query, "until": stamp})
            if response.status_code != 200 or len(response.json()["executions"]) == 0:
                raise RequestFailed(f"{response.status_code} {response.text[:200]}")

        return read

    def closed_orders_reader(self) -> Any:
        """/v2's closed orders, each request with an ``until`` of its own (the
        same 500 rows), so no cache could answer for the database."""
        counter = iter(range(10**9))
        until = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

        async def read() -> None:
            stamp = (until + dt.timedelta(seconds=next(counter))).strftime("%Y-%m-%dT%H:%M:%SZ")
            path, query = CLOSED_ORDERS_PROBE
            response = await self.http.get(path, params={**query, "until": stamp})
            if response.status_code != 200 or len(response.json()) < 500:
                raise RequestFailed(f"{response.status_code} {response.text[:200]}")

        return read

    async def run(self, key: str, operation: Any, **kwargs: Any) -> dict[str, Any]:
        before = await self.sim("counters")
        started = time.time()
        sample = await measure(key, operation, **kwargs)
        self.windows[key] = (started, time.time())
        after = await self.sim("counters")
        self.samples[key] = sample
        summary = self.report(key, sample)
        # IB's pacing violations (code 100: the message is dropped) while it ran.
        summary["pacing_errors"] = after["pacing_errors"] - before["pacing_errors"]
        # Orders of the simulator's session before it ran: the anchor's connect
        # downloads every completed one (reqCompletedOrders), so it grows with them.
        summary["session_orders_before"] = before["orders_total"]
        if summary["pacing_errors"]:
            say(f"  the simulator reported {summary['pacing_errors']} pacing errors")
        return summary

    async def run_rounds(
        self,
        prefix: str,
        parts: dict[str, tuple[Any, int, bool]],
        *,
        rounds: int,
        warmup: int = 0,
        **common: Any,
    ) -> dict[str, dict[str, Any]]:
        """Measure operations ``{name: (operation, count, places orders)}`` in
        ``rounds`` alternating slices; after every slice of orders the
        simulator is reset and the stack settles, as after ``run``."""
        before = await self.sim("counters")
        started = time.time()
        merged = {name: Sample(name=f"{prefix}/{name}", concurrency=1) for name in parts}
        for operation, _, _ in parts.values():
            for _ in range(warmup):
                await operation()
        for index in range(rounds):
            for name, (operation, count, places) in parts.items():
                n = count // rounds + (1 if index < count % rounds else 0)
                merged[name].extend(await measure(name, operation, count=n, **common))
                if places:
                    await self.reset_and_settle(f"{prefix}/{name}")
        after = await self.sim("counters")
        out = {}
        for name, sample in merged.items():
            key = f"{prefix}/{name}"
            self.samples[key] = sample
            self.windows[key] = (started, time.time())
            summary = self.report(key, sample)
            summary["pacing_errors"] = after["pacing_errors"] - before["pacing_errors"]
            summary["session_orders_before"] = before["orders_total"]
            summary["rounds"] = rounds
            out[name] = summary
        return out

    async def interleaved(
        self, operations: dict[str, Any], *, seconds: float, concurrency: int, rounds: int
    ) -> dict[str, dict[str, Any]]:
        """Measure several operations for ``seconds`` each, in ``rounds``
        alternating slices, so a drift of the machine (a background write, a
        noisy neighbour) spreads over all of them instead of one."""
        merged = {key: Sample(name=key, concurrency=concurrency) for key in operations}
        for operation in operations.values():
            for _ in range(self.plan.warmup):
                await operation()
        for _ in range(rounds):
            for key, operation in operations.items():
                part = await measure(
                    key, operation, duration_s=seconds / rounds, concurrency=concurrency
                )
                merged[key].extend(part)
        self.samples.update(merged)
        return {key: self.report(key, sample) for key, sample in merged.items()}

    def report(self, key: str, sample: Sample) -> dict[str, Any]:
        summary = sample.summary()
        say(
            f"{key:<34} n={summary['requests']:<5} err={summary['errors']:<3} "
            f"p50={_ms(summary['p50_ms'])} p95={_ms(summary['p95_ms'])} "
            f"p99={_ms(summary['p99_ms'])} rate={summary['per_second'] or 0:.1f}/s"
        )
        if sample.errors:
            say(f"  errors, e.g.: {sample.error_examples[:2]}")
        return summary

    async def reset_and_settle(self, label: str) -> dict[str, Any]:
        """Cancel every working order (the simulator's `reset`), then wait until
        the mirror shows none and the worker's journal writer has stored every
        order and its cancellation: the next measurement starts quiet."""
        t0 = time.monotonic()
        await self.sim("reset")
        counters = await self.sim("counters")
        expected = self.journal_base[0] + int(counters["orders_total"])
        settled = False
        total = open_ = pending = -1
        while time.monotonic() - t0 < self.plan.settle_timeout_s:
            try:
                pending = len((await self.get_json("/orders"))["orders"])
            except (RequestFailed, httpx.HTTPError):
                pending = -1
            total, open_ = await self.db.call(journal_load.journal_orders)
            if pending == 0 and total >= expected and open_ <= self.journal_base[1]:
                settled = True
                break
            await asyncio.sleep(0.1)
        entry = {
            "after": label,
            "seconds": round(time.monotonic() - t0, 2),
            "settled": settled,
            "orders_in_simulator": int(counters["orders_total"]),
            "journal_orders": total - self.journal_base[0],
            "journal_open": open_ - self.journal_base[1],
            "mirror_pending": pending,
        }
        self.settles.append(entry)
        if not settled:
            say(f"settle after {label} timed out: {entry}")
            self.notes.append(
                f"the stack did not settle within {self.plan.settle_timeout_s}s "
                f"after {label}: {entry}"
            )
        return entry

    # --- 1. order round trip ------------------------------------------------------------

    async def orders(self, delay_ms: float) -> dict[str, Any]:
        plan = self.plan
        label = "delay" if delay_ms else "no_delay"
        await self.sim("set_delay", ms=delay_ms)
        out: dict[str, Any] = {"delay_ms": delay_ms}
        try:
            for conc, n_orders, n_noop, n_anchor in (
                (1, plan.orders_c1, plan.noop_c1, plan.anchor_c1),
                (8, plan.orders_c8, plan.noop_c8, plan.anchor_c8),
            ):
                common = {
                    "concurrency": conc,
                    "warmup": plan.warmup if conc == 1 else 0,
                    "interval_s": 1 / plan.c1_orders_per_s if conc == 1 else 0.0,
                }
                prefix = f"orders/{label}/c{conc}"
                level: dict[str, Any] = {}
                if conc == 1:
                    # The ratios' three terms in alternating slices: a drift of
                    # the machine falls on the order and its floors alike.
                    parts = {
                        "api": (self.api_order, n_orders, True),
                        "floor_a": (self.floor_a.place, n_orders, True),
                        "floor_b": (self.noop_post, n_noop, False),
                    }
                    if not delay_ms:
                        parts["api_v2"] = (self.v2_order, n_orders, True)
                    level.update(
                        await self.run_rounds(prefix, parts, rounds=plan.order_rounds, **common)
                    )
                else:
                    level["api"] = await self.run(
                        f"{prefix}/api", self.api_order, count=n_orders, **common
                    )
                    await self.reset_and_settle(f"{prefix}/api")
                    level["floor_a"] = await self.run(
                        f"{prefix}/floor_a", self.floor_a.place, count=n_orders, **common
                    )
                    await self.reset_and_settle(f"{prefix}/floor_a")
                    level["floor_b"] = await self.run(
                        f"{prefix}/floor_b", self.noop_post, count=n_noop, **common
                    )
                level["anchor"] = await self.run(
                    f"{prefix}/anchor", self.anchor, count=n_anchor, **{**common, "warmup": 1}
                )
                await self.reset_and_settle(f"{prefix}/anchor")
                if conc == 1 and not delay_ms:
                    # Where the API's time goes: a task round trip through
                    # Redis and the worker that does not touch the gateway.
                    level["queue_ping"] = await self.run(
                        f"{prefix}/queue_ping", self.queue_ping, count=n_noop, **common
                    )
                out[f"c{conc}"] = level
        finally:
            await self.sim("set_delay", ms=0)
        return out

    # --- 2. sustained throughput ----------------------------------------------------------

    async def sustained(self) -> dict[str, Any]:
        plan = self.plan
        before = await self.sim("counters")
        summary = await self.run(
            "sustained/api",
            self.api_order,
            duration_s=plan.sustained_s,
            concurrency=plan.sustained_concurrency,
        )
        after = await self.sim("counters")
        sample = self.samples["sustained/api"]
        width = 5.0 if plan.sustained_s >= 10 else max(plan.sustained_s / 2, 0.5)
        settle = await self.reset_and_settle("sustained")
        ref = ORDER_BODY["order_ref"]
        placed = after["orders_by_ref"].get(ref, 0) - before["orders_by_ref"].get(ref, 0)
        return {
            **summary,
            "duration_s": plan.sustained_s,
            "orders_per_s": summary["per_second"],
            "acknowledged": len(sample.latencies_ms),
            "orders_reaching_simulator": placed,
            "pacing_errors": after["pacing_errors"] - before["pacing_errors"],
            # The worker's (clientId 0) busiest second of the session so far.
            "worker_peak_messages_per_second": after["peak_messages_per_second"].get("0"),
            # What the worker spent its 43 messages a second on (IB message ids:
            # 3 placeOrder, 49 reqCurrentTime ...): the orders' ceiling.
            "worker_messages_by_id": _difference(
                after.get("messages_by_id", {}).get("0", {}),
                before.get("messages_by_id", {}).get("0", {}),
            ),
            "window_s": width,
            "orders_per_s_by_window": sample.windows(width),
            "settle_after_s": settle["seconds"],
        }

    # --- 3. reads -------------------------------------------------------------------------------

    async def reads(self) -> dict[str, Any]:
        """Reads with something to read: four positions from real fills and
        resting orders in the mirror, the journal at its first size."""
        plan = self.plan
        fills = ("MSFT", "SPY", "NVDA", "TSLA")
        for symbol in fills:
            response = await self.http.post(
                "/order/market",
                json={"symbol": symbol, "action": "BUY", "quantity": 10, "order_ref": "bench-fill"},
            )
            if response.status_code != 200:
                raise RequestFailed(f"market order: {response.status_code} {response.text[:200]}")
        for _ in range(plan.read_resting_orders):
            await self.api_order()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            positions = (await self.get_json("/positions"))["positions"]
            orders = (await self.get_json("/orders"))["orders"]
            if len(positions) >= len(fills) and len(orders) >= plan.read_resting_orders:
                break
            await asyncio.sleep(0.1)
        state = {
            "positions": len((await self.get_json("/positions"))["positions"]),
            "orders": len((await self.get_json("/orders"))["orders"]),
            "executions": len((await self.get_json("/executions"))["executions"]),
            "journal_executions": await self.db.call(journal_load.execution_count),
        }
        out: dict[str, Any] = {"state": state}
        paths = {**READ_PATHS, "floor_b": "/bench/noop"}
        for conc in (1, 16):
            operations = {
                f"reads/c{conc}/{name}": self.reader(path) for name, path in paths.items()
            }
            measured = await self.interleaved(
                operations, seconds=plan.read_s, concurrency=conc, rounds=plan.read_rounds
            )
            out[f"c{conc}"] = {name: measured[f"reads/c{conc}/{name}"] for name in paths}
        await self.reset_and_settle("reads")
        return out

    # --- 4. the journal ---------------------------------------------------------------------------

    async def journal_point(self, size: int, reserve_s: float | None) -> dict[str, Any]:
        """Fill the journal to ``size`` executions, then probe.  With
        ``reserve_s``, only as far as the time budget allows while keeping
        that many seconds for what comes after."""
        deadline = float("inf") if reserve_s is None else self.deadline - reserve_s
        t0 = time.monotonic()
        fill = await self.db.call(self.filler.fill, size, deadline)
        fill["fill_s"] = round(time.monotonic() - t0, 2)
        say(
            f"journal: {fill['stored']} executions stored (target {size}) in {fill['fill_s']}s"
            + (f"; {fill['stopped']}" if fill["stopped"] else "")
        )
        if not fill["reached"]:
            self.notes.append(
                f"journal size {size}: only {fill['stored']} executions fit the time budget "
                f"({fill['stopped']})"
            )
        # The settle check counts the journal's orders: these are not the worker's.
        added = self.filler.orders_added - self.orders_seeded
        self.orders_seeded = self.filler.orders_added
        self.journal_base = (self.journal_base[0] + added, self.journal_base[1])
        path, query = JOURNAL_PROBE
        rows = (await self.http.get(path, params=query)).json()["executions"]
        probe = await self.run(
            f"journal/{size}",
            self.journal_reader(),
            count=self.plan.journal_probes,
            concurrency=1,
            warmup=self.plan.warmup,
        )
        closed = await self.run(
            f"journal/{size}/v2_closed_orders",
            self.closed_orders_reader(),
            count=self.plan.journal_probes,
            concurrency=1,
            warmup=self.plan.warmup,
        )
        return {
            "size": size,
            **fill,
            "rows_returned": len(rows),
            "probe": probe,
            "closed_orders_probe": closed,
        }

    async def sync(self) -> dict[str, Any]:
        before = await self.db.call(journal_load.execution_count)
        result = await self.db.call(
            journal_load.sync_executions, self.plan.sync_executions, self.token
        )
        result.pop("sync_run_id")
        result["journal_size_before"] = before
        say(
            f"sync of {result['executions']} new executions: {result['seconds']}s "
            f"({result['ms_per_execution']} ms each, ok={result['ok']})"
        )
        return result

    # --- the whole run --------------------------------------------------------------------------

    async def main(self) -> dict[str, Any]:
        plan = self.plan
        self.journal_base = await self.db.call(journal_load.journal_orders)
        self.floor_a = DirectClient("127.0.0.1", self.stack.sim_port)
        await self.floor_a.start()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        results: dict[str, Any] = {}
        try:
            async with httpx.AsyncClient(
                base_url=self.stack.base_url, timeout=30.0, limits=limits
            ) as self.http:
                await self.reset_and_settle("start")
                say("1. order round trip, no delay")
                results["orders"] = {"no_delay": await self.orders(0.0)}
                say(f"1. order round trip, {plan.delay_ms:g} ms reply delay")
                results["orders"]["delay"] = await self.orders(plan.delay_ms)
                say(f"2. sustained orders, {plan.sustained_s:g}s")
                results["sustained"] = await self.sustained()
                say("4. journal (first size), then 3. reads")
                sizes = list(plan.journal_sizes)
                points = [await self.journal_point(sizes[0], reserve_s=None)]
                results["reads"] = await self.reads()
                say(f"4. journal: sync of {plan.sync_executions} new executions, more sizes")
                results["journal_sync"] = await self.sync()
                for size in sizes[1:-1]:
                    points.append(await self.journal_point(size, reserve_s=None))
                for size in sizes[1:][-1:]:
                    points.append(await self.journal_point(size, reserve_s=10))
                results["journal"] = points
        finally:
            self.floor_a.stop()
        results["settle"] = self.settles
        self.web_latency = await self.db.call(journal_load.request_latencies, self.windows)
        return results


TASK_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/\w+\] "
    r"Task (trading\.\w+)\[[^\]]+\] succeeded in ([\d.]+)s"
)


def worker_task_times(
    log: Path, windows: dict[str, tuple[float, float]]
) -> dict[str, dict[str, Any]]:
    """The worker's own time per Celery task (its "succeeded in", which
    includes storing the result), for the queue round trip measurement
    (orders travel on the order bus, not as tasks)."""
    entries: list[tuple[float, str, float]] = []
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {}
    for line in text.splitlines():
        match = TASK_LINE.match(line)
        if match:
            when = dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            entries.append((when, match[2], float(match[3]) * 1000))
    out: dict[str, dict[str, Any]] = {}
    for key, (start, end) in windows.items():
        if not key.endswith("/queue_ping"):
            continue
        task = "trading.gateway_ping"
        times = sorted(ms for when, name, ms in entries if name == task and start <= when <= end)
        if not times:
            continue
        out[key] = {
            "task": task,
            "tasks": len(times),
            "p50_ms": round(times[len(times) // 2], 3),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3),
        }
    return out


def _difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Counters' growth between two readings, those that grew only."""
    grown = {key: n - before.get(key, 0) for key, n in after.items()}
    return {key: n for key, n in grown.items() if n}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:7.2f}ms"


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="seconds, not minutes: tiny counts, 10^3 rows only"
    )
    parser.add_argument(
        "--database",
        choices=DATABASES,
        help="measure this database alone (default: each of them, one after the other)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"results JSON (default {DEFAULT_OUTPUT.relative_to(ROOT)}; "
        f"--smoke: {SMOKE_OUTPUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--samples", type=Path, help="with --database: also write every latency to this file"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="do not write docs/benchmarks.md and the chart"
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the run's databases (SQLite file, PostgreSQL)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    redis_url = os.environ["REDIS_URL"]
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        say(f"no Redis answers at {redact(redis_url)} ({exc}); start one or set REDIS_URL")
        return 2
    if args.database:
        return run_one(args, args.database)
    return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    """Every database, each in a process (and a stack, and a database) of its
    own, one after the other; one results file with the targets of each."""
    plan = SMOKE if args.smoke else FULL
    output: Path = args.output or (SMOKE_OUTPUT if args.smoke else DEFAULT_OUTPUT)
    machine_info = machine()
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    token = uuid.uuid4().hex[:8]
    VAR_BENCH.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Any] = {}
    samples: dict[str, dict[str, Sample]] = {}
    failed = []
    for name in DATABASES:
        out, lat = VAR_BENCH / f"{token}-{name}.json", VAR_BENCH / f"{token}-{name}-samples.json"
        say(f"=== {name} ===")
        command = [sys.executable, "-m", "bench", "--database", name, "--output", str(out)]
        command += ["--samples", str(lat), "--no-docs"]
        command += ["--smoke"] * args.smoke + ["--keep-db"] * args.keep_db
        done = subprocess.run(command, cwd=ROOT, check=False)
        if done.returncode != 0 or not out.exists():
            failed.append(name)
            say(f"the {name} run failed (exit {done.returncode}); its targets count as not met")
            runs[name] = {"database": name, "failed": True, "targets": []}
            continue
        runs[name] = json.loads(out.read_text())
        samples[name] = load_samples(lat)
        out.unlink()
        lat.unlink()
    data: dict[str, Any] = {
        "schema": 2,
        "mode": "smoke" if plan.smoke else "full",
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "machine": machine_info,
        "code": code_version(),
        "databases": runs,
        "targets": report.all_targets(runs),
    }
    write_json(output, data)
    say(f"results: {output}  ({data['duration_s']}s)")
    report.print_targets(data["targets"])
    if not plan.smoke and not args.no_docs:
        report.write_docs(data, samples)
    return 1 if failed else 0


def save_samples(path: Path, samples: dict[str, Sample]) -> None:
    write_json(path, {key: asdict(sample) for key, sample in samples.items()})


def load_samples(path: Path) -> dict[str, Sample]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {key: Sample(**value) for key, value in raw.items()}


def run_one(args: argparse.Namespace, name: str) -> int:
    """One database: a fresh one, the stack on it, every measurement."""
    plan = SMOKE if args.smoke else FULL
    output: Path = args.output or (SMOKE_OUTPUT if args.smoke else DEFAULT_OUTPUT)
    redis_url = os.environ["REDIS_URL"]
    machine_info = machine()  # before the stack adds its own load
    token = uuid.uuid4().hex[:8]
    db_url, sqlite_path = databases.database_url(name, token)
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    stack = Stack(db_url, BENCH_NOOP_ENDPOINT="1")
    say(
        f"{'smoke' if plan.smoke else 'full'} run {stack.token}: database {redact(db_url)}, "
        f"Redis {redact(redis_url)}, logs {LOGS.relative_to(ROOT)}/{stack.token}-*.log"
    )
    db = journal_load.DatabaseThread()
    bench: Bench | None = None
    results: dict[str, Any] = {}
    try:
        migrate(stack.env)
        shared = {k: stack.env[k] for k in ("REDIS_URL", "GATEWAY_QUEUE", "CACHE_KEY_PREFIX")}
        database = db.pool.submit(journal_load.setup, db_url, shared).result()
        stack.start()
        say(
            f"stack up in {time.monotonic() - t0:.1f}s: web {stack.base_url}, "
            f"simulator {stack.sim_port}"
        )
        bench = Bench(plan, stack, db)
        bench.started = t0
        bench.deadline = t0 + plan.budget_s
        results = asyncio.run(bench.main())
    finally:
        stack.stop()
        db.close()
        if not args.keep_db:
            databases.drop(db_url, sqlite_path)
    assert bench is not None
    data: dict[str, Any] = {
        "schema": 1,
        "database": name,
        "mode": "smoke" if plan.smoke else "full",
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "machine": machine_info,
        "code": code_version(),
        "stack": {
            "database": database,
            "redis": redact(redis_url),
            "web": "gunicorn gthread, 1 worker x 8 threads (tests.stack.Stack)",
            "worker": "celery -P threads -c 8, one ib_async connection (clientId 0)",
            "simulator": "ibsim --no-walk",
        },
        "plan": asdict(plan),
        **results,
        "diagnostics": {
            # The web's time from queueing the request to its outcome (audit trail).
            "web_wait_for_worker": bench.web_latency,
            # The worker's time per task (Celery's "succeeded in").
            "worker_task_time": worker_task_times(
                LOGS / f"{stack.token}-worker.log", bench.windows
            ),
        },
        "notes": bench.notes,
    }
    data["targets"] = report.targets(data)
    write_json(output, data)
    if args.samples:
        save_samples(args.samples, bench.samples)
    say(f"results: {output}  ({data['duration_s']}s)")
    report.print_targets(data["targets"])
    return 0
