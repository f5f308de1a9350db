"""The code tables decide what an IB message on an order means."""

from __future__ import annotations

import pytest

from trading.gateway.codes import Meaning, meaning, refuses_funds


@pytest.mark.parametrize("code", [2109, 10349, 10311, 399, 2100, 2137, 2199, 10167])
def test_warnings_on_a_valid_order_are_warnings(code: int) -> None:
    assert meaning(code) is Meaning.WARNING


@pytest.mark.parametrize("code", [103, 110, 200, 201, 203, 321, 387, 10000])
def test_other_codes_on_an_order_are_rejections(code: int) -> None:
    assert meaning(code) is Meaning.REJECTION


@pytest.mark.parametrize("code", [2104, 2106, 2107, 2108, 2119, 2158])
def test_farm_status_inside_the_warning_range_is_only_information(code: int) -> None:
    assert meaning(code) is Meaning.INFO


def test_2110_is_lost_connectivity_though_it_lies_in_the_warning_range() -> None:
    assert meaning(2110) is Meaning.CONNECTIVITY_LOST
    assert meaning(1100) is Meaning.CONNECTIVITY_LOST


@pytest.mark.parametrize("code", [1101, 1102])
def test_restored_connectivity(code: int) -> None:
    assert meaning(code) is Meaning.CONNECTIVITY_RESTORED


@pytest.mark.parametrize("code", [161, 10147, 10148])
def test_a_refused_cancel_is_not_a_rejection_of_the_order(code: int) -> None:
    assert meaning(code) is Meaning.CANCEL_REFUSED


def test_202_confirms_a_cancel() -> None:
    assert meaning(202) is Meaning.CANCELLED


@pytest.mark.parametrize(
    ("code", "message", "funds"),
    [
        (
            201,
            "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
            "POSITION YOUR EQUITY WITH LOAN VALUE [9995.00 USD] MUST EXCEED THE INITIAL MARGIN "
            "[45845.00 USD]",
            True,
        ),
        (201, "Order rejected - reason:Insufficient buying power", True),
        (201, "Order rejected - reason:Invalid account code.", False),
        (110, "The price does not conform to the minimum price variation", False),
    ],
)
def test_ibs_margin_refusal_is_told_from_other_rejections(
    code: int, message: str, funds: bool
) -> None:
    assert refuses_funds(code, message) is funds
