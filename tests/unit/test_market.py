"""The pure parts of /v2's clock, calendar and assets: IB's trading hours
read by the worker, its clock offset, NYSE's rules, the gateway's hours
taking precedence, Alpaca's shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from trading.gateway.lookups import ClockOffset, hours_by_day
from v2api import ids, market

ET = market.EASTERN


def at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.strptime(f"{day} {hhmm}", "%Y-%m-%d %H:%M").replace(tzinfo=ET)


# --- the worker's reading of IB's data --------------------------------------------------


def test_ibs_hours_text_becomes_sessions_by_date() -> None:
    text = "20261126:CLOSED;20261127:0930-20261127:1300;20261128:CLOSED;garbage"
    days = hours_by_day(text, "US/Eastern")
    assert days == {
        "2026-11-26": [],
        "2026-11-27": [["2026-11-27T09:30:00-05:00", "2026-11-27T13:00:00-05:00"]],
        "2026-11-28": [],
    }


def test_a_session_ending_the_next_day_keeps_its_end_date() -> None:
    days = hours_by_day("20261203:0000-20261204:0000", "US/Eastern")
    assert days == {"2026-12-03": [["2026-12-03T00:00:00-05:00", "2026-12-04T00:00:00-05:00"]]}


def test_an_unknown_time_zone_gives_no_hours() -> None:
    assert hours_by_day("20261127:0930-20261127:1300", "Mars/Olympus") == {}


def test_whole_second_answers_narrow_the_clock_offset_down() -> None:
    offset = ClockOffset()
    # The gateway is 100.3 s ahead; each answer is its time rounded down.
    assert offset.add(sent=1000.0, gateway=1100.0, received=1000.1) is True
    assert offset.add(sent=1000.8, gateway=1101.0, received=1000.9) is False
    assert offset.add(sent=1001.65, gateway=1101.0, received=1001.69) is False
    assert offset.low is not None
    assert offset.high is not None
    assert offset.low <= 100.3 <= offset.high
    assert offset.high - offset.low < 0.5


def test_a_jump_of_the_gateways_clock_starts_over() -> None:
    offset = ClockOffset()
    offset.add(sent=1000.0, gateway=1100.0, received=1000.1)
    assert offset.add(sent=1001.0, gateway=5000.0, received=1001.1) is True
    assert offset.value == pytest.approx(3999.45)


# --- NYSE's rules ------------------------------------------------------------------------


def test_nyse_rules_know_holidays_early_closes_and_weekends() -> None:
    assert market.nyse_day(dt.date(2026, 11, 26)) is None  # Thanksgiving
    assert market.nyse_day(dt.date(2026, 11, 28)) is None  # a Saturday
    early = market.nyse_day(dt.date(2026, 11, 27))
    assert early is not None
    assert (early.open, early.close) == (at("2026-11-27", "09:30"), at("2026-11-27", "13:00"))
    assert early.session_close == at("2026-11-27", "17:00")
    regular = market.nyse_day(dt.date(2026, 12, 3))
    assert regular is not None
    assert (regular.session_open, regular.session_close) == (
        at("2026-12-03", "04:00"),
        at("2026-12-03", "20:00"),
    )


@pytest.mark.parametrize(
    ("day", "settles"),
    [
        ("2026-11-25", "2026-11-27"),  # T+1 over Thanksgiving
        ("2026-11-27", "2026-11-30"),  # over the weekend
        ("2024-05-24", "2024-05-29"),  # T+2, over Memorial Day
        ("2024-05-28", "2024-05-29"),  # T+1 from that day on
    ],
)
def test_settlement_dates(day: str, settles: str) -> None:
    calendar = market.Calendar()
    assert calendar.settlement_date(dt.date.fromisoformat(day)).isoformat() == settles


def test_the_calendar_in_alpacas_shape() -> None:
    rows = market.calendar_rows(market.Calendar(), dt.date(2026, 11, 25), dt.date(2026, 11, 30))
    assert rows == [
        {
            "date": "2026-11-25",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2026-11-27",
        },
        {
            "date": "2026-11-27",
            "open": "09:30",
            "close": "13:00",
            "session_open": "0400",
            "session_close": "1700",
            "settlement_date": "2026-11-30",
        },
        {
            "date": "2026-11-30",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2026-12-01",
        },
    ]


def test_dates_outside_what_the_calendar_covers_are_left_out() -> None:
    calendar = market.Calendar()
    assert market.calendar_rows(calendar, dt.date(1, 1, 1), dt.date(1970, 1, 2)) == [
        market.calendar_rows(calendar, dt.date(1970, 1, 2), dt.date(1970, 1, 2))[0]
    ]
    assert market.calendar_rows(calendar, dt.date(2030, 1, 2), dt.date(2029, 1, 1)) == []


# --- the gateway's hours first -------------------------------------------------------------


def _hours(liquid: dict[str, Any], trading: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"liquid": liquid, "trading": trading or liquid}


def test_the_gateways_hours_win_over_nyse_rules_for_the_days_they_name() -> None:
    # A gateway that says the 3rd is closed and the 4th closes early.
    hours = _hours(
        {
            "2026-12-03": [],
            "2026-12-04": [["2026-12-04T09:30:00-05:00", "2026-12-04T12:00:00-05:00"]],
        }
    )
    calendar = market.Calendar(hours)
    rows = market.calendar_rows(calendar, dt.date(2026, 12, 2), dt.date(2026, 12, 7))
    assert [(r["date"], r["close"], r["settlement_date"]) for r in rows] == [
        ("2026-12-02", "16:00", "2026-12-04"),
        ("2026-12-04", "12:00", "2026-12-07"),
        ("2026-12-07", "16:00", "2026-12-08"),  # NYSE's rules again
    ]


def test_a_market_open_round_the_clock_shows_whole_days() -> None:
    hours = _hours({"2026-12-05": [["2026-12-05T00:00:00-05:00", "2026-12-06T00:00:00-05:00"]]})
    [row] = market.calendar_rows(market.Calendar(hours), dt.date(2026, 12, 5), dt.date(2026, 12, 5))
    assert (row["open"], row["close"], row["session_open"], row["session_close"]) == (
        "00:00",
        "23:59",
        "0000",
        "2359",
    )


# --- the clock ---------------------------------------------------------------------------


def test_the_clock_on_nyse_rules() -> None:
    calendar = market.Calendar()
    assert market.clock(at("2026-11-25", "15:59"), calendar) == {
        "timestamp": "2026-11-25T15:59:00-05:00",
        "is_open": True,
        "next_open": "2026-11-27T09:30:00-05:00",
        "next_close": "2026-11-25T16:00:00-05:00",
    }
    assert market.clock(at("2026-11-25", "16:00"), calendar)["is_open"] is False


def test_back_to_back_sessions_are_one_open_market() -> None:
    liquid = {
        f"2026-12-0{d}": [[f"2026-12-0{d}T00:00:00-05:00", f"2026-12-0{d + 1}T00:00:00-05:00"]]
        for d in range(3, 6)
    }
    clock = market.clock(at("2026-12-04", "23:59"), market.Calendar(_hours(liquid)))
    assert clock["is_open"] is True
    assert clock["next_close"] == "2026-12-06T00:00:00-05:00"  # the end of the run
    assert clock["next_open"] == "2026-12-07T09:30:00-05:00"  # NYSE's next open after it


def test_the_clock_shows_utc_times_in_eastern_time() -> None:
    now = dt.datetime(2026, 7, 1, 13, 30, 5, 250000, tzinfo=dt.UTC)
    clock = market.clock(now, market.Calendar())
    assert clock["timestamp"] == "2026-07-01T09:30:05.250000-04:00"
    assert clock["is_open"] is True


# --- assets ------------------------------------------------------------------------------


def _row(**overrides: Any) -> dict[str, Any]:
    row = {
        "con_id": 756733,
        "symbol": "SPY",
        "sec_type": "STK",
        "currency": "USD",
        "exchange": "ARCA",
        "name": "SPDR S&P 500 ETF TRUST",
        "min_tick": 0.01,
        "stock_type": "ETF",
    }
    return {**row, **overrides}


def test_a_contract_as_alpacas_asset() -> None:
    asset = market.asset(_row(), tradable=True)
    assert asset is not None
    assert asset["id"] == str(ids.asset_uuid(756733))  # SPY's conId
    assert (asset["class"], asset["exchange"], asset["status"]) == ("us_equity", "ARCA", "active")
    assert (asset["fractionable"], asset["marginable"], asset["tradable"]) == (False, True, True)
    assert asset["price_increment"] == 0.01


def test_what_alpaca_cannot_name_is_no_asset() -> None:
    assert market.asset(_row(sec_type="FUT"), tradable=True) is None
    assert market.asset(_row(currency="EUR"), tradable=True) is None
    unknown_exchange = market.asset(_row(exchange="TSEJ"), tradable=True)
    assert unknown_exchange is not None
    assert unknown_exchange["exchange"] == ""


def test_alpacas_asset_filters() -> None:
    spy = market.asset(_row(), tradable=True)
    aapl = market.asset(_row(symbol="AAPL", exchange="NASDAQ"), tradable=True)
    assert spy is not None
    assert aapl is not None
    both = [spy, aapl]
    assert [a["symbol"] for a in market.assets_filtered(both)] == ["AAPL", "SPY"]
    assert market.assets_filtered(both, exchange="ARCA") == [spy]
    assert market.assets_filtered(both, status="inactive") == []
    assert market.assets_filtered(both, asset_class="crypto") == []
    assert market.assets_filtered(both, attributes=["has_options"]) == []


# --- when the market last closed -------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "closed_since"),
    [
        (at("2027-03-10", "12:00"), None),  # a Wednesday, in the session
        (at("2027-03-10", "17:00"), at("2027-03-10", "16:00")),  # after hours
        (at("2027-03-10", "21:00"), at("2027-03-10", "16:00")),  # the night
        (at("2027-03-11", "08:00"), at("2027-03-10", "16:00")),  # pre-market
        (at("2027-03-13", "12:00"), at("2027-03-12", "16:00")),  # Saturday
        (at("2027-03-15", "09:00"), at("2027-03-12", "16:00")),  # Monday, before the open
        (at("2026-11-27", "14:00"), at("2026-11-27", "13:00")),  # an early close
        (at("2026-11-26", "12:00"), at("2026-11-25", "16:00")),  # Thanksgiving
    ],
)
def test_the_last_close_while_the_regular_session_is_closed(
    now: dt.datetime, closed_since: dt.datetime | None
) -> None:
    assert market.Calendar().closed_since(now) == closed_since


def test_the_last_close_follows_the_gateways_hours() -> None:
    hours = {
        "liquid": {"2027-03-10": [["2027-03-10T09:30:00-05:00", "2027-03-10T12:00:00-05:00"]]},
        "trading": {},
    }
    calendar = market.Calendar(hours)
    assert calendar.closed_since(at("2027-03-10", "13:00")) == at("2027-03-10", "12:00")
