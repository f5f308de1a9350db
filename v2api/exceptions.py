"""The errors only /v2 raises (trading.exceptions' classes cover the rest);
trading.error_handler renders them in Alpaca's shape, ``{"code", "message"}``."""

from rest_framework import status

from trading.exceptions import DomainError


class DuplicateClientOrderId(DomainError):
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "client_order_id must be unique"
    default_code = "duplicate_client_order_id"


class OrderUnknown(DomainError):
    status_code: int = status.HTTP_404_NOT_FOUND
    default_detail = "order not found"
    default_code = "order_unknown"


class PositionNotFound(DomainError):
    status_code: int = status.HTTP_404_NOT_FOUND
    default_detail = "position does not exist"
    default_code = "position_not_found"


class AccountConfigurationFixed(DomainError):
    status_code: int = status.HTTP_403_FORBIDDEN
    default_detail = (
        "IB has no such settings: day-trade and pattern-day-trader checks, margin multiplier, "
        "shorting, fractional trading and trade confirmations are set on the IB account "
        "(Client Portal), not through this API. Trading is suspended with the kill switch "
        "(admin: Trading control)."
    )
    default_code = "account_configuration_fixed"


class AssetNotFound(DomainError):
    status_code: int = status.HTTP_404_NOT_FOUND
    default_detail = "asset not found"
    default_code = "asset_not_found"


class OrderNotReplaceable(DomainError):
    """A replacement IB cannot make: a finished order, an old revision, a
    field its type has not (Alpaca answers 422)."""

    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "order is not replaceable"
    default_code = "order_not_replaceable"
