"""/v2's clock, calendar and assets against the real stack: alpaca-py's
TradingClient parses every answer (its models validate types, UUIDs and
enums); the simulator's clock commands move the gateway's time, and its
contract details (trading hours, names, exchanges) are what the service
reports."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, AssetExchange, AssetStatus
from alpaca.trading.models import Asset, Calendar, Clock
from alpaca.trading.requests import GetAssetsRequest, GetCalendarRequest

from tests.stack import Stack, eventually
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

EASTERN = ZoneInfo("America/New_York")
T = TypeVar("T")


def parsed(value: object, kind: type[T]) -> T:
    assert isinstance(value, kind), value
    return value


def clock_at(client: TradingClient, api: Stack, when: str | None) -> Clock:
    """The clock once the worker has seen the simulator's clock jump to
    ``when`` (US/Eastern; None: the clock as it is, the wall clock's time)."""
    if when is None:
        target = dt.datetime.now(dt.UTC)
    else:
        api.sim.call("set_clock", time=when)
        target = dt.datetime.fromisoformat(when).replace(tzinfo=EASTERN)

    def moved() -> Clock | None:
        try:
            clock = parsed(client.get_clock(), Clock)
        except APIError as exc:  # 503 until the worker first asked the gateway
            if exc.status_code != 503:
                raise
            return None
        return clock if abs((clock.timestamp - target).total_seconds()) < 30 else None

    # (A jump makes the worker fetch the new days' trading hours too; under
    # load that can take a few rounds of its one-second refresh.)
    result: Clock = eventually(moved, timeout=30)
    return result


def days(client: TradingClient, start: dt.date, end: dt.date) -> list[Calendar]:
    answer = client.get_calendar(GetCalendarRequest(start=start, end=end))
    assert isinstance(answer, list)
    return [parsed(day, Calendar) for day in answer]


# --- clock -----------------------------------------------------------------------------


def test_the_clock_before_an_early_close_day_opens(client: TradingClient, api: Stack) -> None:
    clock = clock_at(client, api, "2026-11-27T08:15:00")  # the day after Thanksgiving
    assert clock.is_open is False
    assert clock.next_open == dt.datetime(2026, 11, 27, 9, 30, tzinfo=EASTERN)
    assert clock.next_close == dt.datetime(2026, 11, 27, 13, 0, tzinfo=EASTERN)
    assert clock.timestamp.utcoffset() == dt.timedelta(hours=-5)  # US/Eastern, as Alpaca


def test_the_clock_during_the_session_and_after_the_early_close(
    client: TradingClient, api: Stack
) -> None:
    during = clock_at(client, api, "2026-11-27T10:00:00")
    assert during.is_open is True
    assert during.next_close == dt.datetime(2026, 11, 27, 13, 0, tzinfo=EASTERN)
    assert during.next_open == dt.datetime(2026, 11, 30, 9, 30, tzinfo=EASTERN)
    after = clock_at(client, api, "2026-11-27T13:30:00")
    assert after.is_open is False
    assert after.next_open == dt.datetime(2026, 11, 30, 9, 30, tzinfo=EASTERN)
    assert after.next_close == dt.datetime(2026, 11, 30, 16, 0, tzinfo=EASTERN)


def test_the_clock_skips_a_holiday_beyond_the_gateways_hours(
    client: TradingClient, api: Stack
) -> None:
    # Friday 2027-12-17: the gateway's hours name a week; Christmas (observed
    # on Friday the 24th) is in them, the days after come from NYSE's rules.
    clock = clock_at(client, api, "2027-12-23T17:00:00")
    assert clock.is_open is False
    assert clock.next_open == dt.datetime(2027, 12, 27, 9, 30, tzinfo=EASTERN)


def test_the_open_clock_of_the_simulator_is_open_now(client: TradingClient, api: Stack) -> None:
    """The simulator's default clock keeps the market open at every hour: so
    does /v2/clock, on the gateway's (the wall clock's) time."""
    now = dt.datetime.now(dt.UTC)
    # (Within a second of the fixture's reset, the worker may still show the
    # clock an earlier test had moved.)
    clock = clock_at(client, api, None)
    assert clock.is_open is True
    assert abs((clock.timestamp - now).total_seconds()) < 3
    assert clock.next_close > now
    assert clock.next_open > now


# --- calendar --------------------------------------------------------------------------


def test_the_calendar_around_thanksgiving_from_the_gateways_hours(
    client: TradingClient, api: Stack
) -> None:
    clock_at(client, api, "2026-11-23T12:00:00")
    found = days(client, dt.date(2026, 11, 23), dt.date(2026, 12, 1))
    assert [(d.date.isoformat(), d.open.time(), d.close.time()) for d in found] == [
        ("2026-11-23", dt.time(9, 30), dt.time(16, 0)),
        ("2026-11-24", dt.time(9, 30), dt.time(16, 0)),
        ("2026-11-25", dt.time(9, 30), dt.time(16, 0)),
        # 26th: Thanksgiving; 28th, 29th: the weekend
        ("2026-11-27", dt.time(9, 30), dt.time(13, 0)),
        ("2026-11-30", dt.time(9, 30), dt.time(16, 0)),
        ("2026-12-01", dt.time(9, 30), dt.time(16, 0)),
    ]


def test_the_calendar_in_alpacas_raw_shape(api: Stack) -> None:
    response = api.get("/v2/calendar", params={"start": "2027-12-22", "end": "2027-12-28"})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "date": "2027-12-22",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2027-12-23",
        },
        {
            "date": "2027-12-23",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2027-12-27",  # T+1: the 24th is Christmas (observed)
        },
        {
            "date": "2027-12-27",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2027-12-28",
        },
        {
            "date": "2027-12-28",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2027-12-29",
        },
    ]


def test_the_calendar_knows_the_past_settled_t_plus_two(client: TradingClient, api: Stack) -> None:
    found = days(client, dt.date(2001, 9, 10), dt.date(2001, 9, 18))
    # NYSE stayed closed from 11 to 14 September 2001.
    assert [d.date.isoformat() for d in found] == ["2001-09-10", "2001-09-17", "2001-09-18"]
    response = api.get("/v2/calendar", params={"start": "2001-09-10", "end": "2001-09-10"})
    assert response.json()[0]["settlement_date"] == "2001-09-18"


def test_the_whole_calendar_without_dates_as_alpaca(api: Stack) -> None:
    """Regression: without start and end the view answered 500."""
    response = api.get("/v2/calendar")
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found[0]["date"], found[-1]["date"]) == ("1970-01-02", "2029-12-31")
    assert len(found) > 15000


def test_a_calendar_date_that_is_not_a_date_is_422(api: Stack) -> None:
    response = api.get("/v2/calendar", params={"start": "2026-13-01"})
    assert response.status_code == 422
    assert response.json()["code"] == 42210000
    assert "start" in response.json()["message"]


# --- assets ----------------------------------------------------------------------------


def test_an_asset_by_symbol_from_ibs_contract_details(client: TradingClient) -> None:
    asset = parsed(client.get_asset("aapl"), Asset)
    assert asset.id == ids.asset_uuid(265598)  # AAPL's conId at IB (and the simulator's)
    assert (asset.symbol, asset.name) == ("AAPL", "APPLE INC")
    assert asset.exchange == AssetExchange.NASDAQ
    assert asset.asset_class == AssetClass.US_EQUITY
    assert asset.status == AssetStatus.ACTIVE
    assert (asset.tradable, asset.marginable, asset.fractionable) == (True, True, False)
    assert asset.price_increment == 0.01
    spy = parsed(client.get_asset("SPY"), Asset)
    assert (spy.exchange, spy.name) == (AssetExchange.ARCA, "SPDR S&P 500 ETF TRUST")


def test_an_unknown_symbol_is_404_in_alpacas_shape(api: Stack, client: TradingClient) -> None:
    response = api.get("/v2/assets/NOSUCHSYM")
    assert response.status_code == 404
    assert response.json() == {"code": 40410000, "message": "asset not found"}
    with pytest.raises(APIError) as raised:
        client.get_asset("NOSUCHSYM")
    assert raised.value.status_code == 404


def test_an_unknown_asset_id_is_404(api: Stack) -> None:
    response = api.get("/v2/assets/3f2c9a39-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == 40410000


def test_assets_looked_up_are_listed_and_found_by_id(client: TradingClient) -> None:
    msft = parsed(client.get_asset("MSFT"), Asset)
    listed = client.get_all_assets()
    assert isinstance(listed, list)
    by_symbol = {a.symbol: parsed(a, Asset) for a in listed}
    assert by_symbol["MSFT"] == msft
    assert parsed(client.get_asset(msft.id), Asset) == msft
    nasdaq = client.get_all_assets(GetAssetsRequest(exchange=AssetExchange.NASDAQ))
    assert isinstance(nasdaq, list)
    assert "MSFT" in {a.symbol for a in nasdaq}
    assert all(a.exchange == AssetExchange.NASDAQ for a in nasdaq)
    inactive = client.get_all_assets(GetAssetsRequest(status=AssetStatus.INACTIVE))
    assert inactive == []
    crypto = client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    assert crypto == []


def test_a_held_symbol_is_listed(client: TradingClient, api: Stack) -> None:
    api.sim.call("set_position", symbol="KO", quantity=25, avg_cost=70.0)

    def listed() -> set[str] | None:
        symbols = {a.symbol for a in client.get_all_assets()}  # type: ignore[union-attr]
        return symbols if "KO" in symbols else None

    assert "KO" in eventually(listed, timeout=10)

    # The position and the asset name the same asset id.
    def held() -> Any:
        try:
            return client.get_open_position("KO")
        except APIError as exc:  # 404 until the mirror shows it
            if exc.status_code != 404:
                raise
            return None

    position = eventually(held, timeout=10)
    assert parsed(client.get_asset(position.asset_id), Asset).symbol == "KO"
    api.sim.call("set_position", symbol="KO", quantity=0, avg_cost=0.0)


def test_a_denied_symbol_is_not_tradable(stack: Stack, api: Stack) -> None:
    url = stack.start_extra_web("web-v2-denylist", SYMBOL_DENYLIST="INTC")
    response: Any = requests.get(url + "/v2/assets/INTC", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["tradable"] is False
    assert requests.get(url + "/v2/assets/AMD", timeout=10).json()["tradable"] is True
