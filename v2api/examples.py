"""/v2's examples in /docs, each written once: requests as alpaca-py sends
them, answers as v2api renders them (ids from v2api.ids, decimals as strings,
times in UTC), errors as trading.error_handler renders the server's own
exceptions in Alpaca's ``{"code", "message"}``.

tests/v2/test_examples.py checks each against its operation's schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import OpenApiExample
from rest_framework.exceptions import APIException, ValidationError

from trading.error_handler import alpaca_error
from trading.exceptions import (
    GatewayTimeout,
    GatewayUnavailable,
    LimitExceeded,
    OrderNotFound,
    TradingHalted,
    WorkerError,
)
from v2api import activities, serializers, serializers_market
from v2api import serializers_account as forms
from v2api.exceptions import (
    AccountConfigurationFixed,
    AssetNotFound,
    OrderNotReplaceable,
    OrderUnknown,
    PositionNotFound,
)
from v2api.ids import account_uuid, asset_uuid, order_uuid
from v2api.schema import ORDER_EXAMPLE

ACCOUNT = "DU1234567"
# IB's conIds of the examples' stocks (the simulator's, ibsim/universe.py, too):
# an asset id is derived from one (v2api.ids.asset_uuid).
CON_IDS = {"AAPL": 265598, "MSFT": 272093, "XOM": 13977}
# IB's permIds: a limit order just placed, a market order filled, a bracket.
LIMIT_PERM_ID = 1_857_416_231
FILLED_PERM_ID = 1_857_416_198
BRACKET_PERM_IDS = (1_857_416_240, 1_857_416_241, 1_857_416_242)
ORDER_ID = str(order_uuid(LIMIT_PERM_ID))


def _response(name: str, value: Any, status: int = 200) -> OpenApiExample:
    """An answer's example; for a list answer, one item of it (drf-spectacular
    lists it, as it lists the answer's serializer)."""
    return OpenApiExample(name, value, response_only=True, status_codes=[str(status)])


def _request(name: str, value: dict[str, Any]) -> OpenApiExample:
    return OpenApiExample(name, value, request_only=True)


def _error(name: str, exc: APIException) -> OpenApiExample:
    """What the server answers for ``exc``, at the status it answers."""
    status, body = alpaca_error(exc)
    return _response(name, body, status)


def _invalid(name: str, form: Any) -> OpenApiExample:
    """The 422 the server answers for the query or body ``form`` refuses."""
    if form.is_valid():
        raise ValueError(f"{name}: the example's input is valid")
    return _error(name, ValidationError(form.errors))


# --- errors ------------------------------------------------------------------------------

GATEWAY_DOWN = _error("Gateway unreachable", GatewayUnavailable())
GATEWAY_TIMEOUT = _error("Gateway did not answer in time", GatewayTimeout())
WORKER_FAILED = _error("Worker failed", WorkerError())
HALTED = _error("Trading halted", TradingHalted())
ORDER_NOT_FOUND = _error("No such order", OrderUnknown())
ORDER_GONE = _error("Order already filled", OrderNotFound())
POSITION_NOT_FOUND = _error("No such position", PositionNotFound())
ASSET_NOT_FOUND = _error("No such asset", AssetNotFound())
CONFIGURATION_FIXED = _error("Not a setting here", AccountConfigurationFixed())
ACTIVITY_UNAVAILABLE = _error("Not available from IB", activities.ActivityTypeUnavailable())

# --- orders ------------------------------------------------------------------------------

LIMIT_REQUEST = ORDER_EXAMPLE
LIMIT_ORDER: dict[str, Any] = ORDER_EXAMPLE.value
MARKET_REQUEST = _request(
    "Market order",
    {"symbol": "MSFT", "qty": "5", "side": "buy", "type": "market", "time_in_force": "day"},
)
BRACKET_REQUEST = _request(
    "Bracket order",
    {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": "230.00",
        "client_order_id": "my-bracket-1",
        "order_class": "bracket",
        "take_profit": {"limit_price": "250.00"},
        "stop_loss": {"stop_price": "220.00"},
    },
)
TRAILING_STOP_REQUEST = _request(
    "Trailing stop",
    {
        "symbol": "XOM",
        "qty": "125",
        "side": "sell",
        "type": "trailing_stop",
        "time_in_force": "gtc",
        "trail_percent": "2.5",
    },
)
ORDER_REQUESTS = [LIMIT_REQUEST, MARKET_REQUEST, BRACKET_REQUEST, TRAILING_STOP_REQUEST]
_NO_LIMIT_PRICE = {k: v for k, v in LIMIT_ORDER.items() if k != "limit_price"}
ORDER_INVALID = _invalid("No limit price", serializers.order_request(_NO_LIMIT_PRICE))
FRACTIONAL_QTY = _invalid(
    "Fractional qty", serializers.order_request({**LIMIT_ORDER, "qty": "2.5"})
)


def _order(perm_id: int, symbol: str, **fields: Any) -> dict[str, Any]:
    """An order as v2api.mapping.order_out renders one: a working limit order
    unless ``fields`` say otherwise."""
    placed = "2026-01-05T15:34:06.512000Z"
    return {
        "id": str(order_uuid(perm_id)),
        "client_order_id": "my-order-1",
        "created_at": placed,
        "updated_at": placed,
        "submitted_at": placed,
        "filled_at": None,
        "expired_at": None,
        "expires_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(asset_uuid(CON_IDS[symbol])),
        "symbol": symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": "10",
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "simple",
        "order_type": "limit",
        "type": "limit",
        "side": "buy",
        "position_intent": None,
        "time_in_force": "day",
        "limit_price": "230",
        "stop_price": None,
        "status": "new",
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        **fields,
    }


LIMIT_ORDER_OUT = _order(LIMIT_PERM_ID, "AAPL")
FILLED_ORDER_OUT = _order(
    FILLED_PERM_ID,
    "MSFT",
    client_order_id="3f1b7c52-6a0e-4d8f-9b1a-2c4e5d6f7a80",
    updated_at="2026-01-05T14:31:02.208000Z",
    created_at="2026-01-05T14:31:01.934000Z",
    submitted_at="2026-01-05T14:31:01.934000Z",
    filled_at="2026-01-05T14:31:02.208000Z",
    qty="5",
    filled_qty="5",
    filled_avg_price="421.87",
    order_type="market",
    type="market",
    limit_price=None,
    status="filled",
)
_parent, _take_profit, _stop_loss = BRACKET_PERM_IDS
_bracket = {"client_order_id": "my-bracket-1", "order_class": "bracket", "time_in_force": "gtc"}
_exit = {**_bracket, "side": "sell"}  # the legs carry the entry's orderRef
BRACKET_ORDER_OUT = _order(
    _parent,
    "AAPL",
    **_bracket,
    legs=[
        _order(_take_profit, "AAPL", **_exit, limit_price="250", status="held"),
        _order(
            _stop_loss,
            "AAPL",
            **_exit,
            order_type="stop",
            type="stop",
            limit_price=None,
            stop_price="220",
            status="held",
        ),
    ],
)

ORDER = _response("A limit order", LIMIT_ORDER_OUT)
ORDERS = [ORDER, _response("A filled market order", FILLED_ORDER_OUT)]
BRACKET = _response("A bracket order (nested=true)", BRACKET_ORDER_OUT)

# A replacement: the limit order above, 12 shares at 231.5 (revision 1 of its permId).
REPLACE_REQUEST = _request("A new quantity and limit price", {"qty": "12", "limit_price": "231.5"})
REPLACED = _response(
    "The new order, which replaces the old one",
    _order(
        LIMIT_PERM_ID,
        "AAPL",
        id=str(order_uuid(LIMIT_PERM_ID, 1)),
        client_order_id="5b0e2d1c-7f3a-4c9e-8d6b-1a2b3c4d5e6f",
        updated_at="2026-01-05T15:40:12.118000Z",
        replaces=ORDER_ID,
        qty="12",
        limit_price="231.5",
    ),
)
NOT_REPLACEABLE = _error(
    "Not open any more", OrderNotReplaceable("order is not open (filled, canceled or expired)")
)
REPLACE_INVALID = _invalid(
    "Nothing to change", serializers.AlpacaReplaceOrder(data={"client_order_id": "x"})
)
_gone_status, _gone = alpaca_error(OrderNotFound())
CANCEL_ALL = [
    _response(
        "Canceled",
        {
            "id": ORDER_ID,
            "status": 200,
            "body": {
                **LIMIT_ORDER_OUT,
                "updated_at": "2026-01-05T15:40:12.044000Z",
                "canceled_at": "2026-01-05T15:40:12.044000Z",
                "status": "canceled",
            },
        },
        207,
    ),
    _response(
        "Filled meanwhile",
        {"id": str(order_uuid(FILLED_PERM_ID)), "status": _gone_status, "body": _gone},
        207,
    ),
]
PREVIEW = _response(
    "IB's what-if",
    {
        "commission": "1",
        "min_commission": "1",
        "max_commission": "1",
        "commission_currency": "USD",
        "init_margin_before": "9623.4",
        "init_margin_change": "575",
        "init_margin_after": "10198.4",
        "maint_margin_before": "8748.55",
        "maint_margin_change": "522.73",
        "maint_margin_after": "9271.28",
        "equity_with_loan_before": "101527.55",
        "equity_with_loan_change": "-1",
        "equity_with_loan_after": "101526.55",
        "warning_text": "",
    },
)

# --- account and positions ---------------------------------------------------------------

ACCOUNT_OUT = _response(
    "A paper account",
    {
        "id": str(account_uuid(ACCOUNT)),
        "account_number": ACCOUNT,
        "status": "ACTIVE",
        "crypto_status": None,
        "currency": "USD",
        "buying_power": "232000",
        "regt_buying_power": None,
        "daytrading_buying_power": None,
        "non_marginable_buying_power": None,
        "options_buying_power": None,
        "cash": "63210.55",
        "accrued_fees": None,
        "pending_transfer_out": None,
        "pending_transfer_in": None,
        "portfolio_value": "101527.55",
        "equity": "101527.55",
        "last_equity": None,
        "long_market_value": "38317",
        "short_market_value": "0",
        "initial_margin": None,
        "maintenance_margin": None,
        "last_maintenance_margin": None,
        "sma": None,
        "multiplier": "4",
        "pattern_day_trader": None,
        "trading_blocked": False,
        "transfers_blocked": None,
        "account_blocked": None,
        "trade_suspended_by_user": False,
        "shorting_enabled": None,
        "daytrade_count": None,
        "created_at": None,
        "options_approved_level": None,
        "options_trading_level": None,
    },
)
CONFIGURATION = _response(
    "What this service does",
    {
        "dtbp_check": None,
        "fractional_trading": False,
        "max_margin_multiplier": "4",
        "no_shorting": False,
        "pdt_check": None,
        "suspend_trade": False,
        "trade_confirm_email": "none",
        "ptp_no_exception_entry": False,
        "max_options_trading_level": None,
    },
)
CONFIGURATION_REQUEST = _request("Suspend trading", {"suspend_trade": True})


def _position(symbol: str, qty: str, avg: str, price: str, **values: str) -> dict[str, Any]:
    return {
        "asset_id": str(asset_uuid(CON_IDS[symbol])),
        "symbol": symbol,
        "exchange": "",
        "asset_class": "us_equity",
        "asset_marginable": None,
        "avg_entry_price": avg,
        "qty": qty,
        "qty_available": None,
        "side": "long",
        "current_price": price,
        "unrealized_intraday_pl": None,
        "unrealized_intraday_plpc": None,
        "lastday_price": None,
        "change_today": None,
        **values,
    }


AAPL_POSITION = _position(
    "AAPL",
    "100",
    "221.35",
    "236.42",
    market_value="23642",
    cost_basis="22135",
    unrealized_pl="1507",
    unrealized_plpc="0.0680822227",
)
XOM_POSITION = _position(
    "XOM",
    "125",
    "117.61",
    "117.4",
    market_value="14675",
    cost_basis="14701.25",
    unrealized_pl="-26.25",
    unrealized_plpc="-0.0017855625",
)
POSITION = _response("AAPL", AAPL_POSITION)
POSITIONS = [POSITION, _response("XOM", XOM_POSITION)]
_closing = {
    "client_order_id": "8d0c7f3e-52a1-4b6e-a7c9-0f1e2d3c4b5a",
    "order_type": "market",
    "type": "market",
    "limit_price": None,
    "side": "sell",
}
CLOSING_ORDER_OUT = _order(1_857_416_260, "AAPL", **_closing, qty="100")
CLOSE = _response("A market order for the whole position", CLOSING_ORDER_OUT)
_refused_status, _refused = alpaca_error(
    LimitExceeded("Symbol XOM is on the deny list (SYMBOL_DENYLIST)")
)
CLOSE_ALL = [
    _response("Closed", {"symbol": "AAPL", "status": 200, "body": CLOSING_ORDER_OUT}, 207),
    _response("Refused", {"symbol": "XOM", "status": _refused_status, "body": _refused}, 207),
]
CLOSE_INVALID = _invalid(
    "Percentage above 100",
    forms.AlpacaClosePositionQuery(data={"percentage": "150"}),
)

# --- activities and P&L -----------------------------------------------------------------

FILL = _response(
    "A partial fill",
    {
        "id": activities.activity_id(48213, dt.datetime(2026, 1, 5, 15, 34, 6, 977000, dt.UTC)),
        "account_id": str(account_uuid(ACCOUNT)),
        "activity_type": activities.FILL,
        "transaction_time": "2026-01-05T15:34:06.977000Z",
        "type": "partial_fill",
        "price": "117.61",
        "qty": "100",
        "side": "buy",
        "symbol": "XOM",
        "leaves_qty": "25",
        "cum_qty": "100",
        "order_id": str(order_uuid(1_857_416_105)),
        "order_status": "partially_filled",
    },
)
PNL = _response(
    "P&L",
    {
        "account_number": ACCOUNT,
        "daily_pl": "-12.5",
        "unrealized_pl": "1480.75",
        "realized_pl": "0",
    },
)

# --- market ------------------------------------------------------------------------------

CLOCK = _response(
    "Before the open",
    {
        "timestamp": "2026-11-27T08:15:02.512345-05:00",
        "is_open": False,
        "next_open": "2026-11-27T09:30:00-05:00",
        "next_close": "2026-11-27T13:00:00-05:00",
    },
)
CALENDAR = _response(
    "The day after Thanksgiving",
    {
        "date": "2026-11-27",
        "open": "09:30",
        "close": "13:00",
        "session_open": "0400",
        "session_close": "1700",
        "settlement_date": "2026-11-30",
    },
)
CALENDAR_INVALID = _invalid(
    "Invalid date", serializers_market.AlpacaCalendarQuery(data={"start": "2026-13-01"})
)
_AAPL = {
    "id": str(asset_uuid(CON_IDS["AAPL"])),
    "class": "us_equity",
    "exchange": "NASDAQ",
    "symbol": "AAPL",
    "name": "APPLE INC",
    "status": "active",
    "tradable": True,
    "marginable": True,
    "shortable": True,
    "easy_to_borrow": False,
    "fractionable": False,
    "min_order_size": None,
    "min_trade_increment": None,
    "price_increment": 0.01,
    "maintenance_margin_requirement": None,
    "attributes": [],
}
ASSET = _response("AAPL", _AAPL)
ASSETS_INVALID = _invalid(
    "Unknown asset class", serializers_market.AlpacaAssetsQuery(data={"asset_class": "bond"})
)

# --- path parameters ---------------------------------------------------------------------

ORDER_ID_PARAMETER = OpenApiExample("The limit order", ORDER_ID)
SYMBOL_PARAMETER = OpenApiExample("A symbol", "AAPL")
ASSET_ID_PARAMETER = OpenApiExample("An asset id", str(asset_uuid(CON_IDS["AAPL"])))
