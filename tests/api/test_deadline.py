"""A request that could not be placed before its deadline is never sent."""

from __future__ import annotations

import time

from trading.gateway import tasks


def test_the_worker_drops_an_order_whose_deadline_has_passed() -> None:
    """Runs the task body itself: it must refuse before touching the gateway."""
    outcome = tasks.order_place.run(
        "limit",
        {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 200.0},
        deadline=time.time() - 1,
        request_id=None,
    )

    assert outcome == {
        "ok": False,
        "kind": "expired",
        "message": "deadline passed before the order could be sent",
        "code": 0,
    }
