"""No request that breaks a validation rule or a pre-trade limit reaches IB
(issue 11): hypothesis draws valid orders, breaks one rule in each, and the
simulator's own counter of placeOrder messages proves nothing was sent; the
answer is a 4xx with a ``{"detail": ...}`` body."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.stack import Stack
from trading import fields, serializers
from trading.idempotency import HEADER as IDEMPOTENCY_KEY
from trading.idempotency import KEY_MAX_LENGTH

pytestmark = [pytest.mark.stack]

# Symbols the simulator knows, at plausible prices; the last two are denied.
KNOWN = ["AAPL", "MSFT", "AMZN"]
DENIED = ["TSLA", "NVDA"]
PATHS = {
    "limit": "/order/limit",
    "market": "/order/market",
    "stop": "/order/stop",
    "bracket": "/order/bracket",
}
PRICES = {
    "limit": ("limit_price",),
    "market": (),
    "stop": ("stop_price",),
    "bracket": ("entry_price", "stop_loss", "take_profit"),
}
REQUEST_FIELDS = {
    kind: set(serializer().fields)
    for kind, serializer in {
        "limit": serializers.LimitOrderRequest,
        "market": serializers.MarketOrderRequest,
        "stop": serializers.StopOrderRequest,
        "bracket": serializers.BracketOrderRequest,
    }.items()
}


class Request:
    """What is sent: a JSON body (or raw text) and headers."""

    def __init__(self, kind: str, body: dict[str, Any]) -> None:
        self.kind, self.body = kind, body
        self.raw: str | None = None
        self.headers: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"POST {PATHS[self.kind]} {self.raw or self.body!r} {self.headers}"


@pytest.fixture(scope="module")
def denying(stack: Stack) -> str:
    """A web server of the shared stack with a symbol deny list (and the
    default limits: MAX_ORDER_QUANTITY, MAX_ORDER_NOTIONAL)."""
    stack.sim.call("reset")
    return stack.start_extra_web("web-denylist", SYMBOL_DENYLIST=",".join(DENIED))


def _cents(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(math.ceil(low * 100), math.floor(high * 100)).map(lambda c: c / 100)


@st.composite
def valid_orders(draw: st.DrawFn) -> Request:
    kind = draw(st.sampled_from(list(PATHS)))
    body: dict[str, Any] = {
        "symbol": draw(st.sampled_from(KNOWN)),
        "action": draw(st.sampled_from(["BUY", "SELL"])),
        "quantity": draw(st.integers(1, 10)),
    }
    if draw(st.booleans()):
        body["order_ref"] = draw(st.text(max_size=20).filter(lambda t: "\x00" not in t))
    if kind in ("limit", "stop"):
        body[PRICES[kind][0]] = draw(_cents(1, 300))
    if kind == "bracket":
        entry = draw(_cents(10, 300))
        low, high = round(entry - 5, 2), round(entry + 5, 2)
        stop, take = (low, high) if body["action"] == "BUY" else (high, low)
        body.update(entry_price=entry, stop_loss=stop, take_profit=take)
    return Request(kind, body)


# --- the rules, broken one at a time ---------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]

NOT_A_NUMBER = st.one_of(
    st.text(max_size=5), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
)
NOT_A_STRING = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


def _over_quantity_limit(draw: Draw, request: Request) -> None:
    limit = int(settings.MAX_ORDER_QUANTITY)
    request.body["quantity"] = draw(st.integers(limit + 1, int(fields.MAX_QUANTITY)))


def _over_notional_limit(draw: Draw, request: Request) -> None:
    """Within the quantity limit, above the notional one (a market order at
    the simulator's quote: every known symbol trades above $150)."""
    quantity = draw(st.integers(9000, int(settings.MAX_ORDER_QUANTITY)))
    request.body["quantity"] = quantity
    if request.kind == "market":
        return
    floor = settings.MAX_ORDER_NOTIONAL / quantity + 10
    price = draw(_cents(floor, floor + 500))
    request.body.update(dict.fromkeys(PRICES[request.kind], price))
    if request.kind == "bracket":
        below, above = round(price - 5, 2), round(price + 5, 2)
        buy = request.body["action"] == "BUY"
        request.body.update(stop_loss=below if buy else above, take_profit=above if buy else below)


def _denied_symbol(draw: Draw, request: Request) -> None:
    symbol = draw(st.sampled_from(DENIED))
    request.body["symbol"] = draw(st.sampled_from([symbol, symbol.lower()]))


def _bad_quantity(draw: Draw, request: Request) -> None:
    request.body["quantity"] = draw(
        st.one_of(
            st.sampled_from([0, -1, 1.5, 0.999, 1e308, -1e308, 10**30]),
            st.floats(min_value=fields.MAX_QUANTITY, exclude_min=True),
            st.floats(max_value=0),
            NOT_A_NUMBER,
            st.integers(1, 1000).map(str),
        )
    )


def _bad_price(draw: Draw, request: Request) -> None:
    if not PRICES[request.kind]:
        return _bad_quantity(draw, request)
    name = draw(st.sampled_from(PRICES[request.kind]))
    off_tick = _cents(1, 300).map(lambda p: p + 0.005)
    request.body[name] = draw(
        st.one_of(
            st.sampled_from([0, -0.01, 1e308, 1.7976931348623157e308, 5e-324, 0.00005, 10**30]),
            st.floats(min_value=fields.MAX_PRICE, exclude_min=True),
            off_tick,
            NOT_A_NUMBER,
        )
    )
    return None


def _bad_symbol(draw: Draw, request: Request) -> None:
    pattern = fields.SYMBOL_PATTERN
    request.body["symbol"] = draw(
        st.one_of(
            st.text(max_size=20).filter(lambda t: re.match(pattern, t) is None),
            st.sampled_from([" AAPL", "AAPL\n", "AAPL$", "1AAPL", "ABCDEFGHIJKLM"]),
            NOT_A_STRING,
        )
    )


def _bad_action(draw: Draw, request: Request) -> None:
    request.body["action"] = draw(
        st.one_of(st.text(max_size=6).filter(lambda t: t not in ("BUY", "SELL")), NOT_A_STRING)
    )


def _bad_order_ref(draw: Draw, request: Request) -> None:
    request.body["order_ref"] = draw(
        st.one_of(NOT_A_STRING, st.text(min_size=65, max_size=80), st.just("ref\x00"))
    )


def _unknown_field(draw: Draw, request: Request) -> None:
    name = draw(
        st.text(min_size=1, max_size=12).filter(lambda t: t not in REQUEST_FIELDS["bracket"])
    )
    request.body[name] = draw(st.one_of(st.integers(), st.text(max_size=5)))


def _missing_field(draw: Draw, request: Request) -> None:
    required = ["symbol", "action", "quantity", *PRICES[request.kind]]
    del request.body[draw(st.sampled_from(required))]


def _bracket_out_of_order(draw: Draw, request: Request) -> None:
    if request.kind != "bracket":
        return _missing_field(draw, request)
    body = request.body
    body["stop_loss"], body["take_profit"] = body["take_profit"], body["stop_loss"]
    return None


def _bad_idempotency_key(draw: Draw, request: Request) -> None:
    visible = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
    request.headers[IDEMPOTENCY_KEY] = draw(
        st.one_of(
            st.just(""),
            st.text(visible, min_size=KEY_MAX_LENGTH + 1, max_size=KEY_MAX_LENGTH + 20),
            st.tuples(st.text(visible, min_size=1), st.text(visible, min_size=1)).map("\t".join),
        )
    )


def _not_json_numbers(draw: Draw, request: Request) -> None:
    """Numbers Python's json would read (NaN, Infinity, 1e999, a 400-digit
    integer) or refuse, written into the raw body."""
    literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400]))
    name = draw(st.sampled_from(["quantity", *PRICES[request.kind]]))
    text = json.dumps({**request.body, name: "__NUMBER__"})
    request.raw = text.replace('"__NUMBER__"', literal)


BREAKERS: list[Callable[[Draw, Request], None]] = [
    _over_quantity_limit,
    _over_notional_limit,
    _denied_symbol,
    _bad_quantity,
    _bad_price,
    _bad_symbol,
    _bad_action,
    _bad_order_ref,
    _unknown_field,
    _missing_field,
    _bracket_out_of_order,
    _bad_idempotency_key,
    _not_json_numbers,
]


def _send(base: str, request: Request) -> requests.Response:
    data = request.raw if request.raw is not None else json.dumps(request.body)
    headers = {"Content-Type": "application/json", **request.headers}
    return requests.post(base + PATHS[request.kind], data=data, headers=headers, timeout=30)


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda breaker: breaker.__name__.strip("_"))
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_a_request_breaking_a_rule_or_limit_never_reaches_the_simulator(
    stack: Stack, denying: str, breaker: Callable[[Draw, Request], None], data: st.DataObject
) -> None:
    request = data.draw(valid_orders())
    breaker(data.draw, request)
    placed_before = stack.sim.call("counters")["place_messages"]

    response = _send(denying, request)

    context = f"{request.raw or request.body} {request.headers}"
    assert 400 <= response.status_code < 500, f"{context} -> {response.status_code} {response.text}"
    body = response.json()
    assert isinstance(body.get("detail"), str), context
    assert body["detail"], context
    assert set(body) <= {"detail", "errors"}, context
    assert stack.sim.call("counters")["place_messages"] == placed_before, context


def test_a_valid_order_on_the_same_server_does_reach_the_simulator(
    stack: Stack, denying: str
) -> None:
    """The property above cannot pass by refusing everything."""
    placed_before = stack.sim.call("counters")["place_messages"]
    body: dict[str, Any] = {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 1.0}

    response = requests.post(denying + "/order/limit", json=body, timeout=30)

    assert response.status_code == 200, response.text
    assert stack.sim.call("counters")["place_messages"] == placed_before + 1
