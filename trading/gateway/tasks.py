"""The gateway worker's Celery tasks and its start and stop.  Imported by the
worker alone (``CELERY_IMPORTS``); the web and the scheduler send these tasks
by name and never import this module.  Task names are stable: the beat
schedule and the web's fallback refer to them."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

from journal import services as journal_services
from trading.gateway.runtime import get_runtime, stop_runtime
from trading.wire import Outcome, OutcomeKind


@worker_ready.connect
def start_gateway(**kwargs: Any) -> None:
    get_runtime()


@worker_shutdown.connect
def stop_gateway(**kwargs: Any) -> None:
    stop_runtime()


@shared_task(name="trading.order_place", acks_late=False)
def order_place(
    kind: str,
    data: dict[str, Any],
    deadline: float,
    request_id: int | None = None,
    live_scope: bool = False,
) -> dict[str, Any]:
    """Place an order (all legs of a bracket) and wait until IB acknowledges it.
    Only where orders do not travel on the Redis bus (trading.bus).

    acks_late is off on purpose: a worker killed mid-order must not have the
    message redelivered and place the order a second time."""
    if time.time() >= deadline:
        return Outcome.fail(OutcomeKind.EXPIRED, "deadline passed before the order could be sent")
    args = {"kind": kind, "data": data, "request_id": request_id, "live_scope": live_scope}
    return get_runtime().serve_from_task("place", args, deadline)


@shared_task(name="trading.order_cancel", acks_late=False)
def order_cancel(perm_id: int, deadline: float) -> dict[str, Any]:
    return get_runtime().serve_from_task("cancel", {"perm_id": perm_id}, deadline)


@shared_task(name="trading.order_modify", acks_late=False)
def order_modify(perm_id: int, changes: dict[str, Any], deadline: float) -> dict[str, Any]:
    args = {"perm_id": perm_id, "changes": changes}
    return get_runtime().serve_from_task("modify", args, deadline)


@shared_task(name="trading.order_preview", acks_late=False)
def order_preview(kind: str, data: dict[str, Any], deadline: float) -> dict[str, Any]:
    return get_runtime().serve_from_task("preview", {"kind": kind, "data": data}, deadline)


@shared_task(name="trading.orders_cancel_global", acks_late=False)
def orders_cancel_global(deadline: float) -> dict[str, Any]:
    return get_runtime().serve_from_task("cancel_all", {}, deadline)


@shared_task(name="trading.assets_lookup")
def assets_lookup(deadline: float, symbols: list[str], known: bool = False) -> dict[str, Any]:
    """Contract details of symbols (trading.gateway.lookups), where requests
    do not travel on the Redis bus."""
    args = {"symbols": symbols, "known": known}
    return get_runtime().serve_from_task("assets", args, deadline)


@shared_task(name="trading.gateway_ping")
def gateway_ping() -> dict[str, Any]:
    """A round trip through the queue (health checks, benchmarks)."""
    return {"ok": True, "client_id": settings.IB_CLIENT_ID}


@shared_task(name="journal.executions_sync")
def executions_sync(trigger: str = "schedule") -> dict[str, Any]:
    """The journal's scheduled sync (django-celery-beat, every 60 s by default,
    editable in admin). It runs here, on the one process holding the IB
    connection; the journal gets the fetch as a function and knows no IB."""
    run = journal_services.executions_sync(fetch=get_runtime().fetch_history, trigger=trigger)
    return {
        "id": run.pk,
        "ok": run.ok,
        "fetched": run.fetched,
        "inserted": run.inserted,
        "updated": run.updated,
        "orders": run.orders,
        "error": run.error,
    }
