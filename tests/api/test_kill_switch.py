"""The kill switch is never stale: each order reads it from the database in
the statement that records the order (issue 18 took that SELECT off the path
by folding it into the audit INSERT, rather than caching it), so a halt made
in admin, through the ORM or in SQL refuses the very next order on every web
process, and lifting it lets the next one through."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection

from tests.stack import Stack, eventually
from trading.models import OrderRequestLog, TradingControl

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

HALTED = "Trading is halted (kill switch)"


def _order(ref: str) -> dict[str, Any]:
    return {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 100.0,
            "order_ref": ref}  # fmt: skip


@pytest.fixture
def two_webs(api: Stack) -> Iterator[list[str]]:
    """The stack's web process and a second one, on the same database and worker."""
    TradingControl.objects.all().delete()
    second = api.start_extra_web("web-kill-switch")
    try:
        yield [api.base_url, second]
    finally:
        api.stop_process("web-kill-switch")
        TradingControl.objects.all().delete()


def _admin(base: str) -> requests.Session:
    """A session logged in to Django's admin, as a person would (CSRF and all)."""
    name, password = f"admin-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    get_user_model().objects.create_superuser(name, f"{name}@example.com", password)
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=10)
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": name,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert "/admin/logout/" in response.text, response.text[:300]
    return session


def _admin_form(session: requests.Session, url: str, **fields: str) -> None:
    page = session.get(url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, page.text[:300]
    response = session.post(
        url, data={"csrfmiddlewaretoken": token[1], **fields, "_save": "Save"}, timeout=10
    )
    assert response.status_code == 200
    assert "errornote" not in response.text, response.text[:500]


def _place(base: str, ref: str) -> requests.Response:
    return requests.post(f"{base}/order/limit", json=_order(ref), timeout=30)


def test_a_halt_in_admin_refuses_the_very_next_order_on_every_web_process(
    api: Stack, two_webs: list[str]
) -> None:
    ref = f"halt-admin-{uuid.uuid4().hex[:6]}"
    admin = _admin(api.base_url)
    assert [_place(base, ref).status_code for base in two_webs] == [200, 200]

    _admin_form(
        admin, f"{api.base_url}/admin/trading/tradingcontrol/add/", halted="on", reason="drill"
    )
    halted = [_place(base, ref) for base in two_webs]
    control = TradingControl.objects.get()
    _admin_form(
        admin, f"{api.base_url}/admin/trading/tradingcontrol/{control.pk}/change/", reason=""
    )
    resumed = [_place(base, ref) for base in two_webs]

    assert [r.status_code for r in halted] == [403, 403]
    assert all(r.json()["detail"].startswith(f"{HALTED}: drill.") for r in halted)
    assert [r.status_code for r in resumed] == [200, 200]
    assert api.sim.call("counters")["orders_by_ref"].get(ref) == 4
    # The outcomes are written off the answer's path: wait for them.
    states = eventually(
        lambda: (
            sorted(
                OrderRequestLog.objects.filter(body__order_ref=ref).values_list("state", flat=True)
            )
            if not OrderRequestLog.objects.filter(body__order_ref=ref, state="queued").exists()
            else None
        )
    )
    assert states == ["done"] * 4 + ["refused"] * 2


def test_a_halt_through_the_orm_or_in_sql_refuses_the_next_order(
    api: Stack, two_webs: list[str]
) -> None:
    """Not only admin's save(): an UPDATE that sends no signal (QuerySet.update,
    raw SQL, psql) takes effect for the next order too; a cache invalidated by
    signals would have missed it."""
    ref = f"halt-orm-{uuid.uuid4().hex[:6]}"
    control = TradingControl.objects.create(halted=False)

    TradingControl.objects.filter(pk=control.pk).update(halted=True, reason="orm")
    by_update = [_place(base, ref) for base in two_webs]
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(TradingControl._meta.db_table)
        cursor.execute(f"UPDATE {table} SET halted = %s", [False])
    after_sql = [_place(base, ref) for base in two_webs]

    assert [r.status_code for r in by_update] == [403, 403]
    assert all(r.json()["detail"].startswith(f"{HALTED}: orm.") for r in by_update)
    assert [r.status_code for r in after_sql] == [200, 200]
    assert api.sim.call("counters")["orders_by_ref"].get(ref) == 2
