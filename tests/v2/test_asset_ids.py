"""/v2's asset ids for the journal's rows stored before conIds were kept: their
symbol's stock conId (journal.selectors.stock_con_ids, v2api.selectors.con_ids_filled),
one query for a whole answer, none when every row has its own."""

from __future__ import annotations

from typing import Any

import pytest

from journal import selectors, services
from journal.models import Order
from tests.journal.factories import order_data
from v2api import mapping
from v2api.selectors import con_ids_filled

pytestmark = pytest.mark.django_db

OPTION_CON_ID = 752_311_880  # an AAPL option: its own conId under the underlying's symbol


def _records() -> list[dict[str, Any]]:
    rows = Order.objects.order_by("perm_id").values(*mapping.JOURNAL_FIELDS)
    return [mapping.record_from_journal(row) for row in rows]


def test_the_newest_stock_order_of_each_symbol_names_its_conid() -> None:
    services.order_record(data=order_data(perm_id=1, con_id=None, sec_type=None))
    services.order_record(data=order_data(perm_id=2))
    services.order_record(data=order_data(perm_id=3, con_id=OPTION_CON_ID, sec_type="OPT"))
    services.order_record(data=order_data(perm_id=4, symbol="MSFT", con_id=None, sec_type=None))

    found = selectors.stock_con_ids(symbols={"AAPL", "MSFT", "KO"})

    assert found == {"AAPL": 265598}  # not the option's; none known for MSFT and KO


def test_rows_stored_before_conids_take_their_symbols_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    services.order_record(data=order_data(perm_id=1, con_id=None, sec_type=None))
    services.order_record(data=order_data(perm_id=2, symbol="MSFT", con_id=None, sec_type=None))
    services.order_record(data=order_data(perm_id=3, symbol="MSFT"))
    services.order_record(data=order_data(perm_id=4, status="Filled"))
    old_aapl, old_msft, _, _ = records = _records()
    del records[3]  # the AAPL row with a conId is not in this answer: the journal has it

    with django_assert_num_queries(1):
        filled = con_ids_filled(records)

    assert [r["con_id"] for r in filled] == [265598, 272093, 272093]
    assert (old_aapl["con_id"], old_msft["con_id"]) == (265598, 272093)


def test_an_answer_whose_rows_carry_their_conids_costs_no_query(
    django_assert_num_queries: Any,
) -> None:
    services.order_record(data=order_data(perm_id=1))
    records = _records()

    with django_assert_num_queries(0):
        assert con_ids_filled(records)[0]["con_id"] == 265598


def test_a_symbol_whose_conid_nothing_knows_keeps_none() -> None:
    services.order_record(data=order_data(perm_id=1, symbol="KO", con_id=None, sec_type=None))

    [record] = con_ids_filled(_records())

    assert record["con_id"] is None
    assert mapping.order_out(record, now=record["placed_at"])["asset_id"] is None
