"""Request fields in Alpaca's types: quantities and prices as a JSON number or
a decimal string (Alpaca documents strings, alpaca-py sends numbers), with
trading.fields' bounds and ticks; choices that name why a value of Alpaca's
is refused.  Each string form is one pattern, which the schema states
(v2api.schema) and the field enforces first."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trading.fields import PriceField, QuantityField

# Whole shares from 1 to 1,000,000 (trading.fields.MAX_QUANTITY), as digits.
QTY_PATTERN = r"^(?:[1-9][0-9]{0,5}|1000000)\Z"
# A price on trading.fields' grid (cents from 1, 0.0001 below 1), above 0 and
# at most 1,000,000 (MAX_PRICE), as a plain decimal.
PRICE_PATTERN = (
    r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|1000000(?:\.0{1,2})?"
    r"|0?\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))\Z"
)
_QTY = re.compile(QTY_PATTERN)
_PRICE = re.compile(PRICE_PATTERN)
_DECIMAL = re.compile(r"[0-9]*\.[0-9]*[1-9][0-9]*")
FRACTIONAL = "fractional qty is not supported: whole shares only (IB's API takes whole shares)"


class AlpacaQuantityField(QuantityField):
    """``10`` or ``"10"``: whole shares (fractional ones are refused by name)."""

    string_pattern = QTY_PATTERN
    default_error_messages = {
        "off_tick": FRACTIONAL,
        "text": 'Must be a whole number of shares from 1 to 1000000, e.g. 10 or "10".',
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, str):
            if not _QTY.match(data):
                self.fail("off_tick" if _DECIMAL.fullmatch(data) else "text")
            data = int(data)
        return super().to_internal_value(data)


class AlpacaPriceField(PriceField):
    """``230.5`` or ``"230.50"``: above 0, at most 1,000,000, on the tick grid."""

    string_pattern = PRICE_PATTERN
    default_error_messages = {
        "text": 'Must be a price above 0 and at most 1000000 on the tick grid, e.g. "230.50".'
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, str):
            if not _PRICE.match(data):
                self.fail("text")
            data = float(data)
        return super().to_internal_value(data)


class SupportedChoiceField(serializers.ChoiceField):
    """One of Alpaca's values this field accepts (the schema's enum); another of
    Alpaca's values is refused with a message saying why (``refused``)."""

    default_error_messages = {
        "unsupported": "{name} {input} is {refused} (accepted: {supported}).",
    }

    def __init__(
        self,
        *,
        supported: list[str],
        unsupported: list[str],
        refused: str = "not supported",
        **kwargs: Any,
    ) -> None:
        self.unsupported = unsupported
        self.refused = refused
        super().__init__(choices=supported, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        if data in self.unsupported:
            supported = ", ".join(repr(choice) for choice in self.choices if choice)
            self.fail(
                "unsupported",
                name=self.field_name,
                input=data,
                refused=self.refused,
                supported=supported,
            )
        return super().to_internal_value(data)


@extend_schema_field({"type": "boolean", "enum": [False]})
class FalseOnlyField(serializers.BooleanField):
    """A JSON boolean of which only ``false`` is accepted (extended_hours of
    an order that is not a limit order)."""

    default_error_messages = {
        "strict": "Must be a JSON boolean.",
        "unsupported": "{name} true is only for limit orders with time_in_force day.",
    }

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("strict")
        if data:
            self.fail("unsupported", name=self.field_name)
        return False
