"""Request and response shapes of the API, named by what they carry: request
serializers validate with the fields of trading.fields; every response body is
rendered by an output serializer (the schema's own shape)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from trading.fields import (
    MAX_EXECUTIONS_OFFSET,
    MAX_EXECUTIONS_PAGE,
    MAX_PERM_ID,
    NO_TRIGGER,
    ActionField,
    DateTimeField,
    PriceField,
    QuantityField,
    QueryIntegerField,
    StrictIntegerField,
    SymbolField,
    TextField,
    TriggerField,
    WholeOrFloatField,
)


# Refuses fields it does not know: a typo must not silently drop a price.  (No
# docstring: drf-spectacular would give it to every request component.)
class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class OrderRequest(StrictSerializer):
    symbol = SymbolField(help_text="Stock symbol, e.g. AAPL (either case; upper-cased)")
    action = ActionField(help_text='"BUY" or "SELL"')
    quantity = QuantityField(help_text="Number of shares (a whole number)")
    order_ref = TextField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Custom reference string for tracking (carried into fills)",
    )


class LimitOrderRequest(OrderRequest):
    limit_price = PriceField(help_text="Limit price (a multiple of 0.01; of 0.0001 below 1)")


class MarketOrderRequest(OrderRequest):
    pass


class StopOrderRequest(OrderRequest):
    stop_price = PriceField(
        help_text="Stop price, triggers when the price reaches it "
        "(a multiple of 0.01; of 0.0001 below 1)"
    )


class BracketOrderRequest(OrderRequest):
    """An entry limit order with a stop-loss and a take-profit. For a BUY,
    stop_loss < entry_price < take_profit; for a SELL, take_profit <
    entry_price < stop_loss (else 400)."""

    entry_price = PriceField(help_text="Entry limit price (a multiple of 0.01; of 0.0001 below 1)")
    stop_loss = PriceField(help_text="Stop-loss price (a multiple of 0.01; of 0.0001 below 1)")
    take_profit = PriceField(help_text="Take-profit price (a multiple of 0.01; of 0.0001 below 1)")

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
    perm_id = StrictIntegerField(min_value=1, max_value=MAX_PERM_ID, help_text="Permanent order ID")


class ExecutionsQuery(serializers.Serializer):  # type: ignore[type-arg]
    symbol = SymbolField(required=False, help_text="Filter by symbol (either case)")
    since = DateTimeField(
        required=False,
        help_text="RFC 3339 date-time with an offset; executions at or after it "
        "(before until, else 400)",
    )
    until = DateTimeField(
        required=False, help_text="RFC 3339 date-time with an offset; executions before it"
    )
    side = ActionField(required=False, help_text='"BUY" or "SELL"')
    order_ref = TextField(required=False, max_length=128)
    limit = QueryIntegerField(
        required=False,
        default=100,
        min_value=1,
        max_value=MAX_EXECUTIONS_PAGE,
        help_text=f"At most {MAX_EXECUTIONS_PAGE}",
    )
    offset = QueryIntegerField(
        required=False, default=0, min_value=0, max_value=MAX_EXECUTIONS_OFFSET
    )

    def to_internal_value(self, data: Any) -> Any:
        """A query string's values as sent: each parameter at most once, and an
        empty value is a value (DRF's form handling would drop it)."""
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError("since must be before until.")
        return attrs


_empty_executions_query: dict[str, Any] | None = None


def executions_query(params: Any) -> dict[str, Any]:
    """GET /executions' query, validated.  The empty one (a polling script's
    ``GET /executions``) always validates to the same defaults: validated once
    per process, not per request (DRF copies every field of a serializer for
    each instance, about a tenth of that request's time: docs/benchmarks.md)."""
    global _empty_executions_query
    if not params:
        if _empty_executions_query is None:
            query = ExecutionsQuery(data={})
            query.is_valid(raise_exception=True)
            _empty_executions_query = dict(query.validated_data)
        return dict(_empty_executions_query)
    query = ExecutionsQuery(data=params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


# --- output: every response body is rendered by one of these ---------------------------


# Output serializers render a selector's plain dict, fast: the declared fields
# decide which keys reach the response (and the OpenAPI schema is built from the
# same fields), each field's to_representation decides the value.  The rules
# are DRF's Serializer.to_representation: None stays null; a missing key is
# null when the field allows null, left out when it is not required, an error
# otherwise.  What is skipped is DRF's cost per value (a lookup chain, a
# try/except and an attribute walk per key): the plan is worked out once per
# class.  (No docstring here: drf-spectacular would give it to every component.)
class OutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    _render_plan: tuple[tuple[str, Any, bool, bool], ...] | None = None

    @classmethod
    def render_plan(cls) -> tuple[tuple[str, Any, bool, bool], ...]:
        """(key, the field's to_representation, required, allow_null) per field."""
        plan = cls.__dict__.get("_render_plan")
        if plan is None:
            plan = tuple(_plan_entry(cls, name, field) for name, field in cls().fields.items())
            cls._render_plan = plan  # on this class only: a subclass has its own fields
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, render, required, allow_null in self.render_plan():
            try:
                value = instance[key]
            except KeyError:
                if allow_null:
                    out[key] = None
                elif required:
                    raise KeyError(f"{type(self).__name__}: no {key!r} in {instance!r}") from None
                continue
            out[key] = None if value is None else render(value)
        return out


def _plan_entry(cls: type, name: str, field: Any) -> tuple[str, Any, bool, bool]:
    if field.source != name or field.default is not serializers.empty or field.write_only:
        raise TypeError(
            f"{cls.__name__}.{name}: an output field reads its own key "
            "(no source, default or write_only)"
        )
    return name, field.to_representation, bool(field.required), bool(field.allow_null)


class OrderSentResponse(OutSerializer):
    status = serializers.CharField()
    permId = serializers.IntegerField()


class BracketSentResponse(OutSerializer):
    status = serializers.CharField()
    permIds = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=3,
        max_length=3,
        help_text="permIds of the parent (entry), stop-loss and take-profit orders",
    )


class StatusResponse(OutSerializer):
    status = serializers.CharField()


class AccountOut(OutSerializer):
    balance = serializers.FloatField(
        allow_null=True,
        help_text="Net liquidation value (total account equity); null until IB reports it",
    )
    cash = serializers.FloatField(
        allow_null=True,
        help_text="Available funds for trading (IB's AvailableFunds); null until IB reports it",
    )
    account = serializers.CharField(allow_blank=True)
    net_liquidation = serializers.FloatField(allow_null=True)
    available_funds = serializers.FloatField(allow_null=True)
    total_cash_value = serializers.FloatField(allow_null=True)
    buying_power = serializers.FloatField(allow_null=True)
    gross_position_value = serializers.FloatField(allow_null=True)
    unrealized_pnl = serializers.FloatField(allow_null=True)
    realized_pnl = serializers.FloatField(allow_null=True)
    currency = serializers.CharField()


class PositionOut(OutSerializer):
    symbol = serializers.CharField()
    sec_type = serializers.CharField()
    currency = serializers.CharField()
    qty = WholeOrFloatField(help_text="Positive = long, negative = short")
    avg_cost = serializers.FloatField(help_text="Average cost per share (commissions included)")
    market_price = serializers.FloatField(allow_null=True)
    market_value = serializers.FloatField(
        allow_null=True, help_text="qty x market price, as IB reports it"
    )
    unrealized_pnl = serializers.FloatField(allow_null=True)
    realized_pnl = serializers.FloatField(allow_null=True)


class PositionsOut(OutSerializer):
    positions = PositionOut(many=True)


class OrderWarningOut(OutSerializer):
    code = serializers.IntegerField(help_text="IB's message code, e.g. 2109 or 10349")
    message = serializers.CharField()


class OrderOut(OutSerializer):
    orderId = serializers.IntegerField(help_text="Temporary order ID (changes on restart)")
    permId = serializers.IntegerField(help_text="Permanent order ID (use it to cancel)")
    clientId = serializers.IntegerField(help_text="The API client that placed it")
    symbol = serializers.CharField()
    action = serializers.CharField(help_text='"BUY" or "SELL"')
    quantity = WholeOrFloatField()
    type = serializers.CharField(help_text='"LMT", "MKT", "STP", "STP LMT"...')
    trigger = TriggerField(help_text=f'Limit or stop price, or "{NO_TRIGGER}" for market orders')
    status = serializers.CharField(help_text="PENDINGSUBMIT, PRESUBMITTED, SUBMITTED, APIPENDING")
    filled = WholeOrFloatField()
    tif = serializers.CharField()
    orderRef = serializers.CharField(allow_blank=True)
    parentPermId = serializers.IntegerField(
        allow_null=True, help_text="permId of the bracket's entry order, for its exit legs"
    )
    warnings = OrderWarningOut(
        many=True, help_text="IB's warnings on the order (it still works); usually empty"
    )


class OrdersOut(OutSerializer):
    orders = OrderOut(many=True)


class ExecutionOut(OutSerializer):
    """A fill, from the journal or the live session."""

    symbol = serializers.CharField()
    side = serializers.CharField(help_text='"BUY" or "SELL"')
    qty = WholeOrFloatField()
    price = serializers.FloatField()
    time = serializers.CharField(required=False, help_text='"YYYYMMDD HH:MM:SS", UTC')
    timestamp = serializers.DateTimeField(required=False, help_text="ISO 8601, UTC")
    orderId = serializers.IntegerField()
    permId = serializers.IntegerField()
    orderRef = serializers.CharField(allow_blank=True)
    execId = serializers.CharField(allow_null=True)
    commission = serializers.FloatField(allow_null=True)
    source = serializers.CharField(  # type: ignore[assignment]
        help_text='"reqExecutions" (found by a sync) or "trades()" (captured live)'
    )


class ExecutionsOut(OutSerializer):
    executions = ExecutionOut(many=True)


class GatewayHealthOut(OutSerializer):
    connected = serializers.BooleanField()
    server_version = serializers.IntegerField(allow_null=True)
    trading_mode = serializers.ChoiceField(choices=["paper", "live", "unknown"])
    live_trading_enabled = serializers.BooleanField()
    mode_mismatch = serializers.BooleanField(
        help_text="A live gateway while live trading is off: every order is refused"
    )
    last_error = serializers.CharField(allow_blank=True)


class WorkerHealthOut(OutSerializer):
    alive = serializers.BooleanField()
    heartbeat_age_s = serializers.FloatField(allow_null=True)


class JournalHealthOut(OutSerializer):
    last_sync = serializers.DateTimeField(allow_null=True, help_text="ISO 8601, UTC")
    last_sync_ok = serializers.BooleanField(allow_null=True)


class HealthOut(OutSerializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable", "mode_mismatch"])
    gateway = GatewayHealthOut()
    worker = WorkerHealthOut()
    journal = JournalHealthOut()
    redis = serializers.BooleanField()
    database = serializers.BooleanField()


class ErrorOut(OutSerializer):
    detail = serializers.CharField()
    # The metaclass takes declared fields off the class: Serializer.errors stays.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="Invalid input only: the messages by field name",
    )


class AlpacaErrorOut(OutSerializer):
    """An error under /v2, in Alpaca's shape (v2api; rendered here, where
    trading.error_handler renders every error of both dialects)."""

    code = serializers.IntegerField(help_text="Alpaca's code: the status x 100000 + 10000")
    message = serializers.CharField()
