"""IB's warnings on an order never cancel it (issue 10).

A real paper gateway sends warnings through the same error message as
rejections: 2109 (outside-RTH attribute ignored), 10349 (TIF set by the
order preset), 10311 (directly routed), 399 (order message).  ib_async even
marks the order Cancelled for the codes it does not know (10349, 10311)
until IB's next status.  The worker's code tables decide: the order is
answered as placed, works at IB, and carries its warnings; a rejection
(201) still answers 400."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack import Stack, eventually
from trading.models import OrderRequestLog

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

WORDING = {
    2109: "Outside Regular Trading Hours",
    10349: "Order TIF was set to DAY based on order preset.",
    10311: "Direct routed orders may result in higher trade fees",
    399: "Order Message:",
}


def working(api: Stack, perm_id: int) -> dict[str, Any] | None:
    orders = api.get("/orders").json()["orders"]
    return next((o for o in orders if o["permId"] == perm_id), None)


@pytest.mark.parametrize("code", [2109, 10349, 10311, 399])
def test_an_order_that_draws_a_warning_is_placed_and_carries_it(api: Stack, code: int) -> None:
    ref = f"warned-{code}"
    api.sim.call("warn_next_order", code=code)
    body = {"symbol": "AAPL", "action": "BUY", "quantity": 3, "limit_price": 200.0}

    response = api.post("/order/limit", {**body, "order_ref": ref})

    assert response.status_code == 200, response.text
    perm_id = response.json()["permId"]
    order = eventually(lambda: working(api, perm_id))
    assert order["status"] in ("SUBMITTED", "PRESUBMITTED")
    assert [w["code"] for w in order["warnings"]] == [code]
    assert WORDING[code] in order["warnings"][0]["message"]
    sim_orders = {o["perm_id"]: o for o in api.sim.call("orders")}
    assert sim_orders[perm_id]["status"] in ("Submitted", "PreSubmitted")
    row = eventually(
        lambda: OrderRequestLog.objects.filter(body__order_ref=ref, state="done").first()
    )
    assert row.http_status == 200
    assert [w["code"] for w in row.warnings] == [code]
    assert row.perm_ids == [perm_id]


def test_a_warned_market_order_fills(api: Stack) -> None:
    api.sim.call("warn_next_order", code=10349)

    response = api.post(
        "/order/market", {"symbol": "MSFT", "action": "BUY", "quantity": 2, "order_ref": "wm"}
    )

    assert response.status_code == 200, response.text
    perm_id = response.json()["permId"]
    eventually(
        lambda: [
            e for e in api.get("/executions").json()["executions"] if e.get("permId") == perm_id
        ]
    )


def test_a_rejection_still_answers_400_and_leaves_nothing_working(api: Stack) -> None:
    api.sim.call("reject_next_order", reason="Insufficient buying power")

    response = api.post(
        "/order/limit",
        {"symbol": "AAPL", "action": "BUY", "quantity": 5, "limit_price": 201.0, "order_ref": "r"},
    )

    assert response.status_code == 400
    assert "Insufficient buying power" in response.json()["detail"]
    # IB's margin refusal: 400 at the root as every rejection, its own state
    # in the audit trail (403 under /v2, as Alpaca answers it).
    row = eventually(
        lambda: OrderRequestLog.objects.filter(body__order_ref="r", state="no_buying_power").first()
    )
    assert row.error_code == 201
