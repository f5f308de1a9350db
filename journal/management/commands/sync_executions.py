"""Run a journal sync now (on the gateway worker, which holds the connection)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from journal import tasks


class Command(BaseCommand):
    help = "Reconcile the execution journal with the gateway now and print what it did."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        result = tasks.executions_sync.apply_async(
            kwargs={"trigger": "manual"}, queue=settings.GATEWAY_QUEUE
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
