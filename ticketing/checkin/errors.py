"""What the check-in API refuses, in the checkout's error style (`ticketing/orders/errors.py`):
a stable `code`, a readable `message`, the HTTP status."""

from ticketing.orders.errors import CheckoutError


class CheckinError(CheckoutError):
    pass


class InvalidScan(CheckinError):
    code = "invalid"
    status = 400


class DeviceNotAuthorized(CheckinError):
    """No token, an unknown one (`device_unknown`) or a revoked device's (`device_revoked`)."""

    code = "device_unknown"
    status = 401


class PairingCodeInvalid(CheckinError):
    code = "pairing_code_invalid"
    status = 404


class EventNotFound(CheckinError):
    """Not one of the device's promoter's events (another promoter's is as absent)."""

    code = "event_not_found"
    status = 404
