"""GET /v2/account/pnl against the real stack: IB's reqPnL figures, which
the worker subscribes to after connecting and publishes in the state mirror,
move with a fill and a price move as the simulator computes them; 503 in
Alpaca's shape while the gateway is away."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.stack import Stack, eventually
from tests.v2.conftest import Key
from tests.v2.test_http import alpaca_error

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

SYMBOL = "BAC"  # no other test of the shared stack trades it


def pnl(api: Stack, key: Key) -> requests.Response:
    return requests.get(api.url("/v2/account/pnl"), headers=key.headers, timeout=30)


def unrealized_in_the_simulator(api: Stack) -> Decimal:
    """ibsim.pnl's unrealized figure: each position at the last price against
    its average cost, rounded per symbol, summed."""
    total = Decimal(0)
    for symbol, position in api.sim.call("positions").items():
        last = api.sim.call("get_price", symbol=symbol)
        figure = position["quantity"] * (last - position["avg_cost"])
        total += Decimal(str(round(figure, 2)))
    return total


def test_the_pnl_follows_a_fill_and_a_price_move_as_ib_reports_it(
    api: Stack, read_key: Key, trade_key: Key
) -> None:
    first = pnl(api, read_key)
    assert first.status_code == 200, first.text
    account = requests.get(api.url("/v2/account"), headers=read_key.headers, timeout=30).json()
    assert set(first.json()) == {"account_number", "daily_pl", "unrealized_pl", "realized_pl"}

    body = {"symbol": SYMBOL, "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"}
    placed = requests.post(api.url("/v2/orders"), json=body, headers=trade_key.headers, timeout=30)
    assert placed.status_code == 200, placed.text
    eventually(lambda: api.sim.call("positions").get(SYMBOL))
    price = api.sim.call("get_price", symbol=SYMBOL)
    api.sim.call("set_price", symbol=SYMBOL, price=round(price + 1.5, 2))

    def settled() -> dict[str, Any] | None:
        now = pnl(api, read_key).json()
        expected = unrealized_in_the_simulator(api)
        return now if Decimal(now["unrealized_pl"] or "nan") == expected else None

    now = eventually(settled, timeout=10)
    assert now["account_number"] == account["account_number"]
    assert now["daily_pl"] is not None
    assert now["realized_pl"] is not None
    assert Decimal(now["daily_pl"]) != Decimal(first.json()["daily_pl"] or "0")


def test_realized_pnl_is_the_days_realized_as_ib_reports_it_after_a_closing_sale(
    api: Stack, read_key: Key, trade_key: Key
) -> None:
    body = {"symbol": SYMBOL, "qty": "4", "side": "buy", "type": "market", "time_in_force": "day"}
    bought = requests.post(api.url("/v2/orders"), json=body, headers=trade_key.headers, timeout=30)
    assert bought.status_code == 200, bought.text
    held = eventually(lambda: api.sim.call("positions").get(SYMBOL))
    price = api.sim.call("get_price", symbol=SYMBOL)
    api.sim.call("set_price", symbol=SYMBOL, price=round(price + 2, 2))

    sale = {**body, "qty": "2", "side": "sell"}
    sold = requests.post(api.url("/v2/orders"), json=sale, headers=trade_key.headers, timeout=30)
    assert sold.status_code == 200, sold.text
    eventually(lambda: api.sim.call("positions")[SYMBOL]["quantity"] == held["quantity"] - 2)

    def realized_in_the_simulator() -> Decimal:
        executions = api.sim.call("executions")  # the open clock: the session's
        return sum((Decimal(str(e["realized_pnl"] or 0)) for e in executions), Decimal(0))

    def settled() -> str | None:
        # To the cent: IB rounds its figure, the executions' sum is exact.
        realized = pnl(api, read_key).json()["realized_pl"]
        if realized is None:
            return None
        close = abs(Decimal(realized) - realized_in_the_simulator()) <= Decimal("0.01")
        return realized if close else None

    realized = eventually(settled, timeout=10)
    assert Decimal(realized) > 0  # sold 2 above their cost


def test_while_the_gateway_is_away_the_pnl_is_503_in_alpacas_shape(
    api: Stack, read_key: Key
) -> None:
    api.sim.call("refuse_connections", seconds=4)
    api.sim.call("drop_connections")
    try:
        # (a list: a Response with an error status is falsy)
        [down] = eventually(lambda: (r := pnl(api, read_key)).status_code == 503 and [r], timeout=5)
        assert alpaca_error(down, 503)
    finally:
        eventually(lambda: pnl(api, read_key).status_code == 200, timeout=30)
