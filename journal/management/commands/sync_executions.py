"""Run a journal sync now (on the gateway worker, which holds the connection)."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Reconcile the execution journal with the gateway now and print what it did."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        # By name: the task lives with the gateway worker (trading.gateway.tasks),
        # and the journal imports nothing of trading.
        result = current_app.send_task(
            "journal.executions_sync", kwargs={"trigger": "manual"}, queue=settings.GATEWAY_QUEUE
        )
        try:
            outcome = result.get(timeout=options["timeout"])
        except Exception as exc:
            raise CommandError(f"no answer from the gateway worker: {exc}") from exc
        if not outcome["ok"]:
            raise CommandError(f"sync {outcome['id']} failed: {outcome['error']}")
        self.stdout.write(
            f"sync {outcome['id']}: fetched {outcome['fetched']} executions, "
            f"inserted {outcome['inserted']}, updated {outcome['updated']}, "
            f"orders {outcome['orders']}"
        )
