"""Writes to the journal.  Every function is idempotent and safe to race:
uniqueness is enforced by the database (execId stem, permId), not by luck."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from journal import selectors
from journal.models import Execution, Order, PendingCommission, SyncRun
from journal.vocabulary import FINISHED_STATUSES, split_exec_id

log = logging.getLogger("journal")

EXECUTION_FIELDS = (
    "perm_id",
    "order_id",
    "client_id",
    "order_ref",
    "account",
    "symbol",
    "con_id",
    "sec_type",
    "exchange",
    "currency",
    "side",
    "quantity",
    "price",
    "cum_quantity",
    "avg_price",
    "executed_at",
    "ib_time",
)


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


def _when(value: Any) -> dt.datetime:
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if timezone.is_naive(when):
        raise ValueError("execution times must be timezone-aware")
    return when.astimezone(dt.UTC)


def _execution_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {name: data.get(name) for name in EXECUTION_FIELDS}
    for name in ("quantity", "price", "cum_quantity", "avg_price"):
        values[name] = _dec(values[name])
    values["executed_at"] = _when(values["executed_at"])
    for name in ("order_ref", "exchange", "ib_time"):
        values[name] = values[name] or ""
    values["sec_type"] = values["sec_type"] or "STK"
    values["currency"] = values["currency"] or "USD"
    return values


@transaction.atomic
def execution_record(*, data: dict[str, Any], source: str) -> str:
    """Insert or update one fill; a correction (same stem, higher suffix)
    replaces the earlier revision.  Returns inserted / updated / unchanged."""
    exec_id = data["exec_id"]
    stem, revision = split_exec_id(exec_id)
    values = _execution_values(data)
    row = Execution.objects.select_for_update().filter(exec_stem=stem).first()
    if row is None:
        try:
            with transaction.atomic():
                row = Execution.objects.create(
                    exec_id=exec_id, exec_stem=stem, revision=revision, source=source, **values
                )
        except IntegrityError:  # a concurrent writer inserted it first
            row = Execution.objects.select_for_update().get(exec_stem=stem)
        else:
            _apply_commission(row, data)
            transaction.on_commit(selectors.journal_changed)
            return "inserted"
    changed = False
    if revision > row.revision:
        row.exec_id, row.revision = exec_id, revision
        for name, value in values.items():
            setattr(row, name, value)
        row.commission = row.realized_pnl = None
        row.commission_currency = ""
        changed = True
    if revision >= row.revision:
        changed = _apply_commission(row, data, save=False) or changed
    if changed:
        row.save()
        transaction.on_commit(selectors.journal_changed)
        return "updated"
    return "unchanged"


def _apply_commission(row: Execution, data: dict[str, Any], save: bool = True) -> bool:
    """Take the commission from the data, else from a report that came first."""
    commission = data.get("commission")
    currency = data.get("commission_currency") or ""
    pnl = data.get("realized_pnl")
    if commission is None:
        pending = PendingCommission.objects.filter(exec_id=row.exec_id).first()
        if pending is None:
            return False
        commission, currency, pnl = pending.commission, pending.currency, pending.realized_pnl
        pending.delete()
    new = (_dec(commission), currency, _dec(pnl))
    if (row.commission, row.commission_currency, row.realized_pnl) == new:
        return False
    row.commission, row.commission_currency, row.realized_pnl = new
    if save:
        row.save(update_fields=["commission", "commission_currency", "realized_pnl", "last_synced"])
    return True


def commission_record(
    *, exec_id: str, commission: float, currency: str, realized_pnl: float | None
) -> None:
    """A commission report, before or after its execution is stored."""
    amount, pnl = Decimal(str(commission)), _dec(realized_pnl)
    values: dict[str, Any] = {
        "commission": amount,
        "commission_currency": currency,
        "realized_pnl": pnl,
        "last_synced": timezone.now(),
    }
    if Execution.objects.filter(exec_id=exec_id).update(**values):
        transaction.on_commit(selectors.journal_changed)
        return
    with transaction.atomic():
        PendingCommission.objects.update_or_create(
            exec_id=exec_id,
            defaults={"commission": amount, "currency": currency, "realized_pnl": pnl},
        )
    # The execution may have been stored in between: apply and drop the report.
    if Execution.objects.filter(exec_id=exec_id).update(**values):
        PendingCommission.objects.filter(exec_id=exec_id).delete()
        transaction.on_commit(selectors.journal_changed)


ORDER_FIELDS = (
    "order_id",
    "client_id",
    "order_ref",
    "account",
    "symbol",
    "con_id",
    "sec_type",
    "action",
    "order_type",
    "quantity",
    "limit_price",
    "stop_price",
    "tif",
    "parent_perm_id",
    "filled",
    "avg_fill_price",
    "oca_group",
    "trail_percent",
    "trail_stop_price",
    "outside_rth",
)


@transaction.atomic
def order_record(*, data: dict[str, Any]) -> str:
    """Upsert an order by permId; every status change is appended to its history.
    A field the data does not carry (None: a conId, a security type) is left
    as stored, so an order stored before conIds takes its conId from the
    next event or sync that reports it."""
    now = timezone.now()
    status = data["status"]
    values = {name: data.get(name) for name in ORDER_FIELDS}
    for name in (
        "quantity",
        "limit_price",
        "stop_price",
        "filled",
        "avg_fill_price",
        "trail_percent",
        "trail_stop_price",
    ):
        values[name] = _dec(values[name])
    values["filled"] = values["filled"] or Decimal(0)
    for name in ("order_ref", "account", "tif", "oca_group"):
        values[name] = values[name] or ""
    values["outside_rth"] = bool(values["outside_rth"])
    if data.get("expired"):  # only the live feed knows it: a sync never clears it
        values["expired"] = True
    row = Order.objects.select_for_update().filter(perm_id=data["perm_id"]).first()
    if row is None:
        try:
            with transaction.atomic():
                Order.objects.create(
                    perm_id=data["perm_id"],
                    status=status,
                    status_history=[[now.isoformat(), status]],
                    placed_at=now,
                    finished_at=now if status in FINISHED_STATUSES else None,
                    **{**values, "sec_type": values["sec_type"] or ""},
                )
            return "inserted"
        except IntegrityError:
            row = Order.objects.select_for_update().get(perm_id=data["perm_id"])
    changed = False
    for name, value in values.items():
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if status != row.status:
        row.status = status
        row.status_history = [*row.status_history, [now.isoformat(), status]]
        if status in FINISHED_STATUSES and row.finished_at is None:
            row.finished_at = now
        changed = True
    if changed:
        row.save()
        return "updated"
    return "unchanged"


def executions_sync(
    *, fetch: Callable[[], dict[str, list[dict[str, Any]]]], trigger: str = "schedule"
) -> SyncRun:
    """Reconcile the journal with what the gateway reports.  A failed fetch is
    recorded as failed (fetched stays null), never as "zero executions"."""
    run = SyncRun.objects.create(trigger=trigger, started_at=timezone.now())
    try:
        history = fetch()
    except Exception as exc:  # whatever the gateway side raised: record it
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save()
        log.warning("execution sync failed: %s", run.error)
        return run
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    try:
        upserted, problems = _executions_upsert(history.get("executions", []))
        for kind, count in upserted.items():
            counts[kind] += count
        if problems:
            run.error = problems[0][:2000]
        for data in history.get("orders", []):
            order_record(data=data)
            run.orders += 1
    except Exception as exc:  # a database error half-way: record what was done
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.fetched = len(history.get("executions", []))
    run.inserted, run.updated = counts["inserted"], counts["updated"]
    run.ok = not run.error
    run.finished_at = timezone.now()
    run.save()
    return run


SYNC_BATCH = 1000


def _executions_upsert(rows: list[dict[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """A sync's executions in batches: one query finds which stems the journal
    has; the new ones go in with one INSERT (conflicts with a concurrent live
    capture ignored, so never twice); only known ones are compared row by row."""
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    problems: list[str] = []
    for start in range(0, len(rows), SYNC_BATCH):
        batch = rows[start : start + SYNC_BATCH]
        stems = {split_exec_id(d["exec_id"])[0] for d in batch}
        known = set(
            Execution.objects.filter(exec_stem__in=stems).values_list("exec_stem", flat=True)
        )
        fresh: dict[str, dict[str, Any]] = {}
        for data in batch:
            stem, revision = split_exec_id(data["exec_id"])
            if stem in known:
                counts[execution_record(data=data, source="reqExecutions")] += 1
            elif stem not in fresh or split_exec_id(fresh[stem]["exec_id"])[1] < revision:
                fresh[stem] = data
        if not fresh:
            continue
        pending = {
            p.exec_id: p
            for p in PendingCommission.objects.filter(
                exec_id__in=[d["exec_id"] for d in fresh.values()]
            )
        }
        objects = []
        for stem, data in fresh.items():
            exec_id = data["exec_id"]
            try:
                values = _execution_values(data)
            except (ValueError, TypeError, KeyError) as exc:  # one bad row, not the batch
                problems.append(f"{type(exc).__name__}: {exc}")
                continue
            row = Execution(
                exec_id=exec_id,
                exec_stem=stem,
                revision=split_exec_id(exec_id)[1],
                source="reqExecutions",
                **values,
            )
            report = pending.get(exec_id)
            if data.get("commission") is not None:
                row.commission = _dec(data["commission"])
                row.commission_currency = data.get("commission_currency") or ""
                row.realized_pnl = _dec(data.get("realized_pnl"))
            elif report is not None:
                row.commission, row.commission_currency = report.commission, report.currency
                row.realized_pnl = report.realized_pnl
            objects.append(row)
        with transaction.atomic():
            Execution.objects.bulk_create(objects, ignore_conflicts=True)
            if pending:
                PendingCommission.objects.filter(exec_id__in=list(pending)).delete()
        inserted = Execution.objects.filter(
            exec_id__in=[o.exec_id for o in objects], source="reqExecutions"
        ).count()
        counts["inserted"] += inserted
        counts["unchanged"] += len(objects) - inserted
        if inserted:
            transaction.on_commit(selectors.journal_changed)
    return counts, problems
