"""Floor B of the benchmark: the cost of one HTTP request through the same web
server, middleware and DRF stack, doing nothing else. Mounted only when
BENCH_NOOP_ENDPOINT is on (`make bench` turns it on)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class NoopView(APIView):
    required_scope = "read"
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        return Response({"status": "ok"})
