"""Request and output shapes of /v2's account activities, P&L and position
closing (Alpaca's field names; components named ``Alpaca...``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from trading.fields import DateTimeField, QueryIntegerField
from trading.serializers import OutSerializer
from v2api.activities import FILL, MAX_PAGE_SIZE, types_check
from v2api.serializers import SIDES, QuerySerializer

# The types IB can report: FILL only (Alpaca's others are refused by name).
ACTIVITY_TYPES_PATTERN = r"^FILL(?:,FILL){0,49}\Z"
# Alpaca's page_token: the id of an activity, "<time>::<uuid>".
_HEX = "[0-9a-fA-F]"
PAGE_TOKEN_PATTERN = (
    rf"^[0-9]{{17}}::{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\Z"
)
NON_TRADE_REFUSED = (
    "only trade_activity is available: IB's API reports no non-trade activities "
    "(dividends, fees, interest, transfers, journals, corporate actions)"
)


class ActivityTypesField(serializers.RegexField):
    """Comma-separated activity types: Alpaca's others than FILL are refused
    by name (unknown, or not available from IB), then the pattern."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ACTIVITY_TYPES_PATTERN, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            types_check([t for t in data.split(",") if t])
        return super().to_internal_value(data)


class AlpacaActivitiesQuery(QuerySerializer):
    page_size = QueryIntegerField(
        default=MAX_PAGE_SIZE, min_value=1, max_value=MAX_PAGE_SIZE, help_text="1 to 100"
    )
    page_token = serializers.RegexField(
        PAGE_TOKEN_PATTERN,
        required=False,
        help_text="The id of the last activity of the previous page",
    )
    direction = serializers.ChoiceField(choices=["asc", "desc"], default="desc")
    after = DateTimeField(required=False, help_text="Executed after it (RFC 3339)")
    until = DateTimeField(required=False, help_text="Executed before it (RFC 3339)")
    date = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Executed on this day (America/New_York); not with after or until",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("date") and (attrs.get("after") or attrs.get("until")):
            # Across fields (which the schema cannot state): named by none.
            raise serializers.ValidationError("date is not taken together with after or until.")
        return attrs


class AlpacaAllActivitiesQuery(AlpacaActivitiesQuery):
    activity_types = ActivityTypesField(
        required=False,
        help_text="Comma-separated activity types: FILL (Alpaca's others are not "
        "available from IB: 422)",
    )
    category = serializers.ChoiceField(
        choices=["trade_activity"],
        required=False,
        error_messages={"invalid_choice": NON_TRADE_REFUSED},
        help_text="trade_activity: the fills (non_trade_activity: not available from IB, 422)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        types = attrs.pop("activity_types", None)
        category = attrs.pop("category", None)
        if types and category:
            raise serializers.ValidationError("category is not taken together with activity_types.")
        if types or category:
            attrs["activity_types"] = [FILL]
        return attrs


class AlpacaFillActivityOut(OutSerializer):
    id = serializers.CharField(
        help_text="<time>::<uuid>; pass it as page_token for the page after it"
    )
    account_id = serializers.UUIDField()
    activity_type = serializers.ChoiceField(choices=[FILL])
    transaction_time = serializers.DateTimeField()
    type = serializers.ChoiceField(
        choices=["fill", "partial_fill"],
        allow_null=True,
        help_text="partial_fill while the order has shares left; null: order not stored yet",
    )
    price = serializers.CharField()
    qty = serializers.CharField()
    side = serializers.ChoiceField(choices=SIDES)
    symbol = serializers.CharField()
    leaves_qty = serializers.CharField(
        allow_null=True, help_text="The order's shares left after this fill"
    )
    cum_qty = serializers.CharField(help_text="The order's shares filled up to this fill")
    order_id = serializers.UUIDField()
    order_status = serializers.ChoiceField(
        choices=["partially_filled", "filled"],
        allow_null=True,
        help_text="The order's status after this fill",
    )


class AlpacaPnlOut(OutSerializer):
    account_number = serializers.CharField(help_text="IB's account id")
    daily_pl = serializers.CharField(
        allow_null=True, help_text="IB's dailyPnL (a decimal string; null: not reported yet)"
    )
    unrealized_pl = serializers.CharField(allow_null=True, help_text="IB's unrealizedPnL")
    realized_pl = serializers.CharField(allow_null=True, help_text="IB's realizedPnL (the day's)")


# Above 0, as plain decimals (no sign, no exponent).
_BELOW_ONE = r"0?\.[0-9]{0,5}[1-9][0-9]{0,5}"
CLOSE_QTY_PATTERN = rf"^(?:[1-9][0-9]{{0,9}}(?:\.[0-9]{{1,6}})?|{_BELOW_ONE})\Z"
CLOSE_PERCENTAGE_PATTERN = rf"^(?:100(?:\.0{{1,6}})?|[1-9][0-9]?(?:\.[0-9]{{1,6}})?|{_BELOW_ONE})\Z"


class DecimalTextField(serializers.RegexField):
    """A plain decimal of the pattern, as a Decimal."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # After the pattern (a validator, which runs after to_internal_value).
        return Decimal(super().run_validation(data))


class AlpacaClosePositionQuery(QuerySerializer):
    qty = DecimalTextField(
        CLOSE_QTY_PATTERN,
        required=False,
        help_text='Shares to close, above 0 (whole shares: "2.5" is refused, 422)',
    )
    percentage = DecimalTextField(
        CLOSE_PERCENTAGE_PATTERN,
        required=False,
        help_text="Percentage of the position to close, above 0 and at most 100 "
        "(the shares must come out whole, else 422)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "qty" in attrs and "percentage" in attrs:
            raise serializers.ValidationError("Only one of qty or percentage may be given.")
        return attrs


class AlpacaCloseAllQuery(QuerySerializer):
    cancel_orders = serializers.BooleanField(
        default=False, help_text="Cancel our working orders first"
    )


class AlpacaClosePositionResultOut(OutSerializer):
    symbol = serializers.CharField()
    status = serializers.IntegerField(help_text="200, or the status of the refusal")
    body = serializers.DictField(help_text="The closing order, or the error ({code, message})")
