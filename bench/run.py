"""`make bench`: the production-like stack on the simulator, measured.

One run starts the simulator, the gateway worker (a real Celery worker on the
real Redis) and gunicorn with ``tests.stack.Stack``, migrates a database of its
own (a fresh SQLite file under var/bench/, or the PostgreSQL at DATABASE_URL),
and measures:

1. the order round trip (POST /order/limit until the permId) with 1 and 8
   clients, beside floor A (ib_async placing directly), floor B (the no-op
   DRF endpoint) and the anchor (a connection per order), without and with a
   30 ms reply delay in the simulator (a 30 ms round trip to IB);
2. sustained order throughput at concurrency 8, and the simulator's pacing errors;
3. reads (GET /account, /positions, /orders, /executions) at concurrency 1 and 16;
4. the journal: GET /executions?symbol=AAPL&limit=100 with 10^3, 10^5 and
   10^6 stored executions, and a sync of 10^4 new executions.

Results go to bench/results/latest.json (with a ``targets`` list), the chart
to docs/benchmarks.png and the figures into docs/benchmarks.md.
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

from bench import journal_load, report
from bench.driver import Sample, measure
from bench.floors import RESTING_BUY_LIMIT, DirectClient, anchor_place
from tests.stack import LOGS, ROOT, Stack

VAR_BENCH = ROOT / "var" / "bench"
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
JOURNAL_PROBE = "/executions?symbol=AAPL&limit=100"


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
    delay_ms=30.0,
    sustained_s=30.0,
    sustained_concurrency=8,
    read_s=1.5,
    read_rounds=3,
    read_resting_orders=20,
    journal_sizes=(10**3, 10**5, 10**6),
    journal_probes=100,
    sync_executions=10**4,
    budget_s=290.0,
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


def choose_database(token: str) -> tuple[str, Path | None]:
    """The PostgreSQL at DATABASE_URL, else a fresh SQLite file of this run."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return url, None
    VAR_BENCH.mkdir(parents=True, exist_ok=True)
    path = VAR_BENCH / f"bench-{token}.sqlite3"
    return f"sqlite:///{path}", path


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
        self.sync_run_ids: list[int] = []
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

    async def noop_post(self) -> None:
        response = await self.http.post("/bench/noop", json=ORDER_BODY)
        if response.status_code != 200:
            raise RequestFailed(f"{response.status_code} {response.text[:200]}")

    async def queue_ping(self) -> None:
        """A task round trip through Redis and the worker, no gateway involved."""
        from trading import tasks

        def ping() -> None:
            result = tasks.gateway_ping.apply_async()
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
            response = await self.http.get(JOURNAL_PROBE, params={"until": stamp})
            if response.status_code != 200 or len(response.json()["executions"]) == 0:
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
        rows = (await self.get_json(JOURNAL_PROBE))["executions"]
        probe = await self.run(
            f"journal/{size}",
            self.journal_reader(),
            count=self.plan.journal_probes,
            concurrency=1,
            warmup=self.plan.warmup,
        )
        return {"size": size, **fill, "rows_returned": len(rows), "probe": probe}

    async def sync(self) -> dict[str, Any]:
        before = await self.db.call(journal_load.execution_count)
        result = await self.db.call(
            journal_load.sync_executions, self.plan.sync_executions, self.token
        )
        self.sync_run_ids.append(result.pop("sync_run_id"))
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
    """The worker's own time per task (Celery's "succeeded in", which includes
    storing the result), by measurement: where the order round trip goes."""
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
        if key.endswith("/api"):
            task = "trading.order_place"
        elif key.endswith("/queue_ping"):
            task = "trading.gateway_ping"
        else:
            continue
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
        "--output",
        type=Path,
        help=f"results JSON (default {DEFAULT_OUTPUT.relative_to(ROOT)}; "
        f"--smoke: {SMOKE_OUTPUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="do not write docs/benchmarks.md and the chart"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the SQLite file of the run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    output: Path = args.output or (SMOKE_OUTPUT if args.smoke else DEFAULT_OUTPUT)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    redis_url = os.environ["REDIS_URL"]
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        say(f"no Redis answers at {redact(redis_url)} ({exc}); start one or set REDIS_URL")
        return 2

    machine_info = machine()  # before the stack adds its own load
    token = uuid.uuid4().hex[:8]
    db_url, sqlite_path = choose_database(token)
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    stack = Stack(db_url, BENCH_NOOP_ENDPOINT="1")
    say(
        f"{'smoke' if plan.smoke else 'full'} run {stack.token}: database {redact(db_url)}, "
        f"Redis {redact(redis_url)}, logs {LOGS.relative_to(ROOT)}/{stack.token}-*.log"
    )
    migrate(stack.env)
    db = journal_load.DatabaseThread()
    shared = {k: stack.env[k] for k in ("REDIS_URL", "GATEWAY_QUEUE", "CACHE_KEY_PREFIX")}
    database = db.pool.submit(journal_load.setup, db_url, shared).result()
    bench: Bench | None = None
    results: dict[str, Any] = {}
    cleanup: dict[str, int] = {}
    try:
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
        if sqlite_path is None and bench is not None:
            cleanup = db.pool.submit(
                journal_load.cleanup, token=stack.token, sync_run_ids=bench.sync_run_ids
            ).result()
        db.close()
        if sqlite_path is not None and not args.keep_db:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    assert bench is not None
    data: dict[str, Any] = {
        "schema": 1,
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
            # The web's time from queueing the task to its outcome (audit trail).
            "web_wait_for_worker": bench.web_latency,
            # The worker's time per task (Celery's "succeeded in").
            "worker_task_time": worker_task_times(
                LOGS / f"{stack.token}-worker.log", bench.windows
            ),
        },
        "cleanup": cleanup,
        "notes": bench.notes,
    }
    data["targets"] = report.targets(data)
    write_json(output, data)
    say(f"results: {output}  ({data['duration_s']}s)")
    report.print_targets(data["targets"])
    if not plan.smoke and not args.no_docs:
        report.write_docs(data, bench.samples)
    return 0
