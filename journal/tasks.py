"""The scheduled sync.  It runs on the gateway worker (the one process holding
the IB connection); django-celery-beat schedules it (every 60 s by default,
editable in admin)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="journal.executions_sync")
def executions_sync(trigger: str = "schedule") -> dict[str, Any]:
    from journal import services
    from trading.gateway.runtime import get_runtime

    runtime = get_runtime()
    run = services.executions_sync(fetch=runtime.fetch_history, trigger=trigger)
    return {
        "id": run.pk,
        "ok": run.ok,
        "fetched": run.fetched,
        "inserted": run.inserted,
        "updated": run.updated,
        "orders": run.orders,
        "error": run.error,
    }
