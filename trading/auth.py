"""API tokens with scopes, and who may do what.

- Every endpoint needs a token (``Authorization: Bearer <token>``), except
  /health and the docs, and except in the local demo (``IBKR_LOCAL_DEMO=1``),
  where anonymous requests are served only by a server listening on a
  loopback address, from a client on this machine, and never while the
  gateway is connected to a live account.  The check is made on each request,
  from the address the server really listens on (whatever started it:
  gunicorn of any worker class, runserver, an ASGI server), not from a setting.
- read tokens read; trade tokens also place and cancel; live tokens are also
  allowed against a live account when LIVE_TRADING=1."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from trading import mirror, risk
from trading.exceptions import StateStoreUnavailable
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
            if not settings.LOCAL_DEMO:
                raise exceptions.NotAuthenticated()
            refusal = demo_refusal(request)
            if refusal:
                raise exceptions.PermissionDenied(refusal)
            return True
        if request.method in permissions.SAFE_METHODS:
            return True
        return token.can_trade


def client_label(request: Request) -> str:
    token = request_token(request)
    return token.name if token else ANONYMOUS


# Names a server may give its loopback listener (runserver puts the address's
# FQDN in SERVER_NAME, gunicorn and ASGI servers the address itself).
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_bind(bind: str) -> bool:
    return is_loopback_host(bind.rsplit(":", 1)[0] if ":" in bind else bind)


_mode_seen: tuple[float, str] = (0.0, "")
_mode_lock = threading.Lock()
MODE_TTL = 1.0  # seconds a process trusts the trading mode it last read


def _gateway_mode() -> str:
    """ "live", "paper" or "" (no connected gateway): from the worker's
    heartbeat, read at most once a second per process (an account does not
    change without a reconnect; anonymous reads are the demo's only)."""
    global _mode_seen
    seen_at, mode = _mode_seen
    if time.monotonic() - seen_at < MODE_TTL:
        return mode
    with _mode_lock:
        try:
            beat = mirror.heartbeat()
        except StateStoreUnavailable:
            beat = None
        mode = risk.trading_mode(beat) if mirror.gateway_ready(beat) and beat else ""
        _mode_seen = (time.monotonic(), mode)
    return mode


def demo_refusal(request: Request) -> str:
    """Why the local demo may not serve this anonymous request ("" if it may)."""
    listener = request.META.get("SERVER_NAME", "")
    if not is_loopback_host(listener):
        return (
            "The local demo (IBKR_LOCAL_DEMO=1) serves anonymous requests only on a loopback "
            f"address, but this server listens on {listener!r}: bind it to 127.0.0.1, or turn "
            "the demo off and use API tokens."
        )
    if not is_loopback_host(request.META.get("REMOTE_ADDR", "")):
        return "The local demo serves anonymous requests from this machine only: use a token."
    if _gateway_mode() == "live":
        return (
            "The gateway is connected to a live account: anonymous access is refused, even "
            "in the local demo. Use an API token."
        )
    return ""


def exposure_refusal(hosts: list[str]) -> str:
    """Why a server listening on these addresses must not start ("" if it
    may): the demo's anonymous access, or the public demo secret key, on a
    non-loopback address.  Asked with the real listening addresses by
    gunicorn (gunicorn.conf.py) and runserver (its command here)."""
    exposed = [host for host in hosts if not is_loopback_host(host)]
    if not exposed:
        return ""
    where = ", ".join(exposed)
    if settings.LOCAL_DEMO:
        return (
            "IBKR_LOCAL_DEMO=1 serves the API without authentication, which is only allowed "
            f"on a loopback address, but the server listens on {where}. Bind to 127.0.0.1, or "
            "turn the demo off and create API tokens "
            "(python manage.py create_api_token --name NAME --scope read|trade|live)."
        )
    if settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return (
            "DJANGO_SECRET_KEY is not set: the public demo key would let anyone forge an "
            f"admin session, and the server listens on {where}."
        )
    return ""
