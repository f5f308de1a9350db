"""One vocabulary of outcomes, mapped to HTTP in one place (trading.exceptions)
and to the audit trail's states (trading.audit)."""

from __future__ import annotations

import pytest

from trading import audit
from trading.exceptions import (
    OUTCOME_ERRORS,
    GatewayTimeout,
    OrderExpired,
    StateStoreUnavailable,
    outcome_error,
)
from trading.models import OrderRequestLog
from trading.wire import Outcome, OutcomeKind

FAILURES = [kind for kind in OutcomeKind if kind is not OutcomeKind.DONE]


def test_every_failure_has_its_http_answer() -> None:
    assert set(OUTCOME_ERRORS) == set(FAILURES)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (OutcomeKind.UNAVAILABLE, 503),
        (OutcomeKind.TIMEOUT, 504),
        (OutcomeKind.EXPIRED, 504),
        (OutcomeKind.REJECTED, 400),
        (OutcomeKind.NOT_FOUND, 404),
        (OutcomeKind.LIVE_REFUSED, 403),  # as the web's own refusal
        (OutcomeKind.STATE_STORE, 503),
        (OutcomeKind.WORKER_ERROR, 500),  # ours, not the gateway's
    ],
)
def test_each_outcome_has_one_status(kind: OutcomeKind, status: int) -> None:
    assert outcome_error(Outcome.fail(kind, "")).status_code == status


def test_the_worker_s_message_reaches_the_client_unchanged() -> None:
    outcome = Outcome.fail(OutcomeKind.STATE_STORE, "the worker could not record it in Redis")

    error = outcome_error(outcome)

    assert error.detail == "the worker could not record it in Redis"


def test_without_a_message_the_default_detail_stands() -> None:
    assert outcome_error(Outcome.fail(OutcomeKind.UNAVAILABLE, "")).detail == (
        "Failed to connect to IB Gateway"
    )


def test_an_answer_of_unknown_kind_is_a_worker_error() -> None:
    assert outcome_error(Outcome(ok=False, kind="reboot")).status_code == 500


@pytest.mark.parametrize("kind", FAILURES)
def test_every_failure_is_an_audit_state(kind: OutcomeKind) -> None:
    fields = audit.outcome_fields(
        outcome=Outcome.fail(kind, "why", 201),
        error=outcome_error(Outcome.fail(kind, "why")),
        latency_ms=1.0,
    )

    assert fields["state"] == kind.value
    assert fields["state"] in OrderRequestLog.State.values


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (GatewayTimeout(), "timeout"),
        (OrderExpired(), "expired"),
        (StateStoreUnavailable(), "state_store"),
    ],
)
def test_a_transport_failure_without_an_outcome_has_its_state(error: Exception, state: str) -> None:
    fields = audit.outcome_fields(outcome=None, error=error, latency_ms=1.0)  # type: ignore[arg-type]

    assert (fields["state"], fields["http_status"]) == (state, error.status_code)  # type: ignore[attr-defined]


def test_a_placed_order_records_its_perm_ids_and_warnings() -> None:
    warning = {"code": 2109, "message": "ignored"}
    outcome = Outcome.done(perm_ids=[5, 6], warnings=[warning])

    fields = audit.outcome_fields(outcome=outcome, error=None, latency_ms=2.0)

    assert (fields["state"], fields["http_status"], fields["perm_ids"]) == ("done", 200, [5, 6])
    assert fields["warnings"] == [warning]
