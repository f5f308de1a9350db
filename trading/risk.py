"""Pre-trade checks: the limits from settings, the kill switch, live vs paper."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from trading.exceptions import (
    GlobalCancelRefused,
    LimitExceeded,
    LiveTradingRefused,
    TradingHalted,
)
from trading.models import ApiToken

# Prices an order request may carry (trading.gateway.order_building); a
# trailing amount (trail_price) is a distance, not a price.
PRICE_FIELDS = (
    "limit_price",
    "stop_price",
    "entry_price",
    "stop_loss",
    "stop_loss_limit",
    "take_profit",
)
LIVE_TRADING_OFF = (
    "The gateway is connected to a live account: orders are refused because "
    "LIVE_TRADING is off (paper trading only)"
)
LIVE_SCOPE_NEEDED = (
    "The gateway is connected to a live account: only a token with the 'live' "
    "scope may place orders"
)


def trading_mode(beat: dict[str, Any]) -> str:
    """paper only for a paper account (DU...) on a port that is not a live
    one; live otherwise, an unknown account included (the safe side).  The
    one rule: the web asks it of the worker's heartbeat, the worker of its own
    port and account."""
    account = str(beat.get("account") or "")
    if int(beat.get("port") or 0) in settings.LIVE_PORTS or not account.startswith("DU"):
        return "live"
    return "paper"


def symbol_refusal(symbol: str) -> str:
    """Why SYMBOL_ALLOWLIST / SYMBOL_DENYLIST refuse ``symbol`` ("" if they do
    not; /v2/assets' ``tradable`` asks the same)."""
    if settings.SYMBOL_ALLOWLIST and symbol not in settings.SYMBOL_ALLOWLIST:
        return f"Symbol {symbol} is not in the allowed list (SYMBOL_ALLOWLIST)"
    if symbol in settings.SYMBOL_DENYLIST:
        return f"Symbol {symbol} is on the deny list (SYMBOL_DENYLIST)"
    return ""


def limits_check(*, data: dict[str, Any]) -> None:
    refusal = symbol_refusal(data["symbol"])
    if refusal:
        raise LimitExceeded(refusal)
    quantity = float(data["quantity"])
    if settings.MAX_ORDER_QUANTITY and quantity > settings.MAX_ORDER_QUANTITY:
        raise LimitExceeded(
            f"Quantity {quantity:g} exceeds the maximum of {settings.MAX_ORDER_QUANTITY:g} "
            "shares per order (MAX_ORDER_QUANTITY)"
        )
    prices = [float(data[name]) for name in PRICE_FIELDS if data.get(name) is not None]
    if prices:
        notional_check(quantity=quantity, price=max(prices))
    # An order without a price (market, market on close, trailing stop): the
    # worker checks it against a reference price when it has qualified the
    # contract (trading.gateway.orders).


def priced(data: dict[str, Any]) -> bool:
    """Whether limits_check could check the request's notional (it names a price)."""
    return any(data.get(name) is not None for name in PRICE_FIELDS)


def notional_refusal(*, quantity: float, price: float | None, symbol: str = "") -> str:
    """Why an order of ``quantity`` at ``price`` breaks MAX_ORDER_NOTIONAL ("" if
    it does not).  ``price`` None: no price is known (a market order without a
    quote), which a set limit cannot let through."""
    if not settings.MAX_ORDER_NOTIONAL:
        return ""
    if price is None:
        return (
            f"No reference price is known for {symbol}, so a market order cannot be "
            "checked against MAX_ORDER_NOTIONAL: send a limit order"
        )
    notional = quantity * price
    if notional > settings.MAX_ORDER_NOTIONAL:
        return (
            f"Notional {notional:,.2f} exceeds the maximum of "
            f"{settings.MAX_ORDER_NOTIONAL:,.2f} per order (MAX_ORDER_NOTIONAL)"
        )
    return ""


def notional_check(*, quantity: float, price: float) -> None:
    refusal = notional_refusal(quantity=quantity, price=price)
    if refusal:
        raise LimitExceeded(refusal)


def global_cancel_check(token: ApiToken | None) -> None:
    """IB's global cancel reaches every client's orders (TWS, other scripts):
    a 'live' token's, or a 'trade' token's (and the local demo's) where
    GLOBAL_CANCEL_TRADE_SCOPE allows it."""
    if not (live_scope(token) or settings.GLOBAL_CANCEL_TRADE_SCOPE):
        raise GlobalCancelRefused()


def halt_check(halted: str | None) -> None:
    """The kill switch as the database said when the request was recorded
    (trading.audit reads it in the same statement): its reason, or None."""
    if halted is not None:
        reason = f": {halted}" if halted else ""
        raise TradingHalted(
            f"Trading is halted (kill switch){reason}. New orders are refused; cancels still work."
        )


def live_scope(token: ApiToken | None) -> bool:
    return token is not None and token.scope == ApiToken.LIVE


def live_refusal(mode: str, *, live_scope: bool) -> str:
    """Why an order may not go to an account in ``mode`` ("" if it may):
    LIVE_TRADING on and a token with the 'live' scope, for a live account.
    The one rule: the web asks it of the worker's heartbeat, the worker of
    its own connection, with the scope the web sends along."""
    if mode != "live":
        return ""
    if not settings.LIVE_TRADING:
        return LIVE_TRADING_OFF
    return "" if live_scope else LIVE_SCOPE_NEEDED


def live_check(*, beat: dict[str, Any], token: ApiToken | None) -> None:
    refusal = live_refusal(trading_mode(beat), live_scope=live_scope(token))
    if refusal:
        raise LiveTradingRefused(refusal)
