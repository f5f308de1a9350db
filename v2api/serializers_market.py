"""/v2's clock, calendar and assets: the query shapes and the output
serializers (components named ``Alpaca...``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from trading.serializers import OutSerializer
from v2api.market import EXCHANGES
from v2api.serializers import QuerySerializer

ASSET_CLASSES = ["us_equity", "us_option", "crypto", "crypto_perp"]
ASSET_STATUSES = ["active", "inactive"]
# Alpaca's exchanges (alpaca-py's AssetExchange); "" where it has no name.
ALPACA_EXCHANGES = sorted(
    {"AMEX", "ARCA", "ASCX", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "FTXU", "CBSE", "GNSS"}
    | {"ERSX", "OTC", "CRYPTO", "", *EXCHANGES.values()}
)
ATTRIBUTES_PATTERN = r"^[a-z][a-z_]{0,39}(?:,[a-z][a-z_]{0,39}){0,19}\Z"


# --- queries ---------------------------------------------------------------------------


class AlpacaCalendarQuery(QuerySerializer):
    start = serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        help_text="First date (YYYY-MM-DD, inclusive); default 1970-01-01",
    )
    end = serializers.DateField(
        required=False,
        input_formats=["iso-8601"],
        help_text="Last date (YYYY-MM-DD, inclusive); default 2029-12-31",
    )


class AlpacaAssetsQuery(QuerySerializer):
    status = serializers.ChoiceField(choices=ASSET_STATUSES, required=False)
    asset_class = serializers.ChoiceField(choices=ASSET_CLASSES, required=False)
    exchange = serializers.ChoiceField(choices=ALPACA_EXCHANGES, required=False)
    attributes = serializers.RegexField(
        ATTRIBUTES_PATTERN,
        required=False,
        max_length=200,
        help_text="Comma-separated attributes: assets with any of them (none has any here)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("attributes"):
            attrs["attributes"] = attrs["attributes"].split(",")
        return attrs


# --- output ----------------------------------------------------------------------------


class AlpacaClockOut(OutSerializer):
    timestamp = serializers.CharField(help_text="The gateway's time, US/Eastern (RFC 3339)")
    is_open = serializers.BooleanField()
    next_open = serializers.CharField(help_text="The next regular open, US/Eastern (RFC 3339)")
    next_close = serializers.CharField(help_text="The next regular close, US/Eastern (RFC 3339)")


class AlpacaCalendarDayOut(OutSerializer):
    date = serializers.CharField(help_text="YYYY-MM-DD")
    open = serializers.CharField(help_text="Regular open, HH:MM US/Eastern")
    close = serializers.CharField(help_text="Regular close, HH:MM US/Eastern (13:00 early)")
    session_open = serializers.CharField(help_text="Extended hours' start, HHMM US/Eastern")
    session_close = serializers.CharField(help_text="Extended hours' end, HHMM US/Eastern")
    settlement_date = serializers.CharField(help_text="YYYY-MM-DD (T+1; T+2 before 2024-05-28)")


class AlpacaAssetOut(OutSerializer):
    id = serializers.UUIDField(help_text="Derived from IB's conId (see v2api/README.md)")
    exchange = serializers.ChoiceField(choices=ALPACA_EXCHANGES)
    symbol = serializers.CharField()
    name = serializers.CharField(allow_null=True, help_text="IB's longName")
    status = serializers.ChoiceField(choices=ASSET_STATUSES)
    tradable = serializers.BooleanField(help_text="Not refused by SYMBOL_ALLOWLIST/DENYLIST")
    marginable = serializers.BooleanField()
    shortable = serializers.BooleanField()
    easy_to_borrow = serializers.BooleanField(
        help_text="Not known (IB tells it with market data): false"
    )
    fractionable = serializers.BooleanField(help_text="Whole shares only: false")
    min_order_size = serializers.CharField(allow_null=True)
    min_trade_increment = serializers.CharField(allow_null=True)
    price_increment = serializers.FloatField(allow_null=True, help_text="IB's minTick")
    maintenance_margin_requirement = serializers.FloatField(allow_null=True)
    attributes = serializers.ListField(child=serializers.CharField())


# Alpaca's key is "class", a word Python keeps for itself.
AlpacaAssetOut._declared_fields = {
    "id": AlpacaAssetOut._declared_fields["id"],
    "class": serializers.ChoiceField(choices=["us_equity"]),
    **{k: v for k, v in AlpacaAssetOut._declared_fields.items() if k != "id"},
}
