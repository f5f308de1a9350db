"""Closing positions through alpaca-py and raw HTTP against the real stack:
DELETE /v2/positions/{symbol_or_asset_id}?qty=|percentage= places a market
order for the opposite side (what the simulator receives is asserted),
refuses what IB cannot take (a fraction of a share) before sending anything,
404 for no position; DELETE /v2/positions?cancel_orders=true cancels our
working orders, then closes each position (207, per symbol)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.models import ClosePositionResponse, Order, Position
from alpaca.trading.requests import ClosePositionRequest

from ibsim.universe import CONTRACTS
from tests.stack import Stack, eventually
from tests.v2.conftest import Key
from tests.v2.test_http import alpaca_error
from trading.models import TradingControl
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

# No other test of the shared stack trades them.
LONG, SHORT = "WMT", "DIS"


def held(api: Stack, symbol: str) -> float:
    position = api.sim.call("positions").get(symbol)
    return float(position["quantity"]) if position else 0.0


def hold(api: Stack, client: TradingClient, symbol: str, quantity: int) -> None:
    """A position of ``quantity`` shares, as the mirror shows it."""
    api.sim.call("set_position", symbol=symbol, quantity=quantity, avg_cost=100.0)

    def shown() -> bool:
        try:
            position = client.get_open_position(symbol)
        except APIError:
            return False
        assert isinstance(position, Position)
        return float(position.qty) == quantity

    eventually(shown)


def sim_orders(api: Stack, order_id: str) -> list[dict[str, Any]]:
    perm_id = ids.parse_order_id(order_id)
    return [o for o in api.sim.call("orders") if o["perm_id"] == perm_id]


def test_closing_part_of_a_long_position_sells_that_qty_at_market(
    api: Stack, client: TradingClient
) -> None:
    hold(api, client, LONG, 10)

    order = client.close_position(LONG, ClosePositionRequest(qty="4"))

    assert isinstance(order, Order)
    assert (order.symbol, order.side, order.type, order.qty) == (LONG, "sell", "market", "4")
    assert order.time_in_force == "day"
    assert order.client_order_id
    [sent] = sim_orders(api, str(order.id))
    assert (sent["action"], sent["order_type"], sent["quantity"]) == ("SELL", "MKT", 4)
    eventually(lambda: held(api, LONG) == 6)


def test_closing_a_percentage_takes_that_share_of_the_position_by_asset_id(
    api: Stack, client: TradingClient
) -> None:
    hold(api, client, LONG, 6)

    asset_id = ids.asset_uuid(CONTRACTS[LONG].con_id)

    order = client.close_position(str(asset_id), ClosePositionRequest(percentage="50"))

    assert isinstance(order, Order)
    assert (order.side, order.qty) == ("sell", "3")
    eventually(lambda: held(api, LONG) == 3)


def test_closing_a_short_position_buys_it_back_whole(api: Stack, client: TradingClient) -> None:
    hold(api, client, SHORT, -5)

    order = client.close_position(SHORT.lower())

    assert isinstance(order, Order)
    assert (order.symbol, order.side, order.qty) == (SHORT, "buy", "5")
    eventually(lambda: held(api, SHORT) == 0)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"percentage": "25"}, 422, "IB takes whole shares only: closing 1.5 of WMT"),
        ({"qty": "2.5"}, 422, "closing 2.5 of WMT would need a fraction of a share"),
        ({"qty": "7"}, 403, "insufficient qty available for order (requested: 7, available: 6)"),
        ({"qty": "1", "percentage": "10"}, 422, "Only one of qty or percentage"),
        ({"percentage": "101"}, 422, "percentage: "),
    ],
)
def test_a_close_ib_cannot_take_is_refused_and_nothing_is_sent(
    api: Stack,
    client: TradingClient,
    trade_key: Key,
    params: dict[str, str],
    status: int,
    message: str,
) -> None:
    hold(api, client, LONG, 6)
    before = api.sim.call("counters")["orders_total"]

    response = requests.delete(
        api.url(f"/v2/positions/{LONG}"), params=params, headers=trade_key.headers, timeout=30
    )

    assert message in alpaca_error(response, status)
    assert api.sim.call("counters")["orders_total"] == before


def test_closing_a_position_that_does_not_exist_is_404(client: TradingClient) -> None:
    with pytest.raises(APIError) as refused:
        client.close_position("TLT", ClosePositionRequest(qty="1"))

    assert refused.value.status_code == 404


def test_a_read_token_may_not_close_and_the_kill_switch_refuses_403(
    api: Stack, client: TradingClient, read_key: Key, trade_key: Key
) -> None:
    hold(api, client, LONG, 6)
    url = api.url(f"/v2/positions/{LONG}")

    read_only = requests.delete(url, headers=read_key.headers, timeout=30)
    control = TradingControl.objects.create(halted=True, reason="risk review")
    try:
        halted = requests.delete(url, headers=trade_key.headers, timeout=30)
    finally:
        control.delete()

    assert "may only read" in alpaca_error(read_only, 403)
    assert alpaca_error(halted, 403).startswith("Trading is halted (kill switch): risk review.")
    assert held(api, LONG) == 6


def test_closing_all_cancels_our_orders_then_closes_each_position_207(
    api: Stack, client: TradingClient, trade_key: Key
) -> None:
    hold(api, client, LONG, 6)
    hold(api, client, SHORT, -2)
    resting = {"symbol": LONG, "qty": "1", "side": "buy", "type": "limit"}
    placed = requests.post(
        api.url("/v2/orders"),
        json={**resting, "time_in_force": "day", "limit_price": "1.00"},
        headers=trade_key.headers,
        timeout=30,
    ).json()

    results = client.close_all_positions(cancel_orders=True)

    assert isinstance(results, list)
    by_symbol = {r.symbol: r for r in results if isinstance(r, ClosePositionResponse)}
    assert {by_symbol[LONG].status, by_symbol[SHORT].status} == {200}
    long_order, short_order = by_symbol[LONG].body, by_symbol[SHORT].body
    assert isinstance(long_order, Order)
    assert isinstance(short_order, Order)
    assert (long_order.side, long_order.qty, short_order.side, short_order.qty) == (
        "sell",
        "6",
        "buy",
        "2",
    )
    assert sim_orders(api, placed["id"])[0]["status"] == "Cancelled"
    eventually(lambda: held(api, LONG) == 0 and held(api, SHORT) == 0)


def test_closing_all_answers_each_symbols_refusal_in_its_body(
    api: Stack, client: TradingClient, trade_key: Key
) -> None:
    hold(api, client, LONG, 3)
    control = TradingControl.objects.create(halted=True, reason="risk review")
    try:
        response = requests.delete(api.url("/v2/positions"), headers=trade_key.headers, timeout=30)
    finally:
        control.delete()

    assert response.status_code == 207, response.text
    [mine] = [r for r in response.json() if r["symbol"] == LONG]
    assert mine["status"] == 403
    assert mine["body"]["code"] == 40310000
    assert mine["body"]["message"].startswith("Trading is halted (kill switch)")
    assert held(api, LONG) == 3


def test_a_close_retried_with_its_idempotency_key_closes_once(
    api: Stack, client: TradingClient, trade_key: Key
) -> None:
    hold(api, client, LONG, 10)
    headers = {**trade_key.headers, "Idempotency-Key": f"close-{uuid.uuid4()}"}
    url = api.url(f"/v2/positions/{LONG}")

    first = requests.delete(url, params={"qty": "3"}, headers=headers, timeout=30)
    eventually(lambda: held(api, LONG) == 7)
    again = requests.delete(url, params={"qty": "3"}, headers=headers, timeout=30)

    assert (first.status_code, again.status_code) == (200, 200), (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]  # the first answer, replayed
    assert held(api, LONG) == 7  # one closing order, not two
    other = requests.delete(url, params={"qty": "4"}, headers=headers, timeout=30)
    assert alpaca_error(other, 409)  # the same key with another request


def test_closing_everything_retried_with_its_key_is_answered_once(
    api: Stack, client: TradingClient, trade_key: Key
) -> None:
    hold(api, client, LONG, 5)
    headers = {**trade_key.headers, "Idempotency-Key": f"close-all-{uuid.uuid4()}"}

    first = requests.delete(api.url("/v2/positions"), headers=headers, timeout=30)
    eventually(lambda: held(api, LONG) == 0)
    again = requests.delete(api.url("/v2/positions"), headers=headers, timeout=30)

    assert (first.status_code, again.status_code) == (207, 207), (first.text, again.text)
    assert again.json() == first.json()
