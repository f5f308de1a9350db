"""The one table of Alpaca's order requests in IB's terms (v2api.ib_orders),
and the IB orders the worker builds from them (trading.gateway.order_building),
alone: no stack."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from trading.gateway.order_building import build_orders
from v2api import ib_orders, mapping

ORDER = {"symbol": "AAPL", "qty": 10.0, "side": "buy", "time_in_force": "day"}


def built(order: dict[str, Any]) -> list[Any]:
    kind, data = ib_orders.order_request({**ORDER, **order}, order_ref="ref-1")
    ids = itertools.count(7)
    return build_orders(kind, data, account="DU1", next_id=lambda: next(ids))


@pytest.mark.parametrize(
    ("order_type", "tif", "kind", "ib_tif"),
    [
        ("market", "day", "market", "DAY"),
        ("limit", "gtc", "limit", "GTC"),
        ("limit", "opg", "limit", "OPG"),
        ("market", "opg", "market", "OPG"),
        ("market", "cls", "market_on_close", "DAY"),
        ("limit", "cls", "limit_on_close", "DAY"),
        ("market", "ioc", "market", "IOC"),
        ("limit", "fok", "limit", "FOK"),
        ("stop_limit", "gtc", "stop_limit", "GTC"),
        ("trailing_stop", "day", "trailing_stop", "DAY"),
    ],
)
def test_each_type_and_time_in_force_is_one_kind_and_ib_time_in_force(
    order_type: str, tif: str, kind: str, ib_tif: str
) -> None:
    assert ib_orders.single_kind(order_type, tif) == (kind, ib_tif)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ({"type": "market", "time_in_force": "cls"}, {"orderType": "MOC", "tif": "DAY"}),
        (
            {"type": "limit", "time_in_force": "cls", "limit_price": 230.0},
            {"orderType": "LOC", "tif": "DAY", "lmtPrice": 230.0},
        ),
        ({"type": "market", "time_in_force": "opg"}, {"orderType": "MKT", "tif": "OPG"}),
        (
            {"type": "stop_limit", "stop_price": 240.0, "limit_price": 241.0},
            {"orderType": "STP LMT", "auxPrice": 240.0, "lmtPrice": 241.0},
        ),
        (
            {"type": "trailing_stop", "trail_price": 2.5, "time_in_force": "gtc"},
            {"orderType": "TRAIL", "auxPrice": 2.5, "tif": "GTC"},
        ),
        (
            {"type": "trailing_stop", "trail_percent": 1.5},
            {"orderType": "TRAIL", "trailingPercent": 1.5},
        ),
        (
            {"type": "limit", "limit_price": 230.0, "extended_hours": True},
            {"orderType": "LMT", "outsideRth": True, "orderRef": "ref-1", "account": "DU1"},
        ),
    ],
)
def test_a_single_order_is_one_ib_order_as_the_table_says(
    order: dict[str, Any], expected: dict[str, Any]
) -> None:
    (ib_order,) = built(order)

    assert {name: getattr(ib_order, name) for name in expected} == expected
    assert (ib_order.action, ib_order.totalQuantity, ib_order.transmit) == ("BUY", 10.0, True)


def test_a_bracket_with_a_stop_limit_exit_is_parent_and_two_children_sent_at_once() -> None:
    parent, stop_loss, take_profit = built(
        {
            "type": "market",
            "time_in_force": "gtc",
            "order_class": "bracket",
            "take_profit": {"limit_price": 250.0},
            "stop_loss": {"stop_price": 220.0, "limit_price": 219.0},
        }
    )

    assert (parent.orderType, parent.tif, parent.transmit) == ("MKT", "GTC", False)
    assert (stop_loss.orderType, stop_loss.auxPrice, stop_loss.lmtPrice) == (
        "STP LMT",
        220.0,
        219.0,
    )
    assert (take_profit.orderType, take_profit.lmtPrice) == ("LMT", 250.0)
    assert [o.transmit for o in (stop_loss, take_profit)] == [False, True]
    assert {o.action for o in (stop_loss, take_profit)} == {"SELL"}
    assert stop_loss.parentId == take_profit.parentId == parent.orderId == 7


def test_an_oto_is_an_entry_and_its_one_exit() -> None:
    entry, exit_order = built(
        {
            "type": "limit",
            "limit_price": 230.0,
            "order_class": "oto",
            "stop_loss": {"stop_price": 220.0},
        }
    )

    assert (entry.orderType, entry.transmit) == ("LMT", False)
    assert (exit_order.orderType, exit_order.action, exit_order.transmit) == ("STP", "SELL", True)
    assert exit_order.parentId == entry.orderId


def test_an_oco_is_two_exits_of_the_same_side_in_one_oca_group_both_transmitted() -> None:
    take_profit, stop_loss = built(
        {
            "type": "limit",
            "side": "sell",
            "time_in_force": "gtc",
            "order_class": "oco",
            "take_profit": {"limit_price": 250.0},
            "stop_loss": {"stop_price": 220.0},
        }
    )

    assert (take_profit.orderType, take_profit.lmtPrice) == ("LMT", 250.0)
    assert (stop_loss.orderType, stop_loss.auxPrice) == ("STP", 220.0)
    assert {o.action for o in (take_profit, stop_loss)} == {"SELL"}
    assert take_profit.ocaGroup == stop_loss.ocaGroup == "oco-7"
    assert take_profit.ocaType == stop_loss.ocaType == 1
    assert [o.transmit for o in (take_profit, stop_loss)] == [True, True]
    assert [o.parentId for o in (take_profit, stop_loss)] == [0, 0]


RECORD: dict[str, Any] = {
    "perm_id": 11,
    "order_ref": "r",
    "symbol": "AAPL",
    "action": "SELL",
    "status": "Submitted",
    "quantity": 1,
    "filled": 0,
    "limit_price": None,
    "stop_price": None,
    "avg_fill_price": None,
    "tif": "GTC",
    "parent_perm_id": None,
    "placed_at": None,
    "updated_at": None,
    "finished_at": None,
}


def test_a_trailing_stop_reads_back_with_its_trail_and_current_stop() -> None:
    now = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)
    by_amount = {**RECORD, "order_type": "TRAIL", "stop_price": 2.5, "trail_stop_price": 233.5}
    by_percent = {**RECORD, "order_type": "TRAIL", "trail_percent": 1.5}

    amount, percent = (mapping.order_out(r, now=now) for r in (by_amount, by_percent))

    assert (amount["type"], amount["trail_price"], amount["trail_percent"]) == (
        "trailing_stop",
        "2.5",
        None,
    )
    assert amount["stop_price"] == "233.5"
    assert (percent["trail_price"], percent["trail_percent"]) == (None, "1.5")
    assert percent["time_in_force"] == "gtc"


def test_linked_orders_get_their_class_and_the_primary_its_legs() -> None:
    parent = {**RECORD, "perm_id": 1, "order_type": "LMT"}
    children = [{**RECORD, "perm_id": p, "order_type": "LMT", "parent_perm_id": 1} for p in (2, 3)]
    oco = [{**RECORD, "perm_id": p, "order_type": "LMT", "oca_group": "g"} for p in (5, 4)]
    alone = {**RECORD, "perm_id": 6, "order_type": "LMT"}

    classes = mapping.order_classes([parent, *children, *oco, alone])

    assert classes == {
        1: ("bracket", [2, 3]),
        2: ("bracket", []),
        3: ("bracket", []),
        4: ("oco", [5]),
        5: ("oco", []),
    }


def test_a_child_reported_by_its_parents_order_id_is_linked_to_its_permid() -> None:
    rows = [
        {"clientId": 0, "orderId": 7, "permId": 70, "parentId": None, "parentPermId": None},
        {"clientId": 0, "orderId": 8, "permId": 80, "parentId": 7, "parentPermId": None},
        {"clientId": 1, "orderId": 8, "permId": 81, "parentId": 9, "parentPermId": None},
    ]

    linked = mapping.parents_linked(rows)

    assert [r["parentPermId"] for r in linked] == [None, 70, None]


# --- replacing ------------------------------------------------------------------------

WORKING = {
    "symbol": "AAPL",
    "order_type": "LMT",
    "quantity": 10.0,
    "filled": 4.0,
    "limit_price": 230.0,
    "stop_price": None,
    "trail_percent": None,
}


@pytest.mark.parametrize(
    ("record", "changes", "refusal"),
    [
        ({}, {"qty": 4}, "qty must exceed the quantity filled (4)"),
        ({}, {"stop_price": 1}, "stop_price does not apply to this order (IB type LMT)"),
        ({"order_type": "STP"}, {"limit_price": 1}, "limit_price does not apply"),
        ({}, {"trail": 1}, "trail does not apply"),
        ({"order_type": "MOC"}, {"time_in_force": "day"}, "time_in_force cls is an order type"),
        ({}, {"qty": 5, "limit_price": 231, "time_in_force": "gtc"}, ""),
        ({"order_type": "TRAIL"}, {"trail": 2}, ""),
    ],
)
def test_what_a_replacement_may_change(
    record: dict[str, Any], changes: dict[str, Any], refusal: str
) -> None:
    found = ib_orders.replacement_refusal({**WORKING, **record}, changes)

    assert found.startswith(refusal)
    assert bool(found) == bool(refusal)


def test_a_replacement_in_ibs_terms_and_judged_as_a_new_order() -> None:
    changes = {"qty": 12, "limit_price": 231.5, "time_in_force": "gtc"}

    ib = ib_orders.replacement_changes(WORKING, changes)

    assert ib == {"quantity": 12, "limit_price": 231.5, "tif": "GTC"}
    assert ib_orders.replaced_order(WORKING, ib) == {
        "symbol": "AAPL",
        "quantity": 12,
        "limit_price": 231.5,
        "stop_price": None,
    }


@pytest.mark.parametrize(("percent", "field"), [(5.0, "trail_percent"), (None, "trail_price")])
def test_a_trail_replaces_the_amount_the_order_trails_by(percent: float | None, field: str) -> None:
    record = {**WORKING, "order_type": "TRAIL", "trail_percent": percent}

    assert ib_orders.replacement_changes(record, {"trail": 3}) == {field: 3}


def test_an_order_just_placed_names_its_asset_by_the_conid_the_worker_qualified() -> None:
    """POST /v2/orders' answer: the asset id from the worker's acknowledgement
    (trading.services.Placed.con_ids), with no lookup."""
    order = {"type": "limit", "limit_price": 200.0, "order_class": "bracket"}
    kind, data = ib_orders.order_request(
        {
            **ORDER,
            **order,
            "take_profit": {"limit_price": 250.0},
            "stop_loss": {"stop_price": 190.0},
        },
        order_ref="ref-1",
    )
    now = dt.datetime(2026, 1, 5, 15, 34, tzinfo=dt.UTC)

    records = ib_orders.requested_records(
        kind, data, [11, 12, 13], placed_at=now, con_ids=[265598] * 3
    )
    bodies = [mapping.order_out(record, now=now) for record in records]

    assert [(r["con_id"], r["sec_type"]) for r in records] == [(265598, "STK")] * 3
    assert {b["asset_id"] for b in bodies} == {"fb9e9be8-7e2e-52ee-a1cd-00523c043964"}
