"""Pre-trade checks: the limits from settings, the kill switch, live vs paper."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from trading.exceptions import LimitExceeded, LiveTradingRefused, TradingHalted
from trading.models import ApiToken, TradingControl

PRICE_FIELDS = ("limit_price", "stop_price", "entry_price", "stop_loss", "take_profit")


def trading_mode(beat: dict[str, Any]) -> str:
    """live when the gateway port is a live one or the account is not a paper
    (DU...) account; paper otherwise."""
    account = str(beat.get("account") or "")
    if int(beat.get("port") or 0) in settings.LIVE_PORTS:
        return "live"
    if account and not account.startswith("DU"):
        return "live"
    return "paper"


def limits_check(*, data: dict[str, Any]) -> None:
    symbol = data["symbol"]
    if settings.SYMBOL_ALLOWLIST and symbol not in settings.SYMBOL_ALLOWLIST:
        raise LimitExceeded(f"Symbol {symbol} is not in the allowed list (SYMBOL_ALLOWLIST)")
    if symbol in settings.SYMBOL_DENYLIST:
        raise LimitExceeded(f"Symbol {symbol} is on the deny list (SYMBOL_DENYLIST)")
    quantity = float(data["quantity"])
    if settings.MAX_ORDER_QUANTITY and quantity > settings.MAX_ORDER_QUANTITY:
        raise LimitExceeded(
            f"Quantity {quantity:g} exceeds the maximum of {settings.MAX_ORDER_QUANTITY:g} "
            "shares per order (MAX_ORDER_QUANTITY)"
        )
    prices = [float(data[name]) for name in PRICE_FIELDS if data.get(name) is not None]
    if prices and settings.MAX_ORDER_NOTIONAL:
        notional = quantity * max(prices)
        if notional > settings.MAX_ORDER_NOTIONAL:
            raise LimitExceeded(
                f"Notional {notional:,.2f} exceeds the maximum of "
                f"{settings.MAX_ORDER_NOTIONAL:,.2f} per order (MAX_ORDER_NOTIONAL)"
            )


def halt_check() -> None:
    control = TradingControl.objects.filter(halted=True).first()
    if control is not None:
        reason = f": {control.reason}" if control.reason else ""
        raise TradingHalted(
            f"Trading is halted (kill switch){reason}. New orders are refused; cancels still work."
        )


def live_check(*, beat: dict[str, Any], token: ApiToken | None) -> None:
    if trading_mode(beat) != "live":
        return
    if not settings.LIVE_TRADING:
        raise LiveTradingRefused(
            "The gateway is connected to a live account: orders are refused because "
            "LIVE_TRADING is off (paper trading only)"
        )
    if token is None or token.scope != ApiToken.LIVE:
        raise LiveTradingRefused(
            "The gateway is connected to a live account: only a token with the 'live' "
            "scope may place orders"
        )
