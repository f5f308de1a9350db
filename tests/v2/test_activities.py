"""GET /v2/account/activities[/{type}] over raw HTTP against the real stack:
fills from the journal in Alpaca's shape (alpaca-py's TradeActivity parses
each), cum_qty and leaves_qty through partial fills made by the simulator's
thin book, keyset paging both ways, the date window, and the refusals in
Alpaca's shape."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from alpaca.trading.models import TradeActivity

from tests.stack import Stack, eventually
from tests.v2.conftest import Key
from tests.v2.test_http import alpaca_error
from v2api.activities import MARKET_TIMEZONE

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

SYMBOL = "JPM"  # no other test of the shared stack trades it


def get(api: Stack, path: str, key: Key, **params: Any) -> requests.Response:
    return requests.get(api.url(path), params=params, headers=key.headers, timeout=30)


def activities(api: Stack, key: Key, **params: Any) -> list[dict[str, Any]]:
    response = get(api, "/v2/account/activities/FILL", key, **params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    for row in rows:
        TradeActivity(**row)  # alpaca-py's model validates every field
    return rows


def order(api: Stack, key: Key, **fields: Any) -> dict[str, Any]:
    body = {"symbol": SYMBOL, "side": "buy", "time_in_force": "day", **fields}
    response = requests.post(api.url("/v2/orders"), json=body, headers=key.headers, timeout=30)
    assert response.status_code == 200, response.text
    placed: dict[str, Any] = response.json()
    return placed


def fills_of(api: Stack, key: Key, order_id: str, count: int, since: str) -> list[dict[str, Any]]:
    """The order's ``count`` fills once the journal stored them and the order
    (whose quantity gives leaves_qty), oldest first."""

    def stored() -> list[dict[str, Any]] | None:
        rows = [r for r in activities(api, key, after=since) if r["order_id"] == order_id]
        complete = len(rows) == count and all(r["leaves_qty"] is not None for r in rows)
        return sorted(rows, key=lambda r: float(r["cum_qty"])) if complete else None

    rows: list[dict[str, Any]] = eventually(stored, timeout=15)
    return rows


@pytest.fixture
def thin_book(api: Stack) -> Iterator[dict[str, float]]:
    """100 shares on each price level of JPM's book, one cent apart."""
    api.sim.call("set_quote", symbol=SYMBOL, bid=299.99, ask=300.01, last=300.00)
    api.sim.call("set_liquidity", symbol=SYMBOL, shares=100)
    try:
        yield api.sim.call("quote", symbol=SYMBOL)
    finally:
        api.sim.call("set_liquidity", symbol=SYMBOL)


def now_text(api: Stack, key: Key) -> str:
    """The newest stored fill's time; fills from here on are the test's (IB
    times executions to the second: the next ones come a second later)."""
    newest = activities(api, key, page_size=1)
    time.sleep(1.1)
    return newest[0]["transaction_time"] if newest else "2000-01-01T00:00:00Z"


def test_a_partial_fill_shows_cum_qty_and_leaves_qty_and_the_rest_rests(
    api: Stack, trade_key: Key, thin_book: dict[str, float]
) -> None:
    since = now_text(api, trade_key)
    ask = thin_book["ask"]
    # Two levels up to the limit: 200 shares fill, 50 rest.
    placed = order(api, trade_key, qty="250", type="limit", limit_price=f"{ask + 0.01:.2f}")
    try:
        fills = fills_of(api, trade_key, placed["id"], 2, since)
    finally:
        requests.delete(
            api.url(f"/v2/orders/{placed['id']}"), headers=trade_key.headers, timeout=30
        )

    assert [
        (f["qty"], f["price"], f["cum_qty"], f["leaves_qty"], f["type"], f["order_status"])
        for f in fills
    ] == [
        ("100", f"{ask:.2f}", "100", "150", "partial_fill", "partially_filled"),
        ("100", f"{ask + 0.01:.2f}", "200", "50", "partial_fill", "partially_filled"),
    ]
    assert {(f["activity_type"], f["side"], f["symbol"]) for f in fills} == {
        ("FILL", "buy", SYMBOL)
    }


def test_a_market_order_walking_the_book_ends_with_a_fill_and_nothing_left(
    api: Stack, trade_key: Key, thin_book: dict[str, float]
) -> None:
    since = now_text(api, trade_key)
    placed = order(api, trade_key, qty="250", type="market")

    fills = fills_of(api, trade_key, placed["id"], 3, since)

    assert [(f["qty"], f["cum_qty"], f["leaves_qty"], f["type"]) for f in fills] == [
        ("100", "100", "150", "partial_fill"),
        ("100", "200", "50", "partial_fill"),
        ("50", "250", "0", "fill"),
    ]
    assert fills[-1]["order_status"] == "filled"
    # transaction_time is the execution's time, in order with cum_qty.
    times = [dt.datetime.fromisoformat(f["transaction_time"]) for f in fills]
    assert times == sorted(times)


def test_pages_follow_the_page_token_both_ways_without_gaps_or_repeats(
    api: Stack, trade_key: Key
) -> None:
    since = now_text(api, trade_key)
    ids = [order(api, trade_key, qty="1", type="market")["id"] for _ in range(5)]
    eventually(lambda: {r["order_id"] for r in activities(api, trade_key, after=since)} >= set(ids))
    everything = activities(api, trade_key, after=since)

    def walk(direction: str) -> list[list[str]]:
        pages: list[list[str]] = []
        token = None
        while True:
            params = {"after": since, "page_size": 2, "direction": direction}
            page = activities(api, trade_key, **params, **({"page_token": token} if token else {}))
            if not page:
                return pages
            pages.append([row["id"] for row in page])
            token = page[-1]["id"]

    newest_first, oldest_first = walk("desc"), walk("asc")

    assert [len(p) for p in newest_first] == [2, 2, 1] == [len(p) for p in oldest_first]
    newest = [row_id for page in newest_first for row_id in page]
    assert newest == [row["id"] for row in everything]
    assert [row_id for page in oldest_first for row_id in page] == list(reversed(newest))
    times = [row["transaction_time"] for row in everything]
    assert times == sorted(times, reverse=True)


def test_the_general_endpoint_lists_the_fills_and_a_date_picks_the_market_day(
    api: Stack, trade_key: Key
) -> None:
    since = now_text(api, trade_key)
    placed = order(api, trade_key, qty="1", type="market")
    eventually(lambda: any(r["order_id"] == placed["id"] for r in activities(api, trade_key)))
    today = dt.datetime.now(MARKET_TIMEZONE).date()

    def ids(**params: Any) -> set[str]:
        response = get(api, "/v2/account/activities", trade_key, **params)
        assert response.status_code == 200, response.text
        return {row["order_id"] for row in response.json()}

    assert placed["id"] in ids(after=since)
    assert placed["id"] in ids(activity_types="FILL", after=since)
    assert placed["id"] in ids(category="trade_activity", after=since)
    assert placed["id"] in ids(date=today.isoformat())
    assert placed["id"] not in ids(date=(today - dt.timedelta(days=1)).isoformat())
    assert placed["id"] not in ids(until=since)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/v2/account/activities/NOPE", {}, "activity_type: NOPE is not an activity type"),
        ("/v2/account/activities/DIV", {}, "DIV: Only FILL activities are available"),
        ("/v2/account/activities", {"activity_types": "FILL,DIV"}, "DIV: Only FILL"),
        (
            "/v2/account/activities",
            {"category": "non_trade_activity"},
            "category: only trade_activity is available",
        ),
        (
            "/v2/account/activities",
            {"category": "trade_activity", "activity_types": "FILL"},
            "category is not taken together with activity_types.",
        ),
        ("/v2/account/activities/FILL", {"page_size": "101"}, "page_size: "),
        ("/v2/account/activities/FILL", {"direction": "up"}, "direction: "),
        (
            "/v2/account/activities/FILL",
            {"date": "2026-01-05", "after": "2026-01-05T00:00:00Z"},
            "date is not taken together with after or until.",
        ),
        (
            "/v2/account/activities/FILL",
            {"page_token": f"20260105153406977::{uuid.uuid4()}"},
            "The page_token names no activity of this account",
        ),
        (
            "/v2/account/activities/FILL",
            {"page_token": "20260105153406977"},
            "page_token: ",
        ),
        (
            "/v2/account/activities/FILL",
            {"page_token": f"20269999999999999::{uuid.uuid4()}"},
            "The page_token names no activity of this account",
        ),
    ],
)
def test_what_cannot_be_answered_is_422_in_alpacas_shape(
    api: Stack, read_key: Key, path: str, params: dict[str, str], message: str
) -> None:
    response = get(api, path, read_key, **params)

    assert message in alpaca_error(response, 422)


def test_activities_answer_from_the_journal_while_the_gateway_is_away(
    api: Stack, trade_key: Key, read_key: Key
) -> None:
    since = now_text(api, trade_key)
    placed = order(api, trade_key, qty="1", type="market")
    [fill] = fills_of(api, trade_key, placed["id"], 1, since)
    api.sim.call("refuse_connections", seconds=4)
    api.sim.call("drop_connections")
    try:
        eventually(lambda: get(api, "/v2/account", read_key).status_code == 503, timeout=5)

        during = activities(api, read_key, after=since)
    finally:
        eventually(lambda: get(api, "/v2/account", read_key).status_code == 200, timeout=30)

    assert [row["id"] for row in during] == [fill["id"]]
