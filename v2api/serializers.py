"""/v2's request shapes (Alpaca's field names; strict: unknown fields are
refused, and Alpaca's fields this service does not support yet are refused by
name) and the output serializers that render every answer.  Component names
start with ``Alpaca`` so they never collide with the root API's."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from trading import serializers as trading_serializers
from trading.fields import DateTimeField, QueryIntegerField, SymbolField, TextField
from trading.serializers import OutSerializer, StrictSerializer
from v2api.fields import (
    AlpacaPriceField,
    AlpacaQuantityField,
    FalseOnlyField,
    SupportedChoiceField,
)

# Alpaca's enums, named in the schema by SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES.
ORDER_TYPES = ["market", "limit", "stop", "stop_limit", "trailing_stop"]
LIMIT_ONLY = ["limit"]  # the type of a limit order and of an oco order (two shapes)
SIDES = ["buy", "sell"]
TIME_IN_FORCE = ["day", "gtc", "opg", "cls", "ioc", "fok"]
# opg and cls (the auctions) are for market and limit orders only, as at Alpaca.
STOP_TIME_IN_FORCE = ["day", "gtc"]
ORDER_CLASSES = ["simple", "bracket", "oco", "oto"]
# The classes of an order with an entry (oco has none: its own shape).
LINKED_CLASSES = ["simple", "bracket", "oto"]
# The statuses v2api.mapping.order_status gives (Alpaca's suspended,
# stopped, calculated, pending_review and accepted_for_bidding have no IB
# counterpart: IB never reports an order in such a state).
ORDER_STATUSES = [
    "accepted",
    "pending_new",
    "new",
    "held",
    "partially_filled",
    "filled",
    "done_for_day",
    "pending_cancel",
    "pending_replace",
    "canceled",
    "expired",
    "rejected",
    "replaced",
]
# The time in force of an order with legs: day or gtc, as at Alpaca.
CLASS_TIME_IN_FORCE = ("day", "gtc")
MARGIN_CHECKS = ["both", "entry", "exit"]
UNSUPPORTED_CLASSES = ["mleg"]
# Alpaca's order fields this service does not take, and why.
UNSUPPORTED_FIELDS = {
    "notional": "notional orders are not supported: send qty (whole shares; IB's API takes "
    "whole shares here).",
    "legs": "multi-leg (mleg) orders are not supported.",
    "position_intent": "position_intent is not supported: send side.",
}
PRICE_FIELDS = ("limit_price", "stop_price", "trail_price", "trail_percent")
CLIENT_ORDER_ID_MAX_LENGTH = 128  # Alpaca's limit
MAX_ORDERS_PAGE = 500


class AlpacaTakeProfit(StrictSerializer):
    limit_price = AlpacaPriceField(help_text="The take-profit's limit price")


class AlpacaStopLoss(StrictSerializer):
    stop_price = AlpacaPriceField(help_text="The stop-loss's stop price")
    limit_price = AlpacaPriceField(
        required=False, help_text="A stop-limit stop-loss's limit price (absent: a stop)"
    )


def _tif(supported: list[str], kind: str) -> SupportedChoiceField:
    others = [t for t in TIME_IN_FORCE if t not in supported]
    help_text = ", ".join(supported)
    return SupportedChoiceField(
        supported=supported,
        unsupported=others,
        refused=f"not accepted for a {kind} order",
        help_text=help_text,
    )


def _classes(supported: list[str], kind: str) -> SupportedChoiceField:
    others = [c for c in ORDER_CLASSES if c not in supported]
    return SupportedChoiceField(
        supported=[*supported, ""],
        unsupported=others + UNSUPPORTED_CLASSES,
        refused=f"not accepted for a {kind} order",
        required=False,
        allow_blank=True,
        help_text=", ".join(supported) + ' ("" is simple)',
    )


class AlpacaOrder(StrictSerializer):
    symbol = SymbolField(help_text="Stock symbol, e.g. AAPL (either case; upper-cased)")
    qty = AlpacaQuantityField(help_text='Whole shares, a number or a string ("10")')
    side = serializers.ChoiceField(choices=SIDES)
    type = serializers.ChoiceField(choices=ORDER_TYPES)
    time_in_force = serializers.ChoiceField(choices=TIME_IN_FORCE)
    limit_price = AlpacaPriceField(required=False, help_text="Limit and stop-limit orders")
    stop_price = AlpacaPriceField(required=False, help_text="Stop and stop-limit orders")
    trail_price = AlpacaPriceField(
        required=False, help_text="Trailing stop: the trailing amount in dollars"
    )
    trail_percent = AlpacaPriceField(
        required=False, help_text="Trailing stop: the trailing amount in percent"
    )
    client_order_id = TextField(
        required=False,
        max_length=CLIENT_ORDER_ID_MAX_LENGTH,
        help_text="Unique; IB's orderRef. A UUID is generated when it is absent",
    )
    order_class = SupportedChoiceField(
        supported=[*ORDER_CLASSES, ""],
        unsupported=UNSUPPORTED_CLASSES,
        required=False,
        allow_blank=True,
        help_text='simple, bracket, oco, oto ("" is simple)',
    )
    extended_hours = FalseOnlyField(required=False, help_text="Limit orders with day only")
    take_profit = AlpacaTakeProfit(required=False, help_text="bracket, oco, oto: the limit exit")
    stop_loss = AlpacaStopLoss(required=False, help_text="bracket, oco, oto: the stop exit")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            refused = {name: [why] for name, why in UNSUPPORTED_FIELDS.items() if name in data}
            kind = data.get("type")
            for name in PRICE_FIELDS:
                if name in data and name not in self.fields and isinstance(kind, str):
                    refused[name] = [f"{name} is not accepted for a {kind} order."]
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        order_class = attrs.get("order_class") or "simple"
        attrs["order_class"] = order_class
        exits = [name for name in ("take_profit", "stop_loss") if name in attrs]
        if order_class == "simple" and exits:
            raise serializers.ValidationError(
                {name: ["Only for bracket, oco and oto orders."] for name in exits}
            )
        if order_class in ("bracket", "oco") and len(exits) < 2:
            raise serializers.ValidationError(
                f"{order_class} orders require take_profit.limit_price and stop_loss.stop_price."
            )
        if order_class == "oto" and len(exits) != 1:
            raise serializers.ValidationError(
                "oto orders require either take_profit or stop_loss (one of them)."
            )
        if order_class != "simple" and attrs["time_in_force"] not in CLASS_TIME_IN_FORCE:
            raise serializers.ValidationError(
                {"time_in_force": [f"{order_class} orders take day or gtc."]}
            )
        return attrs


def _only(kind: str) -> SupportedChoiceField:
    others = [k for k in ORDER_TYPES if k != kind]
    return SupportedChoiceField(supported=[kind], unsupported=others)


class AlpacaMarketOrder(AlpacaOrder):
    type = _only("market")
    order_class = _classes(LINKED_CLASSES, "market")
    limit_price = None  # type: ignore[assignment]
    stop_price = None  # type: ignore[assignment]
    trail_price = None  # type: ignore[assignment]
    trail_percent = None  # type: ignore[assignment]


class AlpacaLimitOrder(AlpacaOrder):
    type = _only("limit")
    order_class = _classes(LINKED_CLASSES, "limit")
    limit_price = AlpacaPriceField(help_text="Limit price (a multiple of 0.01; of 0.0001 below 1)")
    stop_price = None  # type: ignore[assignment]
    trail_price = None  # type: ignore[assignment]
    trail_percent = None  # type: ignore[assignment]
    extended_hours = serializers.BooleanField(  # type: ignore[assignment]
        required=False,
        help_text="true: also outside regular hours (time_in_force day, order_class simple)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("extended_hours") and (
            attrs["time_in_force"] != "day" or attrs["order_class"] != "simple"
        ):
            raise serializers.ValidationError(
                {"extended_hours": ["true only with time_in_force day (and order_class simple)."]}
            )
        return attrs


class AlpacaOcoOrder(AlpacaOrder):
    """Exits of a position held: a take-profit and a stop-loss, one cancels
    the other (``type`` limit and ``order_class`` oco)."""

    type = _only("limit")
    order_class = SupportedChoiceField(supported=["oco"], unsupported=[])
    time_in_force = _tif(list(CLASS_TIME_IN_FORCE), "oco")
    limit_price = None  # type: ignore[assignment]
    stop_price = None  # type: ignore[assignment]
    trail_price = None  # type: ignore[assignment]
    trail_percent = None  # type: ignore[assignment]
    take_profit = AlpacaTakeProfit(help_text="The limit exit")
    stop_loss = AlpacaStopLoss(help_text="The stop exit")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "limit_price" in data:
            raise serializers.ValidationError(
                {"limit_price": ["An oco order's limit price is take_profit.limit_price."]}
            )
        return super().to_internal_value(data)


class AlpacaStopOrder(AlpacaOrder):
    type = _only("stop")
    time_in_force = _tif(STOP_TIME_IN_FORCE, "stop")
    order_class = _classes(LINKED_CLASSES, "stop")
    stop_price = AlpacaPriceField(help_text="Stop price (a multiple of 0.01; of 0.0001 below 1)")
    limit_price = None  # type: ignore[assignment]
    trail_price = None  # type: ignore[assignment]
    trail_percent = None  # type: ignore[assignment]


class AlpacaStopLimitOrder(AlpacaOrder):
    type = _only("stop_limit")
    time_in_force = _tif(STOP_TIME_IN_FORCE, "stop_limit")
    order_class = _classes(LINKED_CLASSES, "stop_limit")
    stop_price = AlpacaPriceField(help_text="Stop (trigger) price")
    limit_price = AlpacaPriceField(help_text="Limit price once triggered")
    trail_price = None  # type: ignore[assignment]
    trail_percent = None  # type: ignore[assignment]


class AlpacaTrailingStopOrder(AlpacaOrder):
    type = _only("trailing_stop")
    time_in_force = _tif(STOP_TIME_IN_FORCE, "trailing_stop")
    order_class = _classes(["simple"], "trailing_stop")
    limit_price = None  # type: ignore[assignment]
    stop_price = None  # type: ignore[assignment]
    take_profit = None  # type: ignore[assignment]
    stop_loss = None  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        given = [name for name in ("trail_price", "trail_percent") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                "trailing_stop orders take either trail_price or trail_percent (one of them)."
            )
        return attrs


ORDER_REQUESTS: dict[str, type[AlpacaOrder]] = {
    "market": AlpacaMarketOrder,
    "limit": AlpacaLimitOrder,
    "stop": AlpacaStopOrder,
    "stop_limit": AlpacaStopLimitOrder,
    "trailing_stop": AlpacaTrailingStopOrder,
}


def order_request(data: Any) -> AlpacaOrder:
    """The request serializer for the order's ``type`` (the one that names
    every type when ``type`` is missing or not one)."""
    kind = data.get("type") if isinstance(data, dict) else None
    form_class = ORDER_REQUESTS.get(kind) if isinstance(kind, str) else None
    if form_class is AlpacaLimitOrder and data.get("order_class") == "oco":
        form_class = AlpacaOcoOrder
    return (form_class or AlpacaOrder)(data=data)


class QuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A query string's values as sent: each parameter at most once, and an
    empty value is a value (as trading.serializers.ExecutionsQuery reads them)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "lists"):
            repeated = {
                name: ["Given more than once."]
                for name, values in data.lists()
                if name in self.fields and len(values) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
            data = {name: values[-1] for name, values in data.lists()}
        return super().to_internal_value(data)


SYMBOLS_PATTERN = r"^[A-Za-z][A-Za-z0-9.]{0,11}(?:,[A-Za-z][A-Za-z0-9.]{0,11}){0,99}\Z"


class AlpacaOrdersQuery(QuerySerializer):
    status = serializers.ChoiceField(choices=["open", "closed", "all"], default="open")
    limit = QueryIntegerField(default=50, min_value=1, max_value=MAX_ORDERS_PAGE)
    after = DateTimeField(required=False, help_text="Submitted after it (RFC 3339)")
    until = DateTimeField(required=False, help_text="Submitted before it (RFC 3339)")
    direction = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    symbols = serializers.RegexField(
        SYMBOLS_PATTERN,
        required=False,
        max_length=1300,
        help_text="Comma-separated symbols, e.g. AAPL,MSFT (at most 100)",
    )
    side = serializers.ChoiceField(choices=SIDES, required=False)
    nested = serializers.BooleanField(
        default=False,
        help_text="true: the legs of bracket, oto and oco orders rolled up into their "
        "first order's legs",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("symbols"):
            attrs["symbols"] = sorted({s.upper() for s in attrs["symbols"].split(",")})
        return attrs


REPLACEABLE = ("qty", "time_in_force", "limit_price", "stop_price", "trail")


class AlpacaReplaceOrder(StrictSerializer):
    """Alpaca's replacement of an order (PATCH /v2/orders/{id}): what changes."""

    qty = AlpacaQuantityField(required=False, help_text="The new quantity (whole shares)")
    time_in_force = serializers.ChoiceField(
        choices=[t for t in TIME_IN_FORCE if t != "cls"], required=False
    )
    limit_price = AlpacaPriceField(required=False, help_text="Limit and stop-limit orders")
    stop_price = AlpacaPriceField(required=False, help_text="Stop and stop-limit orders")
    trail = AlpacaPriceField(
        required=False,
        help_text="Trailing stop: the new trailing amount, in dollars or in percent as the order's",
    )
    client_order_id = TextField(
        required=False,
        max_length=CLIENT_ORDER_ID_MAX_LENGTH,
        help_text="Unique; the new order's (IB's orderRef). A UUID is generated when it is absent",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not set(REPLACEABLE) & set(attrs):
            raise serializers.ValidationError(
                "Name what to change: qty, time_in_force, limit_price, stop_price or trail."
            )
        return attrs


class AlpacaOrderQuery(QuerySerializer):
    nested = serializers.BooleanField(
        default=False, help_text="true: a bracket's, oto's or oco's legs in its legs"
    )


class AlpacaCancelAllQuery(QuerySerializer):
    scope = serializers.ChoiceField(
        choices=["ours", "all"],
        default="ours",
        help_text="ours: the orders this service placed, one by one; all: IB's global "
        "cancel of every client's orders (a 'live' token, or GLOBAL_CANCEL_TRADE_SCOPE)",
    )


class AlpacaClientOrderIdQuery(QuerySerializer):
    client_order_id = TextField(max_length=CLIENT_ORDER_ID_MAX_LENGTH)


# --- output --------------------------------------------------------------------------


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


def _number(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("help_text", "A decimal string; null where IB did not report it")
    return serializers.CharField(allow_null=True, **kwargs)


def _time(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=True, **kwargs)


class AlpacaOrderLegOut(OutSerializer):
    """An order (a leg of a bracket, oto or oco order, or one on its own)."""

    id = serializers.UUIDField(help_text="Derived from IB's permId (reversible)")
    client_order_id = serializers.CharField(allow_blank=True, help_text="IB's orderRef")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField()
    filled_at = _time()
    expired_at = _time()
    expires_at = _time()
    canceled_at = _time()
    failed_at = _time()
    replaced_at = _time()
    replaced_by = serializers.UUIDField(allow_null=True)
    replaces = serializers.UUIDField(allow_null=True)
    asset_id = serializers.UUIDField(
        allow_null=True,
        help_text="Derived from IB's conId (see v2api/README.md); null for an order stored "
        "before conIds were kept whose symbol's conId is not known",
    )
    symbol = serializers.CharField()
    asset_class = serializers.ChoiceField(choices=["us_equity"])
    notional = _number()
    qty = _number()
    filled_qty = _number()
    filled_avg_price = _number()
    order_class = serializers.ChoiceField(choices=ORDER_CLASSES)
    order_type = serializers.ChoiceField(choices=ORDER_TYPES, allow_null=True)
    type = serializers.ChoiceField(choices=ORDER_TYPES, allow_null=True)
    side = serializers.ChoiceField(choices=SIDES)
    position_intent = _text()
    time_in_force = serializers.ChoiceField(choices=TIME_IN_FORCE)
    limit_price = _number()
    stop_price = _number()
    status = serializers.ChoiceField(choices=ORDER_STATUSES)
    extended_hours = serializers.BooleanField(help_text="IB's outsideRth")
    legs = serializers.ListField(
        child=serializers.DictField(), allow_null=True, help_text="Always null in a leg"
    )
    trail_percent = _number(help_text="Trailing stop: IB's trailingPercent")
    trail_price = _number(help_text="Trailing stop: the trailing amount (IB's auxPrice)")
    hwm = _number()


class AlpacaOrderOut(AlpacaOrderLegOut):
    legs = AlpacaOrderLegOut(  # type: ignore[assignment]
        many=True,
        allow_null=True,
        help_text="The other orders of a bracket, oto or oco order (nested); else null",
    )


class AlpacaPositionOut(OutSerializer):
    asset_id = serializers.UUIDField(help_text="Derived from IB's conId (see v2api/README.md)")
    symbol = serializers.CharField()
    exchange = serializers.CharField(allow_blank=True, help_text="Empty: IB does not say")
    asset_class = serializers.ChoiceField(choices=["us_equity", "us_option", "crypto"])
    asset_marginable = serializers.BooleanField(allow_null=True)
    avg_entry_price = _number()
    qty = _number(help_text="Negative for a short position")
    qty_available = _number()
    side = serializers.ChoiceField(choices=["long", "short"])
    market_value = _number()
    cost_basis = _number()
    unrealized_pl = _number()
    unrealized_plpc = _number()
    unrealized_intraday_pl = _number()
    unrealized_intraday_plpc = _number()
    current_price = _number()
    lastday_price = _number()
    change_today = _number()


class AlpacaAccountOut(OutSerializer):
    id = serializers.UUIDField(help_text="Derived from IB's account id")
    account_number = serializers.CharField(help_text="IB's account id")
    status = serializers.ChoiceField(choices=["ACTIVE"])
    crypto_status = _text()
    currency = serializers.CharField()
    buying_power = _number()
    regt_buying_power = _number()
    daytrading_buying_power = _number()
    non_marginable_buying_power = _number()
    options_buying_power = _number()
    cash = _number(help_text="IB's TotalCashValue")
    accrued_fees = _number()
    pending_transfer_out = _number()
    pending_transfer_in = _number()
    portfolio_value = _number(help_text="IB's NetLiquidation")
    equity = _number(help_text="IB's NetLiquidation")
    last_equity = _number()
    long_market_value = _number()
    short_market_value = _number()
    initial_margin = _number()
    maintenance_margin = _number()
    last_maintenance_margin = _number()
    sma = _number()
    multiplier = _number()
    pattern_day_trader = serializers.BooleanField(allow_null=True)
    trading_blocked = serializers.BooleanField(help_text="The kill switch (admin)")
    transfers_blocked = serializers.BooleanField(allow_null=True)
    account_blocked = serializers.BooleanField(allow_null=True)
    trade_suspended_by_user = serializers.BooleanField(help_text="The kill switch (admin)")
    shorting_enabled = serializers.BooleanField(allow_null=True)
    daytrade_count = serializers.IntegerField(allow_null=True)
    created_at = _time()
    options_approved_level = serializers.IntegerField(allow_null=True)
    options_trading_level = serializers.IntegerField(allow_null=True)


class AlpacaAccountConfigurationOut(OutSerializer):
    dtbp_check = serializers.ChoiceField(choices=MARGIN_CHECKS, allow_null=True)
    fractional_trading = serializers.BooleanField()
    max_margin_multiplier = serializers.CharField()
    no_shorting = serializers.BooleanField()
    pdt_check = serializers.ChoiceField(choices=MARGIN_CHECKS, allow_null=True)
    suspend_trade = serializers.BooleanField(help_text="The kill switch (admin)")
    trade_confirm_email = serializers.ChoiceField(choices=["all", "none"])
    ptp_no_exception_entry = serializers.BooleanField()
    max_options_trading_level = serializers.IntegerField(allow_null=True)


AlpacaErrorOut = trading_serializers.AlpacaErrorOut  # rendered by trading.error_handler


class AlpacaCancelResultOut(OutSerializer):
    id = serializers.UUIDField()
    status = serializers.IntegerField(help_text="200, or the status of the refusal")
    body = serializers.DictField(help_text="The canceled order, or the error ({code, message})")


class AlpacaOrderPreviewOut(OutSerializer):
    """IB's what-if of an order (IB's extra): the account as it would be."""

    commission = _number(help_text="Estimated commission")
    min_commission = _number()
    max_commission = _number()
    commission_currency = _text()
    init_margin_before = _number(help_text="Initial margin before the order")
    init_margin_change = _number()
    init_margin_after = _number()
    maint_margin_before = _number(help_text="Maintenance margin before the order")
    maint_margin_change = _number()
    maint_margin_after = _number()
    equity_with_loan_before = _number(help_text="Equity with loan value before the order")
    equity_with_loan_change = _number()
    equity_with_loan_after = _number()
    warning_text = serializers.CharField(allow_blank=True, help_text="IB's warning, or empty")
