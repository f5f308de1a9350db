"""JSON bodies for errors Django itself answers (unknown URL, crash), in the
dialect of the URL (trading.error_handler): ``{"detail": "..."}`` at the
root, Alpaca's ``{"code", "message"}`` under /v2."""

from typing import Any

from django.http import HttpRequest, JsonResponse

from trading.error_handler import error_body


def _answer(request: HttpRequest, status: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(request.path_info, status, message), status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _answer(request, 404, "Not found.")


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return _answer(request, 500, "Internal server error.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _answer(request, 400, "Bad request.")
