"""/v2's thin views: validate an input serializer, call one service or
selector, render the answer through its output serializer.  Errors are
trading.error_handler's, in Alpaca's shape under /v2."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import auth, idempotency
from trading.idempotency import Claim
from trading.schema import IDEMPOTENCY_KEY
from v2api import examples, idempotent, selectors, serializers, services
from v2api.auth import AlpacaKeyAuthentication
from v2api.exceptions import AccountConfigurationFixed
from v2api.schema import ORDER_REQUEST, TAG, errors

ORDER_ID = OpenApiParameter(
    "order_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description="The order's id (derived from IB's permId)",
    examples=[examples.ORDER_ID_PARAMETER],
)
SYMBOL_OR_ASSET_ID = OpenApiParameter(
    "symbol_or_asset_id",
    str,
    OpenApiParameter.PATH,
    description="A symbol (either case) or an asset id",
    examples=[examples.SYMBOL_PARAMETER, examples.ASSET_ID_PARAMETER],
)


def _actor(request: Request) -> services.Actor:
    return services.Actor(
        client=auth.client_label(request),
        token=auth.request_token(request),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        idempotency_key=request.headers.get(idempotency.HEADER) or "",
    )


def _query(serializer: type[serializers.QuerySerializer], request: Request) -> dict[str, Any]:
    form = serializer(data=request.query_params)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class V2View(APIView):
    # Alpaca's key headers first, then the bearer token (trading.auth).
    authentication_classes = [AlpacaKeyAuthentication, auth.ApiTokenAuthentication]


class AccountView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="The account: equity, cash, buying power, market values",
        responses={200: serializers.AlpacaAccountOut, **errors(503)},
        examples=[examples.ACCOUNT_OUT, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.AlpacaAccountOut(selectors.account_get()).data)


class AccountConfigurationView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="The account's configuration (what this service does; none is a setting)",
        responses={200: serializers.AlpacaAccountConfigurationOut, **errors(503)},
        examples=[examples.CONFIGURATION, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request) -> Response:
        body = selectors.account_configuration_get()
        return Response(serializers.AlpacaAccountConfigurationOut(body).data)

    @extend_schema(
        tags=[TAG],
        summary="Refused: IB has no such settings (403)",
        request={"application/json": {"type": "object"}},
        responses=errors(403),
        examples=[examples.CONFIGURATION_REQUEST, examples.CONFIGURATION_FIXED],
    )
    def patch(self, request: Request) -> Response:
        raise AccountConfigurationFixed()


class PositionsView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Open positions (stocks, options)",
        responses={200: serializers.AlpacaPositionOut(many=True), **errors(503)},
        examples=[*examples.POSITIONS, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.positions_list()
        return Response(serializers.AlpacaPositionOut(rows, many=True).data)


class PositionView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="One open position, by symbol or asset id",
        parameters=[SYMBOL_OR_ASSET_ID],
        responses={200: serializers.AlpacaPositionOut, **errors(404, 503)},
        examples=[examples.POSITION, examples.POSITION_NOT_FOUND, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request, symbol_or_asset_id: str) -> Response:
        row = selectors.position_get(symbol_or_asset_id=symbol_or_asset_id)
        return Response(serializers.AlpacaPositionOut(row).data)


class OrdersView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Orders: open (working, from the gateway), closed (the journal) or all",
        parameters=[serializers.AlpacaOrdersQuery],
        responses={200: serializers.AlpacaOrderOut(many=True), **errors(503)},
        examples=[*examples.ORDERS, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.orders_list(**_query(serializers.AlpacaOrdersQuery, request))
        return Response(serializers.AlpacaOrderOut(rows, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Place an order: market, limit, stop, stop_limit, trailing_stop; bracket, oco, oto",
        request=ORDER_REQUEST,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            *examples.ORDER_REQUESTS,
            examples.ORDER,
            examples.HALTED,
            examples.ORDER_INVALID,
            examples.FRACTIONAL_QTY,
            examples.WORKER_FAILED,
            examples.GATEWAY_DOWN,
            examples.GATEWAY_TIMEOUT,
        ],
        responses={200: serializers.AlpacaOrderOut, **errors(403, 422, 500, 503, 504)},
    )
    def post(self, request: Request) -> Response:
        form = serializers.order_request(request.data)
        form.is_valid(raise_exception=True)
        order = dict(form.validated_data)

        def submit(claim: Claim | None) -> Response:
            body = services.order_submit(order=order, actor=_actor(request), claim=claim)
            return Response(serializers.AlpacaOrderOut(body).data)

        return idempotent.run_once(request, order, submit)

    @extend_schema(
        tags=[TAG],
        summary="Cancel every working order of ours, or (scope=all) every client's "
        "(207: a status per order)",
        operation_id="v2_orders_cancel_all",
        parameters=[serializers.AlpacaCancelAllQuery],
        examples=[*examples.CANCEL_ALL, examples.GATEWAY_DOWN],
        responses={
            207: OpenApiResponse(
                serializers.AlpacaCancelResultOut(many=True),
                description="Each order: 200 and the canceled order, or the refusal",
            ),
            **errors(403, 500, 503, 504),
        },
    )
    def delete(self, request: Request) -> Response:
        query = _query(serializers.AlpacaCancelAllQuery, request)
        results = services.orders_cancel_all(actor=_actor(request), **query)
        return Response(serializers.AlpacaCancelResultOut(results, many=True).data, status=207)


class OrderPreviewView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="IB's what-if of an order: commission, margins, equity with loan (places nothing)",
        operation_id="v2_order_preview",
        request=ORDER_REQUEST,
        examples=[
            *examples.ORDER_REQUESTS,
            examples.PREVIEW,
            examples.ORDER_INVALID,
            examples.GATEWAY_DOWN,
            examples.GATEWAY_TIMEOUT,
        ],
        responses={200: serializers.AlpacaOrderPreviewOut, **errors(422, 500, 503, 504)},
    )
    def post(self, request: Request) -> Response:
        form = serializers.order_request(request.data)
        form.is_valid(raise_exception=True)
        body = services.order_preview(order=dict(form.validated_data))
        return Response(serializers.AlpacaOrderPreviewOut(body).data)


class OrderView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="One order by id (working or finished)",
        parameters=[ORDER_ID, serializers.AlpacaOrderQuery],
        responses={200: serializers.AlpacaOrderOut, **errors(404)},
        examples=[examples.ORDER, examples.BRACKET, examples.ORDER_NOT_FOUND],
    )
    def get(self, request: Request, order_id: str) -> Response:
        query = _query(serializers.AlpacaOrderQuery, request)
        row = selectors.order_get(order_id=order_id, **query)
        return Response(serializers.AlpacaOrderOut(row).data)

    @extend_schema(
        tags=[TAG],
        summary="Replace an order: IB changes it in place; the answer is the new order, "
        "which replaces the old one (status replaced)",
        operation_id="v2_order_replace",
        parameters=[ORDER_ID, IDEMPOTENCY_KEY],
        request=serializers.AlpacaReplaceOrder,
        responses={200: serializers.AlpacaOrderOut, **errors(403, 404, 422, 500, 503, 504)},
        examples=[
            examples.REPLACE_REQUEST,
            examples.REPLACED,
            examples.NOT_REPLACEABLE,
            examples.REPLACE_INVALID,
            examples.ORDER_NOT_FOUND,
        ],
    )
    def patch(self, request: Request, order_id: str) -> Response:
        form = serializers.AlpacaReplaceOrder(data=request.data)
        form.is_valid(raise_exception=True)
        changes = dict(form.validated_data)
        selectors.order_id_check(order_id)  # as invalid input: before the key is claimed

        def replace(claim: Claim | None) -> Response:
            body = services.order_replace(
                order_id=order_id, changes=changes, actor=_actor(request), claim=claim
            )
            return Response(serializers.AlpacaOrderOut(body).data)

        return idempotent.run_once(request, {"order_id": order_id, **changes}, replace)

    @extend_schema(
        tags=[TAG],
        summary="Cancel an order (204)",
        operation_id="v2_order_cancel",
        parameters=[ORDER_ID],
        examples=[examples.ORDER_GONE, examples.GATEWAY_DOWN, examples.GATEWAY_TIMEOUT],
        responses={
            204: OpenApiResponse(description="Cancelled"),
            **errors(404, 500, 503, 504),
        },
    )
    def delete(self, request: Request, order_id: str) -> Response:
        services.order_cancel(order_id=order_id, actor=_actor(request))
        return Response(status=204)


class OrderByClientOrderIdView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="One order by its client_order_id",
        parameters=[serializers.AlpacaClientOrderIdQuery],
        responses={200: serializers.AlpacaOrderOut, **errors(404)},
        examples=[examples.ORDER, examples.ORDER_NOT_FOUND],
    )
    def get(self, request: Request) -> Response:
        query = _query(serializers.AlpacaClientOrderIdQuery, request)
        row = selectors.order_get_by_client_order_id(**query)
        return Response(serializers.AlpacaOrderOut(row).data)
