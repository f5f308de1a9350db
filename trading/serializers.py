"""Request and response shapes of the API, named by what they carry."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,11}$")
MAX_PRICE = 1_000_000.0
MAX_QUANTITY = 1_000_000.0


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know: a typo must not silently drop a price."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class NumberField(serializers.FloatField):
    """A finite JSON number (or numeric string); booleans are not numbers."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        value: float = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number.")
        return value


class PriceField(NumberField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0.0001)
        kwargs.setdefault("max_value", MAX_PRICE)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        tick = Decimal("0.01") if value >= 1 else Decimal("0.0001")
        if Decimal(str(value)) % tick != 0:
            raise serializers.ValidationError(
                f"Must be a multiple of the minimum tick {tick} for this price."
            )
        return value


class QuantityField(NumberField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_value", MAX_QUANTITY)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        if not value.is_integer():
            raise serializers.ValidationError("Must be a whole number of shares.")
        return value


class SymbolField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        value = super().to_internal_value(data).strip().upper()
        if not SYMBOL_RE.match(value):
            raise serializers.ValidationError(
                "Must be a stock symbol: a letter, then letters, digits or dots (at most 12)."
            )
        return value


class ActionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=["BUY", "SELL"], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            data = data.strip().upper()
        value: str = super().to_internal_value(data)
        return value


class OrderRequest(StrictSerializer):
    symbol = SymbolField(help_text="Stock symbol, e.g. AAPL (case-insensitive)")
    action = ActionField(help_text='"BUY" or "SELL"')
    quantity = QuantityField(help_text="Number of shares (a whole number)")
    order_ref = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Custom reference string for tracking (carried into fills)",
    )


class LimitOrderRequest(OrderRequest):
    limit_price = PriceField(help_text="Limit price")


class MarketOrderRequest(OrderRequest):
    pass


class StopOrderRequest(OrderRequest):
    stop_price = PriceField(help_text="Stop price (triggers when the price reaches it)")


class BracketOrderRequest(OrderRequest):
    entry_price = PriceField(help_text="Entry limit price")
    stop_loss = PriceField(help_text="Stop-loss price")
    take_profit = PriceField(help_text="Take-profit price")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        entry, stop, take = attrs["entry_price"], attrs["stop_loss"], attrs["take_profit"]
        if attrs["action"] == "BUY" and not stop < entry < take:
            raise serializers.ValidationError(
                "For a BUY bracket, stop_loss < entry_price < take_profit is required."
            )
        if attrs["action"] == "SELL" and not take < entry < stop:
            raise serializers.ValidationError(
                "For a SELL bracket, take_profit < entry_price < stop_loss is required."
            )
        return attrs


class CancelOrderRequest(StrictSerializer):
    perm_id = serializers.IntegerField(min_value=1, help_text="Permanent order ID")

    def validate_perm_id(self, value: Any) -> int:
        if isinstance(self.initial_data.get("perm_id"), bool):
            raise serializers.ValidationError("A valid integer is required.")
        return int(value)


class ExecutionsQuery(serializers.Serializer):  # type: ignore[type-arg]
    symbol = SymbolField(required=False, help_text="Filter by symbol (case-insensitive)")
    since = serializers.DateTimeField(
        required=False, help_text="ISO 8601; executions at or after (UTC when no offset is given)"
    )
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; executions before")
    side = ActionField(required=False, help_text='"BUY" or "SELL"')
    order_ref = serializers.CharField(required=False, max_length=128)
    limit = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=1000, help_text="At most 1000"
    )
    offset = serializers.IntegerField(required=False, default=0, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError("since must be before until.")
        return attrs


class OrderSentResponse(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.CharField()
    permId = serializers.IntegerField()


class BracketSentResponse(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.CharField()
    permIds = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=3,
        max_length=3,
        help_text="permIds of the parent (entry), stop-loss and take-profit orders",
    )


class StatusResponse(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.CharField()


class AccountOut(serializers.Serializer):  # type: ignore[type-arg]
    balance = serializers.FloatField(help_text="Net liquidation value (total account equity)")
    cash = serializers.FloatField(help_text="Available funds for trading (IB's AvailableFunds)")
    account = serializers.CharField()
    currency = serializers.CharField()
    net_liquidation = serializers.FloatField(allow_null=True)
    available_funds = serializers.FloatField(allow_null=True)
    total_cash_value = serializers.FloatField(allow_null=True)
    buying_power = serializers.FloatField(allow_null=True)
    gross_position_value = serializers.FloatField(allow_null=True)
    unrealized_pnl = serializers.FloatField(allow_null=True)
    realized_pnl = serializers.FloatField(allow_null=True)


class PositionOut(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    qty = serializers.FloatField(help_text="Positive = long, negative = short")
    avg_cost = serializers.FloatField(help_text="Average cost per share (commissions included)")
    market_value = serializers.FloatField(
        allow_null=True, help_text="qty x market price, as IB reports it"
    )
    market_price = serializers.FloatField(allow_null=True)
    unrealized_pnl = serializers.FloatField(allow_null=True)
    realized_pnl = serializers.FloatField(allow_null=True)
    sec_type = serializers.CharField()
    currency = serializers.CharField()


class PositionsOut(serializers.Serializer):  # type: ignore[type-arg]
    positions = PositionOut(many=True)


class OrderOut(serializers.Serializer):  # type: ignore[type-arg]
    orderId = serializers.IntegerField(help_text="Temporary order ID (changes on restart)")
    permId = serializers.IntegerField(help_text="Permanent order ID (use it to cancel)")
    symbol = serializers.CharField()
    action = serializers.CharField()
    quantity = serializers.FloatField()
    type = serializers.CharField(help_text='"LMT", "MKT", "STP", "STP LMT"...')
    trigger = serializers.JSONField(help_text='Limit or stop price, or "—" for market orders')
    status = serializers.CharField(help_text="PENDINGSUBMIT, PRESUBMITTED, SUBMITTED, APIPENDING")
    clientId = serializers.IntegerField(help_text="The API client that placed it")
    filled = serializers.FloatField()
    tif = serializers.CharField()
    orderRef = serializers.CharField(allow_blank=True)
    parentPermId = serializers.IntegerField(allow_null=True)


class OrdersOut(serializers.Serializer):  # type: ignore[type-arg]
    orders = OrderOut(many=True)


class ExecutionOut(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    side = serializers.CharField(help_text='"BUY" or "SELL"')
    qty = serializers.FloatField()
    price = serializers.FloatField()
    time = serializers.CharField(required=False, help_text='"YYYYMMDD HH:MM:SS", UTC')
    timestamp = serializers.CharField(required=False, help_text="ISO 8601, UTC")
    orderId = serializers.IntegerField(required=False)
    permId = serializers.IntegerField(required=False)
    orderRef = serializers.CharField(required=False, allow_blank=True)
    execId = serializers.CharField(allow_null=True)
    commission = serializers.FloatField(allow_null=True)
    source = serializers.CharField(  # type: ignore[assignment]
        help_text='"reqExecutions", "trades()" or "reqCompletedOrders"'
    )


class ExecutionsOut(serializers.Serializer):  # type: ignore[type-arg]
    executions = ExecutionOut(many=True)


class ErrorOut(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField()
