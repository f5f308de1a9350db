"""The bench's own Django side: fill the journal with executions (and the
orders they filled: /v2's closed orders read the journal's orders), run a sync,
watch the journal catch up with the worker, and clean up afterwards.

Everything here is synchronous ORM code; the bench runs it on one thread of
its own (``DatabaseThread``) so its asyncio loop, which drives the HTTP load
and the ib_async floors, never makes a database call."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")

BATCH = 10_000
# Rows up to this many are made with bulk_create; beyond, copies of those rows
# (new ids, older times) are made by the database itself (see fill()).
BULK_CREATE_MAX = 100_000
SEED_SOURCE = "bench-seed"
SEED_PERM_ID = 1_000_000_000  # the seeded fills' (and orders') permIds start here
COPY_SOURCE = "bench-copy"
ACCOUNT = "DU1234567"
# A fixed "now" keeps every run's rows alike: newest fill at this time, older
# ones spread back from it (about one fill a minute across all symbols).
NEWEST = dt.datetime(2025, 6, 30, 20, 0, tzinfo=dt.UTC)
SPACING_S = 60


class DatabaseThread:
    """One thread for every ORM call of the bench (one connection)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-db")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self.pool.submit(_close_connections).result()
        self.pool.shutdown(wait=True)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def setup(database_url: str, env: dict[str, str]) -> str:
    """Configure Django in this process for ``database_url`` and the stack's
    queue and Redis (``env``); returns the database's name and version."""
    os.environ.update(env)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibkr_project.settings")
    import django

    django.setup()
    # Django's logging config puts the root logger at INFO: keep the HTTP
    # client from logging every request of the load.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The floors' connections see every `reset` cancel their orders (error
    # 202, logged at ERROR): the measurements record real failures themselves.
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def execution_count() -> int:
    from journal.models import Execution

    return Execution.objects.count()


# --- filling ------------------------------------------------------------------


def _symbols() -> list[str]:
    from ibsim.universe import START_PRICES

    return sorted(START_PRICES)


def _seed_row(i: int, token: str, symbols: list[str]) -> Any:
    """The i-th generated fill: symbols, sides, sizes, prices and times spread.
    AAPL, the symbol the bench reads, has one fill in eight (so 10^3 rows hold
    more than the 100 a read returns, and every size returns the same 100);
    the other symbols share the rest."""
    from ibsim.universe import START_PRICES
    from journal.models import Execution

    others = [s for s in symbols if s != "AAPL"]
    symbol = "AAPL" if i % 8 == 0 else others[(i * 7) % len(others)]
    qty = Decimal(1 + (i * 37) % 200)
    price = Decimal(str(round(START_PRICES[symbol] * (0.9 + ((i * 53) % 200) / 1000), 2)))
    when = NEWEST - dt.timedelta(seconds=i * SPACING_S + (i * 17) % 43)
    commission = max(Decimal("1.00"), (qty * Decimal("0.005")).quantize(Decimal("0.01")))
    return Execution(
        exec_id=f"{i:08x}.{token}00.01.01",
        exec_stem=f"{i:08x}.{token}00.01",
        revision=1,
        perm_id=SEED_PERM_ID + i,
        order_id=1 + i,
        client_id=(0, 1, 7)[i % 3],
        order_ref=("", "strategy-a", "strategy-b", "hedge")[i % 4],
        account=ACCOUNT,
        symbol=symbol,
        sec_type="STK",
        exchange=("NASDAQ", "NYSE", "ARCA", "IEX")[i % 4],
        currency="USD",
        side="BUY" if i % 2 else "SELL",
        quantity=qty,
        price=price,
        cum_quantity=qty,
        avg_price=price,
        executed_at=when,
        ib_time=when.strftime("%Y%m%d %H:%M:%S") + " UTC",
        commission=commission,
        commission_currency="USD",
        realized_pnl=None if i % 2 else Decimal("12.5"),
        source=SEED_SOURCE,
    )


def _seed_order(i: int, execution: Any) -> Any:
    """The order the i-th generated fill filled (one in ten cancelled after a
    partial fill): what /v2's closed orders page through."""
    from journal.models import Order

    order_type = ("LMT", "MKT", "STP")[i % 3]
    finished = execution.executed_at
    placed = finished - dt.timedelta(seconds=1 + i % 30)
    status = "Cancelled" if i % 10 == 0 else "Filled"
    quantity = execution.quantity * 2 if status == "Cancelled" else execution.quantity
    return Order(
        perm_id=execution.perm_id,
        order_id=execution.order_id,
        client_id=execution.client_id,
        order_ref=execution.order_ref,
        account=ACCOUNT,
        symbol=execution.symbol,
        action=execution.side,
        order_type=order_type,
        quantity=quantity,
        limit_price=execution.price if order_type == "LMT" else None,
        stop_price=execution.price if order_type == "STP" else None,
        tif="DAY",
        status=status,
        status_history=[[placed.isoformat(), "Submitted"], [finished.isoformat(), status]],
        filled=execution.quantity,
        avg_fill_price=execution.price,
        placed_at=placed,
        finished_at=finished,
    )


class Filler:
    """Grows the journal to a given number of stored executions, each with the
    order it filled.

    Up to ``BULK_CREATE_MAX`` rows: ``bulk_create`` in batches of 10k (about
    7k rows/s here: Django prepares every value in Python).  Beyond that, an
    ``INSERT ... SELECT`` copies the bulk-created rows with new execIds,
    permIds and order ids and older times (k copies go k spans further back),
    in chunks of at most one seed's size, so 10^6 rows fit the time budget.
    Each step checks the deadline: a fill that would overrun it stops early
    and says how far it got."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.seeded = 0
        self.copies = 0
        self.bulk_rows = 0
        self.bulk_s = 0.0
        self.copy_rows = 0
        self.copy_s = 0.0
        self.orders_added = 0  # journal orders this filler stored

    def fill(self, target: int, deadline: float) -> dict[str, Any]:
        from django.db import transaction

        from journal.models import Execution, Order
        from journal.selectors import journal_changed

        symbols = _symbols()
        current = Execution.objects.count()
        stopped = ""
        while current < target:
            left = deadline - time.monotonic()
            if self.seeded < BULK_CREATE_MAX:
                n = min(BATCH, target - current, BULK_CREATE_MAX - self.seeded)
                rate = self.bulk_rows / self.bulk_s if self.bulk_s else 5_000.0
                if n / rate > left:
                    stopped = f"time budget: bulk_create stopped at {current} rows"
                    break
                t0 = time.perf_counter()
                rows = [_seed_row(self.seeded + j, self.token, symbols) for j in range(n)]
                orders = [_seed_order(self.seeded + j, row) for j, row in enumerate(rows)]
                with transaction.atomic():
                    Execution.objects.bulk_create(rows, batch_size=BATCH)
                    Order.objects.bulk_create(orders, batch_size=BATCH)
                self.orders_added += n
                self.bulk_s += time.perf_counter() - t0
                self.bulk_rows += n
                self.seeded += n
                current += n
                continue
            n = min(self.seeded, target - current)
            rate = self.copy_rows / self.copy_s if self.copy_s else 20_000.0
            if n / rate * 1.2 > left:
                stopped = f"time budget: copying stopped at {current} rows"
                break
            t0 = time.perf_counter()
            self.copies += 1
            with transaction.atomic():
                self._copy(self.copies, n)
                self._copy_orders(self.copies, n)
            self.orders_added += n
            self.copy_s += time.perf_counter() - t0
            self.copy_rows += n
            current += n
        self._settle()
        # Written behind journal.services' back: tell the web's page caches.
        journal_changed()
        stored = Execution.objects.count()
        return {
            "target": target,
            "stored": stored,
            "reached": stored >= target,
            "stopped": stopped,
            "bulk_create_rows": self.bulk_rows,
            "bulk_create_rows_per_s": round(self.bulk_rows / self.bulk_s) if self.bulk_s else None,
            "sql_copy_rows": self.copy_rows,
            "sql_copy_rows_per_s": round(self.copy_rows / self.copy_s) if self.copy_s else None,
            "orders_stored": Order.objects.count(),
        }

    def _settle(self) -> None:
        """What the database would do after a bulk load anyway, now rather
        than during the measurement: PostgreSQL's autovacuum (statistics,
        visibility map); SQLite's WAL checkpoint (a bulk load of 10^5 rows in
        one transaction leaves a WAL of hundreds of MB, which the journal's
        small writes never do: autocheckpoint keeps it at 1,000 pages)."""
        from django.db import connection

        from journal.models import Execution, Order

        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Execution, Order):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"VACUUM ANALYZE {table}")

    def _copy(self, k: int, limit: int) -> None:
        from django.db import connection

        from journal.models import Execution

        table = Execution._meta.db_table
        columns = [str(f.column) for f in Execution._meta.concrete_fields if f.column != "id"]
        qn = connection.ops.quote_name
        shift_s = k * (self.seeded + 1) * SPACING_S + k * 86_400
        seed, copy = f".{self.token}00.", f".{self.token}{k:02x}."
        select = []
        for column in columns:
            if column in ("exec_id", "exec_stem"):
                select.append(f"REPLACE({qn(column)}, '{seed}', '{copy}')")
            elif column in ("perm_id", "order_id"):
                select.append(f"{qn(column)} + {k * 10_000_000}")
            elif column == "executed_at" and connection.vendor == "sqlite":
                select.append(f"DATETIME({qn(column)}, '-{shift_s} seconds')")
            elif column == "executed_at":
                select.append(f"{qn(column)} - INTERVAL '{shift_s} seconds'")
            elif column == "source":
                select.append(f"'{COPY_SOURCE}'")
            else:
                select.append(qn(column))
        sql = (
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(select)} FROM {qn(table)} "
            f"WHERE {qn('source')} = %s ORDER BY {qn('id')} LIMIT {int(limit)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [SEED_SOURCE])

    def _copy_orders(self, k: int, limit: int) -> None:
        """The orders of the k-th copy of the seeded fills (same permId shift,
        same time shift; the status history keeps the seed's times)."""
        from django.db import connection

        from journal.models import Order

        table = Order._meta.db_table
        columns = [str(f.column) for f in Order._meta.concrete_fields if f.column != "id"]
        qn = connection.ops.quote_name
        shift_s = k * (self.seeded + 1) * SPACING_S + k * 86_400
        select = []
        for column in columns:
            if column in ("perm_id", "order_id"):
                select.append(f"{qn(column)} + {k * 10_000_000}")
            elif column in ("placed_at", "finished_at") and connection.vendor == "sqlite":
                select.append(f"DATETIME({qn(column)}, '-{shift_s} seconds')")
            elif column in ("placed_at", "finished_at"):
                select.append(f"{qn(column)} - INTERVAL '{shift_s} seconds'")
            else:
                select.append(qn(column))
        seeds = f"{qn('perm_id')} >= %s AND {qn('perm_id')} < %s"
        sql = (
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(select)} FROM {qn(table)} "
            f"WHERE {seeds} ORDER BY {qn('perm_id')} LIMIT {int(limit)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [SEED_PERM_ID, SEED_PERM_ID + self.seeded])


# --- the sync -------------------------------------------------------------------


def sync_executions(count: int, token: str) -> dict[str, Any]:
    """``executions_sync`` with ``count`` executions the journal has not seen,
    shaped as the worker's fetch returns them; timed."""
    from journal import services

    symbols = _symbols()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    executions = []
    for i in range(count):
        when = start - dt.timedelta(seconds=i)
        executions.append(
            {
                "exec_id": f"{i:08x}.{token}ff.01.01",
                "perm_id": 2_000_000_000 + i,
                "order_id": 500_000 + i,
                "client_id": 0,
                "order_ref": "bench-sync",
                "account": ACCOUNT,
                "symbol": symbols[i % len(symbols)],
                "sec_type": "STK",
                "exchange": "NASDAQ",
                "currency": "USD",
                "side": "BUY" if i % 2 else "SELL",
                "quantity": 10.0,
                "price": 101.25,
                "cum_quantity": 10.0,
                "avg_price": 101.25,
                "executed_at": when.isoformat(),
                "ib_time": when.strftime("%Y%m%d %H:%M:%S") + " UTC",
                "commission": 1.0,
                "commission_currency": "USD",
                "realized_pnl": None,
            }
        )
    history = {"executions": executions, "orders": []}
    t0 = time.perf_counter()
    run = services.executions_sync(fetch=lambda: history, trigger="manual")
    seconds = time.perf_counter() - t0
    return {
        "executions": count,
        "seconds": round(seconds, 3),
        "ms_per_execution": round(seconds * 1000 / count, 3) if count else None,
        "per_second": round(count / seconds, 1) if seconds else None,
        "ok": run.ok,
        "inserted": run.inserted,
        "error": run.error,
        "sync_run_id": run.pk,
    }


# --- the worker's journal writer ---------------------------------------------------


def journal_orders() -> tuple[int, int]:
    """(orders stored, orders stored that are not finished)."""
    from journal.models import Order
    from journal.vocabulary import FINISHED_STATUSES

    total = Order.objects.count()
    open_ = Order.objects.exclude(status__in=FINISHED_STATUSES).count()
    return total, open_


# --- diagnostics ----------------------------------------------------------------------


def request_latencies(
    windows: dict[str, tuple[float, float]], endpoint: str = "order/limit"
) -> dict[str, dict[str, Any]]:
    """The web's own view of each order request (the audit trail's latency_ms:
    from queueing the task to its outcome), per measurement of the API."""
    try:
        from trading.models import OrderRequestLog
    except ImportError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for key, (start, end) in windows.items():
        if not key.endswith("/api"):
            continue
        times = sorted(
            ms
            for ms in OrderRequestLog.objects.filter(
                endpoint=endpoint,
                created_at__gte=dt.datetime.fromtimestamp(start, dt.UTC),
                created_at__lte=dt.datetime.fromtimestamp(end, dt.UTC),
            ).values_list("latency_ms", flat=True)
            if ms is not None
        )
        if times:
            out[key] = {
                "requests": len(times),
                "p50_ms": round(times[len(times) // 2], 3),
                "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3),
            }
    return out
