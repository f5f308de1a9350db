"""The journal's admin: read-only lists that load with filters and search, a
CSV export of the selection, the sync schedule, and no access without login."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask

from journal import services
from journal.admin import EXPORT_FIELDS
from journal.models import Execution, SyncRun
from tests.journal.factories import execution_data, order_data

pytestmark = pytest.mark.django_db

EXECUTIONS = "/admin/journal/execution/"


@pytest.fixture
def staff(settings: Any) -> User:
    # A fast hasher: the default one takes a good part of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_superuser("journal-admin", "admin@example.com", "s3cret-pass")


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def journal() -> dict[str, Execution]:
    """Three fills (AAPL buy, AAPL sell, MSFT buy), an order and a sync run."""
    base = dt.datetime(2024, 1, 15, 14, 30, tzinfo=dt.UTC)
    specs: dict[str, dict[str, Any]] = {
        "aapl_buy": {"symbol": "AAPL", "side": "BUY", "order_ref": "alpha"},
        "aapl_sell": {"symbol": "AAPL", "side": "SELL", "order_ref": "beta"},
        "msft_buy": {"symbol": "MSFT", "side": "BUY", "order_ref": "gamma", "price": 415.1},
    }
    rows = {}
    for minutes, (name, spec) in enumerate(specs.items()):
        data = execution_data(
            executed_at=base + dt.timedelta(minutes=minutes),
            commission=1.0,
            commission_currency="USD",
            **spec,
        )
        services.execution_record(data=data, source="trades()")
        rows[name] = Execution.objects.get(exec_id=data["exec_id"])
    services.order_record(data=order_data(status="Filled", filled=10.0))
    services.executions_sync(fetch=lambda: {"executions": [], "orders": []}, trigger="manual")
    return rows


def test_the_staff_user_is_a_superuser_who_can_log_in(client: Client, staff: User) -> None:
    assert staff.is_staff
    assert staff.is_superuser

    response = client.post(
        "/admin/login/?next=/admin/journal/execution/",
        {"username": "journal-admin", "password": "s3cret-pass", "next": EXECUTIONS},
    )

    assert response.status_code == 302
    assert response["Location"] == EXECUTIONS
    assert client.get(EXECUTIONS).status_code == 200


@pytest.mark.usefixtures("journal")
@pytest.mark.parametrize(
    "path",
    [
        EXECUTIONS,
        "/admin/journal/order/",
        "/admin/journal/syncrun/",
        "/admin/journal/pendingcommission/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/",
    ],
)
def test_admin_pages_need_a_login(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.usefixtures("journal")
@pytest.mark.parametrize(
    "path",
    [
        EXECUTIONS,
        "/admin/journal/order/",
        "/admin/journal/syncrun/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/",
    ],
)
def test_admin_pages_load_for_staff(staff_client: Client, path: str) -> None:
    response = staff_client.get(path)

    assert response.status_code == 200


def test_the_execution_list_shows_every_fill_newest_first(
    staff_client: Client, journal: dict[str, Execution]
) -> None:
    response = staff_client.get(EXECUTIONS)

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [journal["msft_buy"], journal["aapl_sell"], journal["aapl_buy"]]
    page = response.content.decode()
    for row in journal.values():
        assert row.exec_id in page
    # Read-only: no add button, no delete action, the export action is there.
    assert f"{EXECUTIONS}add/" not in page
    assert "export_csv" in page
    assert "delete_selected" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("side__exact=BUY", {"aapl_buy", "msft_buy"}),
        ("side__exact=SELL", {"aapl_sell"}),
        ("symbol=MSFT", {"msft_buy"}),
        ("source__exact=trades()", {"aapl_buy", "aapl_sell", "msft_buy"}),
        ("q=AAPL", {"aapl_buy", "aapl_sell"}),
        ("q=aapl", {"aapl_buy", "aapl_sell"}),
        ("q=gamma", {"msft_buy"}),
        ("q=AAPL&side__exact=SELL", {"aapl_sell"}),
        ("executed_at__year=2024&executed_at__month=1&executed_at__day=15", None),
        ("executed_at__year=2023", set()),
        ("q=nothing-like-this", set()),
    ],
)
def test_the_execution_list_filters_and_searches(
    staff_client: Client,
    journal: dict[str, Execution],
    query: str,
    expected: set[str] | None,
) -> None:
    response = staff_client.get(f"{EXECUTIONS}?{query}")

    assert response.status_code == 200
    wanted = set(journal) if expected is None else expected
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {journal[name].pk for name in wanted}


def test_search_by_perm_id_and_exec_id(staff_client: Client, journal: dict[str, Execution]) -> None:
    row = journal["aapl_sell"]

    by_perm = staff_client.get(EXECUTIONS, {"q": str(row.perm_id)})
    by_exec = staff_client.get(EXECUTIONS, {"q": row.exec_id})

    assert [r.pk for r in by_perm.context["cl"].result_list] == [row.pk]
    assert [r.pk for r in by_exec.context["cl"].result_list] == [row.pk]


def test_csv_export_of_the_selected_executions(
    staff_client: Client, journal: dict[str, Execution]
) -> None:
    selected = [journal["aapl_buy"], journal["msft_buy"]]

    response = staff_client.post(
        EXECUTIONS,
        {"action": "export_csv", "_selected_action": [row.pk for row in selected]},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="executions.csv"' in response["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == EXPORT_FIELDS
    assert len(rows) == 2
    records = [dict(zip(header, row, strict=True)) for row in rows]
    # Oldest first.
    assert [r["exec_id"] for r in records] == [row.exec_id for row in selected]
    assert [r["symbol"] for r in records] == ["AAPL", "MSFT"]
    assert [r["side"] for r in records] == ["BUY", "BUY"]
    assert records[1]["price"] == "415.100000"
    assert records[0]["commission"] == "1.000000"
    assert records[0]["realized_pnl"] == ""
    assert records[0]["order_ref"] == "alpha"
    assert dt.datetime.fromisoformat(records[0]["executed_at"]) == journal["aapl_buy"].executed_at


def test_csv_export_with_select_across_exports_the_filtered_list(
    staff_client: Client, journal: dict[str, Execution]
) -> None:
    response = staff_client.post(
        f"{EXECUTIONS}?side__exact=BUY",
        {
            "action": "export_csv",
            "select_across": "1",
            "index": "0",
            "_selected_action": [journal["aapl_buy"].pk],
        },
    )

    assert response.status_code == 200
    _, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows] == [journal["aapl_buy"].exec_id, journal["msft_buy"].exec_id]


@pytest.mark.parametrize("model", ["execution", "order", "syncrun"])
def test_the_journal_cannot_be_added_to_changed_or_deleted(
    staff_client: Client, journal: dict[str, Execution], model: str
) -> None:
    assert staff_client.get(f"/admin/journal/{model}/add/").status_code == 403

    if model == "execution":
        row = journal["aapl_buy"]
        change = staff_client.get(f"{EXECUTIONS}{row.pk}/change/")
        # View-only: the page shows the fill but has no form to save.
        assert change.status_code == 200
        assert row.exec_id in change.content.decode()
        assert 'name="_save"' not in change.content.decode()
        assert staff_client.post(f"{EXECUTIONS}{row.pk}/change/", {}).status_code == 403
        assert staff_client.get(f"{EXECUTIONS}{row.pk}/delete/").status_code == 403
        assert staff_client.post(f"{EXECUTIONS}{row.pk}/delete/", {"post": "yes"}).status_code == (
            403
        )
        assert Execution.objects.filter(pk=row.pk).exists()


def test_the_sync_runs_every_60_seconds(staff_client: Client) -> None:
    task = PeriodicTask.objects.get(name="Sync executions with the gateway")

    assert task.task == "journal.executions_sync"
    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (60, "seconds")
    assert task.kwargs == '{"trigger": "schedule"}'
    page = staff_client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "Sync executions with the gateway" in page


def test_the_sync_run_list_shows_failures(staff_client: Client) -> None:
    def fetch() -> dict[str, list[dict[str, object]]]:
        raise ConnectionError("Failed to connect to IB Gateway")

    services.executions_sync(fetch=fetch)
    response = staff_client.get("/admin/journal/syncrun/?ok__exact=0")

    assert response.status_code == 200
    (run,) = response.context["cl"].result_list
    assert run == SyncRun.objects.get(ok=False)
    assert "ConnectionError: Failed to connect to IB Gateway" in response.content.decode()
