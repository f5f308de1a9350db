"""Pages of /executions are cached per web process under the journal's change
token; every write through journal.services (after it commits) makes them
stale.  Real database, real Redis cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from journal import selectors, services
from tests.journal.factories import execution_data, revision
from trading.selectors import executions_list

pytestmark = pytest.mark.django_db(transaction=True)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["execId"] for row in rows]


def test_a_new_fill_is_on_the_next_page_read() -> None:
    first = execution_data(symbol="AAPL", order_ref="cache-1")
    services.execution_record(data=first, source="trades()")
    assert ids(executions_list(symbol="AAPL")) == [first["exec_id"]]
    token = cache.get(selectors.CHANGE_TOKEN)

    second = execution_data(symbol="AAPL", order_ref="cache-2")
    services.execution_record(data=second, source="trades()")

    assert cache.get(selectors.CHANGE_TOKEN) != token
    assert set(ids(executions_list(symbol="AAPL"))) == {first["exec_id"], second["exec_id"]}


def test_a_commission_and_a_correction_reach_a_cached_page() -> None:
    data = execution_data(symbol="MSFT", commission=None)
    services.execution_record(data=data, source="trades()")
    (row,) = executions_list(symbol="MSFT")
    assert row["commission"] is None

    services.commission_record(
        exec_id=data["exec_id"], commission=1.25, currency="USD", realized_pnl=None
    )
    (row,) = executions_list(symbol="MSFT")
    assert row["commission"] == 1.25

    corrected = {**data, "exec_id": revision(data["exec_id"], 2), "price": 101.5}
    services.execution_record(data=corrected, source="reqExecutions")
    (row,) = executions_list(symbol="MSFT")
    assert (row["execId"], row["price"]) == (corrected["exec_id"], 101.5)


def test_without_a_change_token_pages_are_read_every_time() -> None:
    """A cache that lost the token (restarted): nothing is served from memory
    until a new token exists, and the reader starts one."""
    data = execution_data(symbol="NVDA")
    services.execution_record(data=data, source="trades()")
    cache.delete(selectors.CHANGE_TOKEN)

    assert ids(selectors.executions_page({"symbol": "NVDA"}, 10, None)) == [data["exec_id"]]
    assert cache.get(selectors.CHANGE_TOKEN)  # started again


def test_a_cached_page_is_not_changed_by_its_readers() -> None:
    data = execution_data(symbol="TSLA")
    services.execution_record(data=data, source="trades()")
    token = cache.get(selectors.CHANGE_TOKEN)
    page = selectors.executions_page({"symbol": "TSLA"}, 10, token)
    page[0] = {**page[0], "commission": 99.0}
    page.append({"execId": "x"})

    again = selectors.executions_page({"symbol": "TSLA"}, 10, token)
    assert ids(again) == [data["exec_id"]]
    assert again[0]["commission"] != 99.0
