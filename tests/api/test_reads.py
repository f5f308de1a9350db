"""GET endpoints, documentation and error bodies through the running stack."""

from __future__ import annotations

import pytest

from tests.stack import Stack, eventually

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def test_account_reports_net_liquidation_and_available_funds(api: Stack) -> None:
    expected = api.sim.call("account")

    def matches() -> dict[str, float] | None:
        body = api.get("/account").json()
        ok = body["balance"] == float(expected["NetLiquidation"])
        return body if ok else None

    body = eventually(matches)
    assert body["cash"] == float(expected["AvailableFunds"])
    assert body["total_cash_value"] == float(expected["TotalCashValue"])
    assert body["account"].startswith("DU")
    assert isinstance(body["balance"], float)
    assert isinstance(body["cash"], float)


def test_positions_show_market_value_from_the_market_price(api: Stack) -> None:
    api.post("/order/market", {"symbol": "SPY", "action": "SELL", "quantity": 4})

    def spy() -> dict[str, object] | None:
        rows = {p["symbol"]: p for p in api.get("/positions").json()["positions"]}
        return rows.get("SPY")

    row = eventually(spy)
    price = api.sim.call("get_price", symbol="SPY")
    assert set(row) == {
        "symbol",
        "qty",
        "avg_cost",
        "market_value",
        "market_price",
        "unrealized_pnl",
        "realized_pnl",
        "sec_type",
        "currency",
    }
    assert row["qty"] <= -4
    assert row["market_price"] == price
    assert row["market_value"] == pytest.approx(row["qty"] * price, abs=0.01)


def test_executions_filter_by_symbol_is_case_insensitive(api: Stack) -> None:
    api.post("/order/market", {"symbol": "GOOGL", "action": "BUY", "quantity": 1, "order_ref": "g"})
    api.post("/order/market", {"symbol": "AMD", "action": "BUY", "quantity": 1, "order_ref": "a"})

    def googl() -> list[dict[str, object]]:
        return api.get("/executions", params={"symbol": "googl"}).json()["executions"]

    rows = eventually(googl)
    assert {r["symbol"] for r in rows} == {"GOOGL"}

    def both() -> list[dict[str, object]] | None:
        # An order is answered when IB acknowledges it; its fill follows.
        rows = api.get("/executions").json()["executions"]
        return rows if {"GOOGL", "AMD"} <= {r["symbol"] for r in rows} else None

    everything = eventually(both)
    assert {"GOOGL", "AMD"} <= {r["symbol"] for r in everything}
    execution_ids = [r["execId"] for r in everything]
    assert len(execution_ids) == len(set(execution_ids))


def test_orders_empty_list_shape(api: Stack) -> None:
    # A market order of an earlier test is answered on IB's acknowledgement; it
    # leaves the list when its fill arrives.
    assert eventually(lambda: api.get("/orders").json() == {"orders": []})


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_documentation_pages(api: Stack, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_schema_lists_every_guide_endpoint_with_examples(api: Stack) -> None:
    response = api.get("/schema", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ("/account", "/positions", "/orders", "/executions"):
        assert "get" in paths[path]
    for path in ("/order/limit", "/order/market", "/order/stop", "/order/bracket", "/order/cancel"):
        operation = paths[path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["examples"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
    limit = paths["/order/limit"]["post"]["responses"]["200"]["content"]["application/json"]
    assert next(iter(limit["examples"].values()))["value"] == {
        "status": "✅ Limit order sent",
        "permId": 1788680597,
    }


def test_unknown_path_and_wrong_method_answer_json(api: Stack) -> None:
    missing = api.get("/nothing-here")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    wrong = api.get("/order/limit")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": 'Method "GET" not allowed.'})


def test_web_processes_never_import_ib_async(api: Stack) -> None:
    """The web side reaches the gateway only through the queue and the mirror."""
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup();"
        "import ibkr_project.urls, trading.views, trading.services;"
        "import trading.bus, trading.wire, trading.error_handler;"
        "from django.test import Client; Client().get('/schema');"
        "print('ib_async' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=api.env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_health_reports_every_part_without_account_data(api: Stack) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["gateway"]["connected"] is True
    assert body["gateway"]["server_version"] == 178
    assert body["gateway"]["trading_mode"] == "paper"
    assert body["worker"]["alive"] is True
    assert body["redis"] is True
    assert body["database"] is True
    assert "DU1234567" not in response.text
