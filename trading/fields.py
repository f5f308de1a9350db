"""The API's fields: strict and bounded request fields, and the output
fields that write numbers as IB shows them.

A number is a JSON number (not a string, not a boolean), an integer a JSON
integer, a string a JSON string taken as sent; every bound is checked before
any other rule, so no rule ever computes with an unbounded value.  Each field
carries its rules as attributes and validators, and the OpenAPI schema is
built from them (trading/schema.py): the schema states exactly what the
server accepts."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# A stock symbol, in either case (it is upper-cased): a letter, then letters,
# digits or dots.  Patterns end in \Z, not $ (which also matches before a final
# newline); the schema spells it $, as JSON Schema reads it.
SYMBOL_MAX_LENGTH = 12
SYMBOL_PATTERN = rf"^[A-Za-z][A-Za-z0-9.]{{0,{SYMBOL_MAX_LENGTH - 1}}}\Z"
# Free text (order refs): anything but NUL, the TWS protocol's field separator.
TEXT_PATTERN = r"^[^\x00]+\Z"
MAX_PRICE = 1_000_000.0
MAX_QUANTITY = 1_000_000.0
MAX_PERM_ID = 2**63 - 1  # IB's permIds are 64-bit integers
MAX_EXECUTIONS_PAGE = 1000
MAX_EXECUTIONS_OFFSET = 1_000_000  # deeper: narrow the page with since/until
# The minimum price variation: (from this price up, the tick), highest price first.
PRICE_TICKS = ((Decimal("1"), Decimal("0.01")), (Decimal("0"), Decimal("0.0001")))
WHOLE_SHARES = ((Decimal("0"), Decimal("1")),)
NO_TRIGGER = "—"  # an order's trigger when it has no price (a market order)


class NumberField(serializers.FloatField):
    """A JSON number: not a string or a boolean, finite, then within its
    bounds (``greater_than`` exclusive, ``max_value`` inclusive), then on its
    grid (``ticks``: from which value up which step applies).  The bounds come
    first so the grid check never computes with a number it cannot hold
    (1e308 once made it raise)."""

    default_error_messages = {
        "greater_than": "Must be greater than {limit}.",
        "off_tick": "Must be a multiple of {tick}.",
    }

    def __init__(
        self,
        *,
        greater_than: float | None = None,
        ticks: tuple[tuple[Decimal, Decimal], ...] = (),
        **kwargs: Any,
    ) -> None:
        self.greater_than = greater_than
        self.ticks = ticks
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        # int and float compare exactly in Python: no conversion, no overflow.
        if self.greater_than is not None and not data > self.greater_than:
            self.fail("greater_than", limit=f"{self.greater_than:g}")
        if self.max_value is not None and data > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and data < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        tick = self.tick_for(data)
        # The number as written (Python writes a float as the shortest decimal
        # that reads back the same): 230.01 is on the cent grid.
        if tick is not None and Decimal(str(data)) % tick != 0:
            self.fail("off_tick", tick=tick)
        return float(data)

    def tick_for(self, value: float) -> Decimal | None:
        for start, tick in self.ticks:
            if value >= start:
                return tick
        return None


class PriceField(NumberField):
    default_error_messages = {
        "off_tick": "Must be a multiple of the minimum tick {tick} for this price.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(greater_than=0, max_value=MAX_PRICE, ticks=PRICE_TICKS, **kwargs)


class QuantityField(NumberField):
    default_error_messages = {"off_tick": "Must be a whole number of shares."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(greater_than=0, max_value=MAX_QUANTITY, ticks=WHOLE_SHARES, **kwargs)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not 1.0, "1" or true.  Its bounds are its validators."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class QueryIntegerField(StrictIntegerField):
    """An integer in a query string, written plainly (ASCII digits, no sign
    but a minus, no leading zero, no spaces)."""

    PLAIN = re.compile(r"0|-?[1-9][0-9]{0,18}")

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and self.PLAIN.fullmatch(data):
            data = int(data)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string, taken as sent: 0 or true is not a string, and spaces
    are not trimmed (the length counted is the length sent)."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value: str = super().to_internal_value(data)
        return value


class TextField(StrictCharField):
    """Free text: any characters but NUL (stated by a pattern, so the schema
    says it; DRF's own NUL check would say it twice)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [RegexValidator(TEXT_PATTERN, "Must not contain NUL.")])
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class SymbolField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        message = (
            "Must be a stock symbol: a letter, then letters, digits or dots "
            f"(at most {SYMBOL_MAX_LENGTH})."
        )
        kwargs.setdefault("validators", [RegexValidator(SYMBOL_PATTERN, message)])
        super().__init__(max_length=SYMBOL_MAX_LENGTH, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)
        return value.upper() if isinstance(value, str) else value


class ActionField(serializers.ChoiceField):
    """ "BUY" or "SELL", exactly."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=["BUY", "SELL"], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        value: str = super().to_internal_value(data)
        return value


# RFC 3339 (what OpenAPI's "date-time" means): a date, "T", a time with
# seconds, an optional fraction, and "Z" or a numeric offset.
RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UTC_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)
_MAX_MICROSECONDS = (dt.datetime.max - dt.datetime.min) // dt.timedelta(microseconds=1)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def rfc3339_instant(text: str) -> dt.datetime | None:
    """The UTC instant an RFC 3339 date-time names, or None if it is not one.
    Exactly the grammar and calendar OpenAPI validators check: year 0000,
    offsets up to 23:59 and a leap second (at 23:59:60 UTC) included.
    Instants before year 1 or after 9999 (UTC) are clamped to them: as a
    filter's bound they mean "since always" and "until forever"."""
    match = RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, sign, offset_hours, offset_minutes = match.groups()[6:]
    offset = 0
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return None
        offset = (1 if sign == "+" else -1) * (int(offset_hours) * 60 + int(offset_minutes))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 60:
        return None
    if not 1 <= day <= _DAYS_IN_MONTH[month] + (month == 2 and _is_leap(year)):
        return None
    if second == 60 and (hour * 60 + minute - offset) % 1440 != 23 * 60 + 59:
        return None  # a leap second happens at 23:59:60 UTC only
    before = year - 1  # days from 0001-01-01, proleptic Gregorian, year 0 allowed
    days = before * 365 + before // 4 - before // 100 + before // 400
    days += _DAYS_BEFORE_MONTH[month] + (month > 2 and _is_leap(year)) + day - 1
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset * 60
    micro = seconds * 1_000_000 + int((fraction or "0")[:6].ljust(6, "0"))
    return _UTC_MIN + dt.timedelta(microseconds=min(max(micro, 0), _MAX_MICROSECONDS))


class DateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with its offset ("Z" or "+01:00"), nothing looser."""

    default_error_messages = {
        "invalid": 'Must be an RFC 3339 date-time with an offset, e.g. "2024-01-15T14:30:00Z".'
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        instant = rfc3339_instant(value) if isinstance(value, str) else None
        if instant is None:
            self.fail("invalid")
        return instant


# --- output fields ---------------------------------------------------------------------


class WholeOrFloatField(serializers.FloatField):
    """A number written as IB's quantities are shown: whole numbers as ints
    (``10``, not ``10.0``), others as floats."""

    def to_representation(self, value: Any) -> int | float:  # type: ignore[override]
        number = float(value)
        return int(number) if number.is_integer() else number


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "format": "double"},
            {"type": "string", "enum": [NO_TRIGGER]},
        ]
    }
)
class TriggerField(serializers.Field):  # type: ignore[type-arg]
    """An order's limit or stop price, or "—" for an order that has none."""

    def to_representation(self, value: Any) -> float | str:
        return value if isinstance(value, str) else float(value)
