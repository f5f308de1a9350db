"""API tokens with scopes, and who may do what.

- Every endpoint needs a token (``Authorization: Bearer <token>``), except
  /health and the docs, and except in the local demo (``IBKR_LOCAL_DEMO=1``,
  loopback only, paper only), where anonymous requests are allowed.
- read tokens read; trade tokens also place and cancel; live tokens are also
  allowed against a live account when LIVE_TRADING=1."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from trading.models import ApiToken

TOKEN_PREFIX = "ibkr_"
ANONYMOUS = "anonymous (local demo)"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    if scope not in dict(ApiToken.SCOPES):
        raise ValueError(f"scope must be one of {', '.join(dict(ApiToken.SCOPES))}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, scope=scope, prefix=raw[:12], key_hash=token_hash(raw)
    )
    return token, raw


class TokenUser:
    """The authenticated principal of a request made with a token."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = token.name

    def __str__(self) -> str:
        return self.token.name


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword.lower() not in self.keywords or not raw.strip():
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: use 'Bearer <token>'."
            )
        token = ApiToken.objects.filter(key_hash=token_hash(raw.strip()), revoked=False).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def request_token(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class ScopePermission(permissions.BasePermission):
    """Reads need any token, writes a trade or live token; the local demo lets
    anonymous requests through (a token, when sent, is still checked)."""

    message = "This token may only read: placing and cancelling orders needs a 'trade' token."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "public", False):
            return True
        token = request_token(request)
        if token is None:
            if settings.LOCAL_DEMO:
                return True
            raise exceptions.NotAuthenticated()
        if request.method in permissions.SAFE_METHODS:
            return True
        return token.can_trade


def client_label(request: Request) -> str:
    token = request_token(request)
    return token.name if token else ANONYMOUS


def is_loopback_bind(bind: str) -> bool:
    host = bind.rsplit(":", 1)[0].strip("[]") if ":" in bind else bind
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def startup_guard() -> None:
    """Refuse to serve anonymous requests anywhere but on loopback."""
    if settings.LOCAL_DEMO and not is_loopback_bind(settings.WEB_BIND):
        raise ImproperlyConfigured(
            f"IBKR_LOCAL_DEMO=1 serves the API without authentication, which is only "
            f"allowed on a loopback address, but WEB_BIND is {settings.WEB_BIND!r}. "
            "Bind to 127.0.0.1, or turn the demo off and create API tokens "
            "(python manage.py create_api_token --name NAME --scope read|trade|live)."
        )
