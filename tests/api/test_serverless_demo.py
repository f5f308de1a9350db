"""`make run` without any Redis: the filesystem broker, file results and the
file cache still place, list and cancel orders (slower, but it works)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.stack import Stack, database_url

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def test_orders_work_without_a_redis_server(
    django_db_setup: object, django_db_blocker: Any, tmp_path: Path
) -> None:
    with django_db_blocker.unblock():
        url = database_url(connections["default"].settings_dict)
    for folder in ("broker", "results", "cache"):
        (tmp_path / folder).mkdir()
    stack = Stack(
        url,
        REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"),
        CELERY_RESULT_BACKEND=f"file://{tmp_path / 'results'}",
        CACHE_URL=f"filecache://{tmp_path / 'cache'}",
    ).start()
    try:
        body = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.0}

        placed = stack.post("/order/limit", body)

        assert placed.status_code == 200, placed.text
        perm_id = placed.json()["permId"]
        assert perm_id in [o["permId"] for o in stack.get("/orders").json()["orders"]]
        cancelled = stack.post("/order/cancel", {"perm_id": perm_id})
        assert cancelled.json() == {"status": f"✅ Order {perm_id} cancelled"}
    finally:
        stack.stop()
