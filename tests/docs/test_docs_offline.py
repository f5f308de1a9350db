"""/docs (Swagger UI) and /redoc render from our own files, offline.

Issue 11 item 4: both pages loaded their JavaScript from a CDN at @latest, so
they were blank on a machine without internet, and ran unpinned third-party
code on a page where people paste trading tokens. They now load
drf-spectacular-sidecar's pinned copies, served by whitenoise after
collectstatic, under a Content-Security-Policy that allows no other host.

Debian's Chromium (/usr/bin/chromium, installed by the Makefile) renders both
pages through the real gunicorn; every request for a host other than the
server's is aborted and recorded, and the tests assert there were none.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from tests.stack import ROOT, Stack

pytestmark = pytest.mark.stack

CHROMIUM = Path("/usr/bin/chromium")
# The flags a headless Chromium needs on a machine without internet: no
# background traffic of its own, and no name resolves (the server is an address).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Attributes through which a page loads or links something.
URL_ATTRIBUTE = re.compile(r"""\b(?:src|href|action|srcset)\s*=\s*["']([^"']*)["']""", re.I)


def run_collectstatic(static_root: Path) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_STATIC_ROOT": str(static_root)},
        check=True,
    )


@pytest.fixture(scope="module")
def docs_server(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gunicorn serving static files collected as `make run` and the image
    collect them (the shared stack's web has no STATIC_ROOT of its own)."""
    static_root = tmp_path_factory.mktemp("static")
    run_collectstatic(static_root)
    base_url = stack.start_extra_web("web-docs", DJANGO_STATIC_ROOT=str(static_root))
    yield base_url
    stack.stop_process("web-docs")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make install-dev` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class OfflinePage:
    """A browser page that lets through only requests to the server under test,
    and records every other one: those aborted on their way to the network, and
    those the page's Content-Security-Policy blocked before they left it."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.origin = urlsplit(base_url).netloc
        self.context = browser.new_context()
        self.aborted: list[str] = []
        self.left_the_page: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("request", self._request)
        self.page.on("requestfinished", self._finished)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self._csp_blocked: set[str] = set()
        self.page.on("requestfailed", self._failed)
        self._other_host: dict[str, Request] = {}

    def _is_ours(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob") or parts.netloc == self.origin

    def _route(self, route: Route) -> None:
        if self._is_ours(route.request.url):
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort("blockedbyclient")

    def _request(self, request: Request) -> None:
        if not self._is_ours(request.url):
            self._other_host[request.url] = request

    def _failed(self, request: Request) -> None:
        if request.failure == "csp":
            self._csp_blocked.add(request.url)

    def _finished(self, request: Request) -> None:
        if not self._is_ours(request.url):
            self.left_the_page.append(request.url)

    def requests_to_other_hosts(self) -> list[str]:
        """Every request for another host that was not stopped by the page's own
        policy: it reached the router (and was aborted there) or finished."""
        not_blocked = [url for url in self._other_host if url not in self._csp_blocked]
        return sorted(set(self.aborted) | set(self.left_the_page) | set(not_blocked))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser: Browser, docs_server: str) -> Iterator[OfflinePage]:
    page = OfflinePage(browser, docs_server)
    yield page
    page.close()


def schema_operations(base_url: str) -> list[dict[str, Any]]:
    schema = requests.get(f"{base_url}/schema?format=json", timeout=30).json()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operations) >= 10  # the guide's endpoints, at least
    return operations


def test_swagger_ui_lists_every_operation_of_the_schema_offline(
    offline: OfflinePage, docs_server: str
) -> None:
    expected = {(op["method"], op["path"]) for op in schema_operations(docs_server)}

    offline.page.goto(f"{docs_server}/docs")

    blocks = offline.page.locator(".opblock")
    expect(blocks).to_have_count(len(expected))
    shown = {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in blocks.all()
    }
    assert shown == expected
    expect(offline.page.locator(".info .title")).to_contain_text("IBKR Trading API")
    assert offline.errors == []
    assert offline.requests_to_other_hosts() == []


def test_redoc_menu_lists_every_operation_of_the_schema_offline(
    offline: OfflinePage, docs_server: str
) -> None:
    operations = schema_operations(docs_server)
    expected = {op["operationId"] for op in operations}

    offline.page.goto(f"{docs_server}/redoc")

    menu = offline.page.locator("[role=menu] [data-item-id]")
    expect(menu.first).to_be_visible()
    entries = offline.page.locator("[role=menu] [data-item-id*='/operation/']")
    expect(entries).to_have_count(len(expected))
    # ReDoc unfolds one tag at a time: open each, and read its operations.
    tags = [
        item_id
        for item_id in (t.get_attribute("data-item-id") or "" for t in menu.all())
        if item_id.startswith("tag/") and "/operation/" not in item_id
    ]
    assert tags
    listed = {}
    for item_id in tags:
        offline.page.locator(f"[role=menu] [data-item-id='{item_id}']").click()
        own = offline.page.locator(f"[role=menu] [data-item-id^='{item_id}/operation/']")
        expect(own.first).to_be_visible()
        for entry in own.all():
            expect(entry).to_be_visible()
            operation = (entry.get_attribute("data-item-id") or "").rsplit("/operation/", 1)[1]
            listed[operation] = entry.inner_text()
    assert set(listed) == expected
    for op in operations:
        # ReDoc's label: the method's badge, then the summary (else the operation id).
        label = listed[op["operationId"]]
        assert op["method"].lower()[:3] in label.lower()
        assert (op.get("summary") or op["operationId"]) in label
    # The operations' sections render too, not only the menu.
    for operation_id in expected:
        section = offline.page.locator(f"[data-section-id$='/operation/{operation_id}']")
        expect(section).to_have_count(1)
    assert offline.errors == []
    assert offline.requests_to_other_hosts() == []


@pytest.mark.parametrize("page", ["/docs", "/docs?script", "/redoc"])
def test_docs_pages_reference_no_other_host(docs_server: str, page: str) -> None:
    response = requests.get(f"{docs_server}{page}", timeout=30)

    assert response.status_code == 200
    assert re.findall(r"https?://", response.text) == []
    for url in URL_ATTRIBUTE.findall(response.text):
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = requests.get(urljoin(docs_server, url), timeout=30)
        assert asset.status_code == 200, url
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "http" not in policy


def test_docs_pages_load_pinned_assets_that_are_served(docs_server: str) -> None:
    """A blank page is what a missing static file looks like: every script the
    pages load is served, and it is the sidecar's copy."""
    scripts = []
    for page in ("/docs", "/redoc"):
        html = requests.get(f"{docs_server}{page}", timeout=30).text
        scripts += re.findall(r"""<script src=["']([^"']+)["']""", html)

    sidecar = [url for url in scripts if url.startswith("/static/drf_spectacular_sidecar/")]
    assert len(sidecar) == 3  # Swagger UI's bundle and preset, ReDoc's bundle
    for url in sidecar:
        asset = requests.get(urljoin(docs_server, url), timeout=30)
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        assert len(asset.content) > 100_000
