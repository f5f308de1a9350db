"""Handshake, clientIds, account data and contract lookups over the socket."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import (
    AAPL_CON_ID,
    SERVER_VERSIONS,
    ErrorLog,
    account_value,
    stock,
    wait_until,
)

ACCOUNT_TAGS = ("NetLiquidation", "AvailableFunds", "TotalCashValue", "BuyingPower")


def test_handshake_negotiates_library_version(ib: Any, lib: str) -> None:
    assert ib.isConnected()
    assert ib.client.serverVersion() == SERVER_VERSIONS[lib]


def test_managed_account_is_a_paper_account(ib: Any) -> None:
    accounts = ib.managedAccounts()
    assert accounts == ["DU1234567"]
    assert accounts[0].startswith("DU")


def test_duplicate_client_id_is_refused(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    first = clients.connect(lib, 5)
    second = api.IB()
    clients.opened.append(second)
    errors = ErrorLog.attach(second)
    # The libraries wait for the whole timeout after the peer closes the socket.
    with pytest.raises((TimeoutError, ConnectionError)):
        second.connect("127.0.0.1", sim.port, clientId=5, timeout=1)
    assert 326 in errors.codes()
    assert "client id is already in use" in (errors.find(326) or (0, 0, ""))[2]
    assert not second.isConnected()
    # The first connection is unaffected.
    assert first.isConnected()
    assert first.reqCurrentTime() is not None
    assert sim.call("counters")["clients"] == [5]


def test_account_values_are_reported(ib: Any) -> None:
    for tag in (*ACCOUNT_TAGS, "GrossPositionValue"):
        assert account_value(ib, tag) is not None, tag
    assert float(account_value(ib, "NetLiquidation") or 0) == 1_000_000.0
    assert float(account_value(ib, "TotalCashValue") or 0) == 1_000_000.0
    assert float(account_value(ib, "AvailableFunds") or 0) == 1_000_000.0
    assert float(account_value(ib, "BuyingPower") or 0) == 4_000_000.0
    assert float(account_value(ib, "GrossPositionValue") or -1) == 0.0
    assert account_value(ib, "AccountCode") == "DU1234567"


def test_account_summary(ib: Any) -> None:
    summary = {v.tag: v for v in ib.accountSummary()}
    for tag in (*ACCOUNT_TAGS, "GrossPositionValue"):
        assert tag in summary, tag
        assert summary[tag].account == "DU1234567"
        assert summary[tag].currency == "USD"
    assert float(summary["NetLiquidation"].value) == 1_000_000.0
    assert float(summary["GrossPositionValue"].value) == 0.0


def test_contract_details_for_aapl(ib: Any, api: ModuleType) -> None:
    details = ib.reqContractDetails(stock(api, "AAPL"))
    assert len(details) == 1
    cd = details[0]
    assert cd.contract.conId == AAPL_CON_ID
    assert cd.contract.symbol == "AAPL"
    assert cd.contract.secType == "STK"
    assert cd.contract.primaryExchange == "NASDAQ"
    assert cd.contract.currency == "USD"
    assert cd.minTick == 0.01
    assert cd.longName == "APPLE INC"
    assert cd.timeZoneId == "US/Eastern"
    # Looking it up by conId alone gives the same contract.
    by_id = ib.reqContractDetails(api.Contract(conId=AAPL_CON_ID))
    assert [d.contract.symbol for d in by_id] == ["AAPL"]


def test_universe_has_twenty_qualifiable_symbols(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    prices = sim.call("prices")
    assert len(prices) >= 20
    assert prices["AAPL"] == 236.42
    assert all(price > 0 for price in prices.values())
    symbols = sorted(prices)[:25]
    qualified = [c for c in ib.qualifyContracts(*[stock(api, s) for s in symbols]) if c]
    assert [c.symbol for c in qualified] == symbols
    assert all(c.conId > 0 for c in qualified)
    assert len({c.conId for c in qualified}) == len(symbols)


def test_unknown_symbol_gives_error_200(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    result = ib.qualifyContracts(stock(api, "NOSUCHSYM"))
    assert [c for c in result if c] == []
    assert 200 in errors.codes()
    assert ib.reqContractDetails(stock(api, "NOSUCHSYM")) == []
    wait_until(ib, lambda: errors.codes().count(200) == 2, what="second error 200")
