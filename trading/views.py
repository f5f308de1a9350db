"""Thin views: validate an input serializer, call one service or selector,
render the answer through its output serializer (the schema's own shape)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import auth, idempotency, selectors, serializers, services
from trading.schema import IDEMPOTENCY_KEY

# The statuses an operation answers for its own reasons; those that follow
# from its shape (401, 403, 406, 409, 415, and 400 for invalid input) are
# added to every operation by trading.schema.postprocess.
UNAVAILABLE = OpenApiResponse(
    serializers.ErrorOut,
    description="IB Gateway unreachable or not answering, or the service's Redis or "
    "database down: nothing was sent",
    examples=[OpenApiExample("Gateway down", {"detail": "Failed to connect to IB Gateway"})],
)
READ_ERRORS = {503: UNAVAILABLE}
ORDER_ERRORS = {
    400: OpenApiResponse(
        serializers.ErrorOut,
        description="Invalid input (`errors` names the fields), a pre-trade limit "
        "broken, or the order rejected by IB (its message in `detail`)",
    ),
    403: OpenApiResponse(
        serializers.ErrorOut,
        description="Refused: trading halted (kill switch), a live account while live "
        "trading is off or without a 'live' token, or a token that may only read",
    ),
    500: OpenApiResponse(
        serializers.ErrorOut,
        description="The gateway worker failed: check GET /orders before retrying",
    ),
    503: UNAVAILABLE,
    504: OpenApiResponse(
        serializers.ErrorOut,
        description="IB did not acknowledge in time (what was sent is cancelled), or the "
        "order could not be sent before its deadline (never sent)",
    ),
}


def _key(request: Request) -> str | None:
    return request.headers.get(idempotency.HEADER)


def _actor(request: Request) -> services.Actor:
    return services.Actor(
        client=auth.client_label(request),
        token=auth.request_token(request),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        idempotency_key=_key(request) or "",
    )


def _example(name: str, value: Any, **kwargs: Any) -> OpenApiExample:
    return OpenApiExample(name, value=value, **kwargs)


class HealthView(APIView):
    public = True  # no token needed, and no account data in it

    @extend_schema(
        summary="Health of the service: gateway, worker, journal sync, Redis, database",
        responses={
            200: OpenApiResponse(serializers.HealthOut, description="Healthy"),
            503: OpenApiResponse(
                serializers.HealthOut,
                description='Not healthy: status "unavailable" or "mode_mismatch"',
            ),
        },
    )
    def get(self, request: Request) -> Response:
        healthy, body = selectors.health_get()
        return Response(serializers.HealthOut(body).data, status=200 if healthy else 503)


class AccountView(APIView):
    @extend_schema(
        summary="Account summary: balance and available cash",
        responses={
            200: OpenApiResponse(
                serializers.AccountOut,
                examples=[_example("Account", {"balance": 201879.04, "cash": 200000.0})],
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.AccountOut(selectors.account_get()).data)


class PositionsView(APIView):
    @extend_schema(
        summary="Open positions",
        responses={
            200: OpenApiResponse(
                serializers.PositionsOut,
                examples=[
                    _example(
                        "Positions",
                        {
                            "positions": [
                                {
                                    "symbol": "AAPL",
                                    "qty": 10,
                                    "avg_cost": 230.50,
                                    "market_value": 2364.20,
                                    "market_price": 236.42,
                                    "unrealized_pnl": 59.20,
                                    "realized_pnl": 0.0,
                                    "sec_type": "STK",
                                    "currency": "USD",
                                }
                            ]
                        },
                    )
                ],
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        body = {"positions": selectors.positions_list()}
        return Response(serializers.PositionsOut(body).data)


class OrdersView(APIView):
    @extend_schema(
        summary="Pending orders of the account (from every client)",
        responses={
            200: OpenApiResponse(
                serializers.OrdersOut,
                examples=[
                    _example(
                        "Orders",
                        {
                            "orders": [
                                {
                                    "orderId": 12345,
                                    "permId": 1788680597,
                                    "symbol": "AAPL",
                                    "action": "BUY",
                                    "quantity": 10,
                                    "type": "LMT",
                                    "trigger": 230.00,
                                    "status": "SUBMITTED",
                                },
                                {
                                    "orderId": 12346,
                                    "permId": 1788680598,
                                    "symbol": "TSLA",
                                    "action": "SELL",
                                    "quantity": 5,
                                    "type": "STP",
                                    "trigger": 250.00,
                                    "status": "PENDINGSUBMIT",
                                },
                            ]
                        },
                    )
                ],
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.OrdersOut({"orders": selectors.orders_list()}).data)


class ExecutionsView(APIView):
    @extend_schema(
        summary="Executions: the journal and the session's latest fills, newest first",
        parameters=[serializers.ExecutionsQuery],
        responses={
            200: OpenApiResponse(
                serializers.ExecutionsOut,
                examples=[
                    _example(
                        "Executions",
                        {
                            "executions": [
                                {
                                    "symbol": "AAPL",
                                    "side": "BUY",
                                    "qty": 10,
                                    "price": 230.50,
                                    "time": "20240115 14:30:25",
                                    "orderRef": "my_trade_001",
                                    "source": "reqExecutions",
                                },
                                {
                                    "symbol": "MSFT",
                                    "side": "SELL",
                                    "qty": 5,
                                    "price": 350.20,
                                    "orderId": 12345,
                                    "orderRef": "strategy_2",
                                    "source": "trades()",
                                },
                            ]
                        },
                    )
                ],
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        query = serializers.executions_query(request.query_params)
        body = {"executions": selectors.executions_list(**query)}
        return Response(serializers.ExecutionsOut(body).data)


class _PlaceOrderView(APIView):
    kind = ""
    label = ""
    request_serializer: type[serializers.OrderRequest] = serializers.OrderRequest

    def post(self, request: Request) -> Response:
        form = self.request_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)

        def place(claim: idempotency.Claim | None) -> Response:
            placed = services.order_place(
                kind=self.kind, data=data, actor=_actor(request), claim=claim
            )
            body = {"status": f"✅ {self.label} order sent", "permId": placed.perm_ids[0]}
            return Response(serializers.OrderSentResponse(body).data)

        return idempotency.run_once(_key(request), request.path, data, place)


def _order_schema(
    serializer: type[serializers.OrderRequest], body: dict[str, Any], status: str, perm_id: int
) -> Any:
    return extend_schema(
        request=serializer,
        parameters=[IDEMPOTENCY_KEY],
        examples=[_example("Request", body, request_only=True)],
        responses={
            200: OpenApiResponse(
                serializers.OrderSentResponse,
                examples=[_example("Sent", {"status": status, "permId": perm_id})],
            ),
            **ORDER_ERRORS,
        },
    )


class LimitOrderView(_PlaceOrderView):
    kind, label = "limit", "Limit"
    request_serializer = serializers.LimitOrderRequest

    @_order_schema(
        serializers.LimitOrderRequest,
        {
            "symbol": "AAPL",
            "action": "BUY",
            "quantity": 10,
            "limit_price": 230.00,
            "order_ref": "my_trade_001",
        },
        "✅ Limit order sent",
        1788680597,
    )
    def post(self, request: Request) -> Response:
        """Place a limit order (buy/sell at a price or better)."""
        return super().post(request)


class MarketOrderView(_PlaceOrderView):
    kind, label = "market", "Market"
    request_serializer = serializers.MarketOrderRequest

    @_order_schema(
        serializers.MarketOrderRequest,
        {"symbol": "AAPL", "action": "BUY", "quantity": 10, "order_ref": "market_trade_001"},
        "✅ Market order sent",
        1788680598,
    )
    def post(self, request: Request) -> Response:
        """Place a market order."""
        return super().post(request)


class StopOrderView(_PlaceOrderView):
    kind, label = "stop", "Stop"
    request_serializer = serializers.StopOrderRequest

    @_order_schema(
        serializers.StopOrderRequest,
        {
            "symbol": "AAPL",
            "action": "SELL",
            "quantity": 10,
            "stop_price": 225.00,
            "order_ref": "stop_loss_001",
        },
        "✅ Stop order sent",
        1788680599,
    )
    def post(self, request: Request) -> Response:
        """Place a stop order (SELL triggers at or below, BUY at or above the stop price)."""
        return super().post(request)


class BracketOrderView(APIView):
    @extend_schema(
        request=serializers.BracketOrderRequest,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            _example(
                "Request",
                {
                    "symbol": "AAPL",
                    "action": "BUY",
                    "quantity": 10,
                    "entry_price": 230.00,
                    "stop_loss": 225.00,
                    "take_profit": 240.00,
                    "order_ref": "protected_trade_001",
                },
                request_only=True,
            )
        ],
        responses={
            200: OpenApiResponse(
                serializers.BracketSentResponse,
                examples=[
                    _example(
                        "Sent",
                        {
                            "status": "✅ Bracket order sent",
                            "permIds": [1788680600, 1788680601, 1788680602],
                        },
                    )
                ],
            ),
            **ORDER_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        """Entry limit order with a stop-loss and a take-profit; answers once IB
        has acknowledged all three legs (permIds: parent, stop-loss, take-profit)."""
        form = serializers.BracketOrderRequest(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)

        def place(claim: idempotency.Claim | None) -> Response:
            placed = services.order_place(
                kind="bracket", data=data, actor=_actor(request), claim=claim
            )
            body = {"status": "✅ Bracket order sent", "permIds": placed.perm_ids}
            return Response(serializers.BracketSentResponse(body).data)

        return idempotency.run_once(_key(request), request.path, data, place)


class CancelOrderView(APIView):
    @extend_schema(
        request=serializers.CancelOrderRequest,
        parameters=[IDEMPOTENCY_KEY],
        examples=[_example("Request", {"perm_id": 1788680597}, request_only=True)],
        responses={
            200: OpenApiResponse(
                serializers.StatusResponse,
                examples=[_example("Cancelled", {"status": "✅ Order 1788680597 cancelled"})],
            ),
            404: OpenApiResponse(
                serializers.ErrorOut,
                description="No working order with that permId (unknown, filled or cancelled)",
                examples=[_example("Not found", {"detail": "Order not found or already filled"})],
            ),
            **{status: ORDER_ERRORS[status] for status in (500, 503, 504)},
        },
    )
    def post(self, request: Request) -> Response:
        """Cancel a pending order by its permId."""
        form = serializers.CancelOrderRequest(data=request.data)
        form.is_valid(raise_exception=True)
        perm_id = form.validated_data["perm_id"]

        def cancel(claim: idempotency.Claim | None) -> Response:
            services.order_cancel(perm_id=perm_id, actor=_actor(request), claim=claim)
            body = {"status": f"✅ Order {perm_id} cancelled"}
            return Response(serializers.StatusResponse(body).data)

        return idempotency.run_once(_key(request), request.path, {"perm_id": perm_id}, cancel)
