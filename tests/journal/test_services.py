"""journal.services against the real database: idempotent upserts, corrections,
commissions in either order, order status history, sync runs, races."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections

from journal import services
from journal.models import Execution, Order, PendingCommission, SyncRun
from tests.journal.factories import execution_data, order_data, revision

pytestmark = pytest.mark.django_db


# --- executions ---------------------------------------------------------------


def test_the_same_execution_twice_is_one_row() -> None:
    data = execution_data(commission=1.0, commission_currency="USD", realized_pnl=None)

    first = services.execution_record(data=data, source="trades()")
    second = services.execution_record(data=dict(data), source="reqExecutions")

    assert (first, second) == ("inserted", "unchanged")
    row = Execution.objects.get()
    assert row.exec_id == data["exec_id"]
    assert row.exec_stem == data["exec_id"].rpartition(".")[0]
    assert row.revision == 1
    assert row.source == "trades()"
    assert row.quantity == Decimal("10")
    assert row.price == Decimal("230.5")
    assert row.commission == Decimal("1")
    assert row.commission_currency == "USD"


def test_a_correction_replaces_the_fill() -> None:
    original = execution_data(price=230.5, commission=1.0, commission_currency="USD")
    corrected = {
        **original,
        "exec_id": revision(original["exec_id"], 2),
        "price": 230.25,
        "avg_price": 230.25,
        "commission": None,
        "commission_currency": "",
    }

    assert services.execution_record(data=original, source="trades()") == "inserted"
    assert services.execution_record(data=corrected, source="trades()") == "updated"

    row = Execution.objects.get()
    assert row.exec_id == corrected["exec_id"]
    assert row.exec_id.endswith(".02")
    assert row.revision == 2
    assert row.price == Decimal("230.25")
    assert row.avg_price == Decimal("230.25")
    # The old revision's commission belonged to the old fill: wait for the new report.
    assert row.commission is None

    services.commission_record(
        exec_id=corrected["exec_id"], commission=1.0, currency="USD", realized_pnl=None
    )
    row.refresh_from_db()
    assert row.commission == Decimal("1")


def test_an_older_revision_arriving_later_does_not_overwrite() -> None:
    original = execution_data(price=230.5)
    corrected = {**original, "exec_id": revision(original["exec_id"], 2), "price": 231.0}

    services.execution_record(data=corrected, source="trades()")
    outcome = services.execution_record(data=original, source="reqExecutions")

    assert outcome == "unchanged"
    row = Execution.objects.get()
    assert (row.exec_id, row.revision, row.price) == (corrected["exec_id"], 2, Decimal("231"))


def test_the_commission_of_a_correction_may_come_before_the_correction() -> None:
    original = execution_data(commission=1.0, commission_currency="USD", realized_pnl=None)
    corrected = {
        **original,
        "exec_id": revision(original["exec_id"], 2),
        "price": 229.0,
        "commission": None,
        "commission_currency": "",
    }
    services.execution_record(data=original, source="trades()")

    services.commission_record(
        exec_id=corrected["exec_id"], commission=1.1, currency="USD", realized_pnl=None
    )
    assert PendingCommission.objects.get().exec_id == corrected["exec_id"]
    services.execution_record(data=corrected, source="trades()")

    row = Execution.objects.get()
    assert (row.exec_id, row.price, row.commission) == (
        corrected["exec_id"],
        Decimal("229"),
        Decimal("1.1"),
    )
    assert not PendingCommission.objects.exists()


def test_an_exec_id_without_a_revision_suffix_is_its_own_stem() -> None:
    assert services.split_exec_id("0000e0d5.6578b1c2.01.01") == ("0000e0d5.6578b1c2.01", 1)
    assert services.split_exec_id("0000e0d5.6578b1c2.01.12") == ("0000e0d5.6578b1c2.01", 12)
    assert services.split_exec_id("TWS-exec") == ("TWS-exec", 1)

    data = execution_data(exec_id="TWS-exec")
    assert services.execution_record(data=data, source="trades()") == "inserted"
    assert services.execution_record(data=data, source="trades()") == "unchanged"
    row = Execution.objects.get()
    assert (row.exec_stem, row.revision) == ("TWS-exec", 1)


def test_a_commission_before_its_execution_waits_then_is_applied() -> None:
    data = execution_data()

    services.commission_record(
        exec_id=data["exec_id"], commission=1.25, currency="USD", realized_pnl=-3.5
    )
    pending = PendingCommission.objects.get()
    assert (pending.exec_id, pending.commission) == (data["exec_id"], Decimal("1.25"))
    assert not Execution.objects.exists()

    assert services.execution_record(data=data, source="trades()") == "inserted"

    row = Execution.objects.get()
    assert row.commission == Decimal("1.25")
    assert row.commission_currency == "USD"
    assert row.realized_pnl == Decimal("-3.5")
    assert not PendingCommission.objects.exists()


def test_a_commission_after_its_execution_is_applied_directly() -> None:
    data = execution_data()
    services.execution_record(data=data, source="trades()")
    assert Execution.objects.get().commission is None

    services.commission_record(
        exec_id=data["exec_id"], commission=1.0, currency="USD", realized_pnl=12.75
    )

    row = Execution.objects.get()
    assert (row.commission, row.realized_pnl) == (Decimal("1"), Decimal("12.75"))
    assert not PendingCommission.objects.exists()


def test_unset_realized_pnl_stays_null() -> None:
    with_report = execution_data(commission=1.0, commission_currency="USD", realized_pnl=None)
    later_report = execution_data()

    services.execution_record(data=with_report, source="trades()")
    services.execution_record(data=later_report, source="trades()")
    services.commission_record(
        exec_id=later_report["exec_id"], commission=1.0, currency="USD", realized_pnl=None
    )

    for exec_id in (with_report["exec_id"], later_report["exec_id"]):
        row = Execution.objects.get(exec_id=exec_id)
        assert row.commission == Decimal("1")
        assert row.realized_pnl is None
    assert Execution.objects.filter(realized_pnl__isnull=True).count() == 2
    # A real zero is not "unset".
    zero = execution_data(commission=1.0, commission_currency="USD", realized_pnl=0.0)
    services.execution_record(data=zero, source="trades()")
    assert Execution.objects.get(exec_id=zero["exec_id"]).realized_pnl == Decimal("0")


def test_naive_execution_times_are_refused() -> None:
    data = execution_data(executed_at=dt.datetime(2024, 1, 15, 14, 30, 25))

    with pytest.raises(ValueError, match="timezone-aware"):
        services.execution_record(data=data, source="trades()")
    assert not Execution.objects.exists()


# --- orders ---------------------------------------------------------------------


def test_order_status_history_grows_only_on_changes() -> None:
    assert services.order_record(data=order_data(status="PreSubmitted")) == "inserted"
    assert services.order_record(data=order_data(status="PreSubmitted")) == "unchanged"
    assert services.order_record(data=order_data(status="Submitted")) == "updated"
    assert services.order_record(data=order_data(status="Submitted")) == "unchanged"

    row = Order.objects.get()
    assert [status for _, status in row.status_history] == ["PreSubmitted", "Submitted"]
    assert row.finished_at is None

    filled = order_data(status="Filled", filled=10.0, avg_fill_price=229.9)
    assert services.order_record(data=filled) == "updated"
    assert services.order_record(data=filled) == "unchanged"

    row.refresh_from_db()
    assert row.status == "Filled"
    assert [status for _, status in row.status_history] == ["PreSubmitted", "Submitted", "Filled"]
    assert row.filled == Decimal("10")
    assert row.avg_fill_price == Decimal("229.9")
    assert row.finished_at is not None
    for stamp, _ in row.status_history:
        assert dt.datetime.fromisoformat(stamp).tzinfo is not None


def test_an_order_update_without_a_status_change_keeps_the_history() -> None:
    services.order_record(data=order_data(status="Submitted", filled=0.0))
    assert services.order_record(data=order_data(status="Submitted", filled=4.0)) == "updated"

    row = Order.objects.get()
    assert row.filled == Decimal("4")
    assert len(row.status_history) == 1


def test_orders_and_executions_keep_their_contracts_conid() -> None:
    services.order_record(data=order_data(status="Submitted"))
    services.execution_record(data=execution_data(symbol="MSFT"), source="trades()")

    assert Order.objects.values_list("con_id", "sec_type").get() == (265598, "STK")
    assert Execution.objects.values_list("con_id", "sec_type").get() == (272093, "STK")


def test_an_order_stored_before_conids_takes_its_conid_from_the_next_event() -> None:
    """Rows stored before conIds were kept have none; an event or a sync that
    reports the order fills it in, and one that does not (None) never clears it."""
    services.order_record(data=order_data(status="Submitted", con_id=None, sec_type=None))
    stored = Order.objects.values_list("con_id", "sec_type").get()

    services.order_record(data=order_data(status="Filled", filled=10.0))
    services.order_record(data=order_data(status="Filled", filled=10.0, con_id=None))

    assert stored == (None, "")
    assert Order.objects.values_list("con_id", "sec_type").get() == (265598, "STK")


# --- sync -------------------------------------------------------------------------


def test_a_failed_fetch_is_recorded_as_failed_not_as_zero_executions() -> None:
    def fetch() -> dict[str, list[dict[str, Any]]]:
        raise ConnectionError("Failed to connect to IB Gateway")

    run = services.executions_sync(fetch=fetch, trigger="manual")

    stored = SyncRun.objects.get(pk=run.pk)
    assert stored.ok is False
    assert stored.fetched is None
    assert stored.inserted == 0
    assert stored.error == "ConnectionError: Failed to connect to IB Gateway"
    assert stored.trigger == "manual"
    assert stored.finished_at is not None


def test_syncing_the_same_history_twice_inserts_nothing_the_second_time() -> None:
    fills = [execution_data(commission=1.0, commission_currency="USD") for _ in range(3)]
    history = {
        "executions": fills,
        "orders": [order_data(perm_id=fills[0]["perm_id"], status="Filled", filled=10.0)],
    }

    first = services.executions_sync(fetch=lambda: history)
    second = services.executions_sync(fetch=lambda: history)

    assert (first.ok, first.fetched, first.inserted, first.updated, first.orders) == (
        True,
        3,
        3,
        0,
        1,
    )
    assert (second.ok, second.fetched, second.inserted, second.updated, second.orders) == (
        True,
        3,
        0,
        0,
        1,
    )
    assert second.error == ""
    assert Execution.objects.count() == 3
    assert set(Execution.objects.values_list("source", flat=True)) == {"reqExecutions"}
    assert Order.objects.get().status == "Filled"
    assert SyncRun.objects.count() == 2


def test_a_sync_that_fails_half_way_records_what_it_did() -> None:
    good = execution_data()
    bad = execution_data(executed_at=dt.datetime(2024, 1, 15, 14, 30, 25))  # naive

    run = services.executions_sync(fetch=lambda: {"executions": [good, bad], "orders": []})

    run.refresh_from_db()
    assert run.ok is False
    assert (run.fetched, run.inserted) == (2, 1)
    assert run.error == "ValueError: execution times must be timezone-aware"
    assert list(Execution.objects.values_list("exec_id", flat=True)) == [good["exec_id"]]


def test_a_sync_fills_in_what_live_capture_missed() -> None:
    seen_live = execution_data()
    missed = execution_data(commission=1.0, commission_currency="USD")
    services.execution_record(data=seen_live, source="trades()")

    run = services.executions_sync(
        fetch=lambda: {
            "executions": [{**seen_live, "commission": 1.0, "commission_currency": "USD"}, missed],
            "orders": [],
        }
    )

    assert (run.fetched, run.inserted, run.updated) == (2, 1, 1)
    assert Execution.objects.get(exec_id=seen_live["exec_id"]).source == "trades()"
    assert not Execution.objects.filter(commission__isnull=True).exists()


# --- races -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_execution_store_one_row() -> None:
    data = execution_data(commission=1.0, commission_currency="USD")
    start = threading.Barrier(8)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(source: str) -> None:
        try:
            start.wait(10)
            outcome = services.execution_record(data=dict(data), source=source)
            with lock:
                outcomes.append(outcome)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=write, args=("trades()" if i % 2 else "reqExecutions",))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(outcomes) == ["inserted"] + ["unchanged"] * 7
    assert Execution.objects.filter(exec_stem=data["exec_id"].rpartition(".")[0]).count() == 1
    assert Execution.objects.count() == 1
