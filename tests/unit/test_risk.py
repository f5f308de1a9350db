"""Pre-trade rules: trading mode, limits, symbol lists (settings only, no stack)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from trading import risk
from trading.exceptions import LimitExceeded


@pytest.mark.parametrize(
    ("port", "account", "mode"),
    [
        (4002, "DU1234567", "paper"),
        (4012, "DU1234567", "paper"),
        (4001, "DU1234567", "live"),  # a live port, whatever the account
        (7496, "DU1234567", "live"),
        (4002, "U1234567", "live"),  # a live account on a paper port
        (4002, "", "live"),  # unknown: the safe side
    ],
)
def test_trading_mode(port: int, account: str, mode: str) -> None:
    assert risk.trading_mode({"port": port, "account": account}) == mode


def order(**changes: object) -> dict[str, object]:
    return {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.0, **changes}


@override_settings(MAX_ORDER_QUANTITY=100, MAX_ORDER_NOTIONAL=10_000)
def test_limits_pass_an_order_inside_them() -> None:
    risk.limits_check(data=order())


@override_settings(MAX_ORDER_QUANTITY=100)
def test_a_quantity_over_the_limit_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="MAX_ORDER_QUANTITY"):
        risk.limits_check(data=order(quantity=101))


@override_settings(MAX_ORDER_NOTIONAL=2_000)
def test_the_notional_is_quantity_times_the_highest_price_of_a_bracket() -> None:
    bracket = order(quantity=8, limit_price=None, entry_price=230.0, take_profit=260.0)

    with pytest.raises(LimitExceeded, match=r"Notional 2,080\.00"):
        risk.limits_check(data=bracket)


@override_settings(SYMBOL_ALLOWLIST=["MSFT"], SYMBOL_DENYLIST=[])
def test_a_symbol_outside_the_allowlist_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="SYMBOL_ALLOWLIST"):
        risk.limits_check(data=order())
    risk.limits_check(data=order(symbol="MSFT"))


@override_settings(SYMBOL_ALLOWLIST=[], SYMBOL_DENYLIST=["AAPL"])
def test_a_symbol_on_the_denylist_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="SYMBOL_DENYLIST"):
        risk.limits_check(data=order())
    risk.limits_check(data=order(symbol="MSFT"))


@pytest.mark.parametrize(
    ("mode", "live_trading", "live_scope", "refusal"),
    [
        ("paper", False, False, ""),
        ("live", False, True, risk.LIVE_TRADING_OFF),
        ("live", True, False, risk.LIVE_SCOPE_NEEDED),
        ("live", True, True, ""),
    ],
)
def test_the_live_rule_the_web_and_the_worker_both_ask(
    mode: str, live_trading: bool, live_scope: bool, refusal: str
) -> None:
    """Since issue 18 the web reads the heartbeat in the round trip that sends
    the order, so the worker (which then usually has it already) applies the
    whole rule too, with the token's scope the web sends along."""
    with override_settings(LIVE_TRADING=live_trading):
        assert risk.live_refusal(mode, live_scope=live_scope) == refusal
