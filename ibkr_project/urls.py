from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.template import engines
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response

# --- API docs: /docs (Swagger UI) and /redoc --------------------------------
# Both load only our own files (drf-spectacular-sidecar's pinned copies, see
# SPECTACULAR_SETTINGS), and a Content-Security-Policy keeps it so: people paste
# trading tokens into these pages, so no script, style or image from another
# host may run or load there (and the pages render on a machine without
# internet). tests/docs/test_docs_offline.py renders both in Chromium.
# 'unsafe-inline' styles: Swagger UI and ReDoc set styles at run time. ReDoc's
# search runs in a blob: worker. No inline script: /docs serves its start-up
# script from /docs?script.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

# drf-spectacular's ReDoc page links Google Fonts in its <head>: the same page
# without them (ReDoc falls back to the system's fonts). ReDoc's own footer logo
# (cdn.redoc.ly) is what the policy above blocks.
REDOC_PAGE = engines["django"].from_string(
    """{% extends "drf_spectacular/redoc.html" %}
{% block head %}
    <title>{{ title|default:"Redoc" }}</title>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; padding: 0; }</style>
{% endblock head %}"""
)


class SelfContainedRedocRenderer(TemplateHTMLRenderer):
    def resolve_template(self, template_names: Iterable[str]) -> Any:
        return REDOC_PAGE


class DocsPolicyMixin:
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SwaggerView(DocsPolicyMixin, SpectacularSwaggerSplitView):
    pass


class RedocView(DocsPolicyMixin, SpectacularRedocView):
    renderer_classes = [SelfContainedRedocRenderer]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", RedocView.as_view(url_name="schema"), name="redoc"),
    path("v2/", include("v2api.urls")),  # Alpaca's Trading API v2 (v2api/README.md)
    path("", include("trading.urls")),
]

if settings.BENCH_NOOP_ENDPOINT:
    from ibkr_project.noop import NoopView

    urlpatterns.append(path("bench/noop", NoopView.as_view(), name="bench-noop"))

handler400 = "ibkr_project.errors.bad_request"
handler404 = "ibkr_project.errors.not_found"
handler500 = "ibkr_project.errors.server_error"
