"""Schemathesis checks of our own, loaded by the ``st`` process (the config
file's ``hooks``): they sharpen the built-in positive and negative data checks
where a 400 can also be a legitimate answer to schema-valid input.

The server answers 400 for two different reasons.  Invalid input: a
serializer refuses it and ``errors`` names the fields (or the ``detail``
names the header, as the Idempotency-Key's refusal does).  Or valid input the
domain refuses: IB rejects the order or does not know the symbol, a
pre-trade limit is broken, or a rule across fields that JSON Schema cannot
state (a bracket's price order, since before until; ``non_field_errors``).

- ``no_stated_rule_refuses_valid_input``: schema-valid input refused as
  invalid input means the server enforces a rule the schema does not state.
- ``invalid_input_refused_as_invalid``: a schema-invalid JSON body that gets
  past validation (refused later, by IB, a limit or a rule across fields)
  means the schema states a rule the server does not enforce.  Random
  symbols are almost never known to the simulator, so without this an
  accepted ``order_ref: 0`` would hide behind "unknown symbol".
- ``before_call``: a valid Idempotency-Key (or /v2 client_order_id) the
  generators reuse is made unique, so that a 409 (a 422) does not hide the
  body's rules.

Under /v2 the same checks read Alpaca's dialect: invalid input is 422 and
its ``message`` names the fields (``"qty: ...; side: ..."``); 400 there is a
body that is not JSON."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

CROSS_FIELD = "non_field_errors"
IDEMPOTENCY_KEY = "Idempotency-Key"
_RUN = uuid.uuid4().hex[:12]
_SERIAL = itertools.count()
_seen_keys: set[str] = set()
CLIENT_ORDER_ID = "client_order_id"
_seen_client_order_ids: set[str] = set()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """A valid Idempotency-Key, or a valid /v2 client_order_id, sent a second
    time is made unique (still valid): the generators reuse a few values (the
    coverage phase one for every case), and a reused key answers 409 (a
    reused client_order_id 422) before the body's rules are reached, hiding
    them.  Invalid ones go as generated; 409 and duplicate ids are tested in
    tests/api/test_idempotency.py and tests/v2/test_http.py."""
    if case.meta is None:
        return
    headers = case.headers or {}
    key = headers.get(IDEMPOTENCY_KEY)
    if isinstance(key, str) and not case.meta.is_negative_at(ParameterLocation.HEADER):
        if key in _seen_keys:
            key = headers[IDEMPOTENCY_KEY] = f"{key[:200]}-{_RUN}-{next(_SERIAL)}"
        _seen_keys.add(key)
    body = case.body
    client_order_id = body.get(CLIENT_ORDER_ID) if isinstance(body, dict) else None
    if isinstance(client_order_id, str) and not case.meta.is_negative_at(ParameterLocation.BODY):
        if client_order_id in _seen_client_order_ids:
            client_order_id = f"{client_order_id[:100]}-{_RUN}-{next(_SERIAL)}"
            body[CLIENT_ORDER_ID] = client_order_id
        _seen_client_order_ids.add(client_order_id)


ALPACA_PREFIX = "/v2/"
# An input /v2 names in its message: "qty: ...; limit_price: ..." (or a
# header's rule: "Idempotency-Key must be ...").
_ALPACA_NAMED = re.compile(r"(?:^|; )([A-Za-z_][A-Za-z0-9_]*): ")


def _is_alpaca(case: Any) -> bool:
    return bool(case.operation.path.startswith(ALPACA_PREFIX))


def _invalid_input_status(case: Any) -> int:
    """The status of invalid input: 400 at the root, Alpaca's 422 under /v2
    (whose 400 is a body that is not JSON: no input named)."""
    return 422 if _is_alpaca(case) else 400


def _refusal(response: Any, case: Any) -> tuple[str, set[str]]:
    """The refusal's message and the fields and headers it names as invalid."""
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"A refusal without a JSON body: {response.text[:200]!r}") from None
    key = "message" if _is_alpaca(case) else "detail"
    if not isinstance(body, dict) or not isinstance(body.get(key), str):
        raise AssertionError(f'A refusal without a {{"{key}": ...}} body: {body!r}')
    message: str = body[key]
    if _is_alpaca(case):
        named = set(_ALPACA_NAMED.findall(message))
    else:
        named = set(body.get("errors") or {}) - {CROSS_FIELD}
    named |= {name for name in (case.headers or {}) if message.startswith(f"{name} ")}
    return message, named


def _mode(case: Any) -> Any:
    meta = case.meta
    return None if meta is None else meta.generation.mode


@schemathesis.check
def no_stated_rule_refuses_valid_input(ctx: Any, response: Any, case: Any) -> bool | None:
    mode = _mode(case)
    if mode is None or not mode.is_positive or response.status_code != _invalid_input_status(case):
        return None
    message, named = _refusal(response, case)
    if named:
        raise AssertionError(
            f"Schema-valid input refused for {', '.join(sorted(named))}: {message}\n"
            "The server enforces a rule the schema does not state."
        )
    return None


@schemathesis.check
def invalid_input_refused_as_invalid(ctx: Any, response: Any, case: Any) -> bool | None:
    mode = _mode(case)
    if mode is None or not mode.is_negative or response.status_code != _invalid_input_status(case):
        return None
    meta = case.meta
    # JSON bodies only: a query or header value may turn valid on the wire
    # (the number 5 sent as "5"), which the built-in negative check sorts out.
    others = (ParameterLocation.QUERY, ParameterLocation.HEADER, ParameterLocation.PATH)
    if not meta.is_negative_at(ParameterLocation.BODY) or any(map(meta.is_negative_at, others)):
        return None
    if not isinstance(case.body, dict):
        return None  # not an object, or no body: refused before any field is looked at
    message, named = _refusal(response, case)
    if named:
        return None
    raise AssertionError(
        f"Schema-invalid input passed validation and was refused later: {message}\n"
        "The schema states a rule the server does not enforce."
    )
