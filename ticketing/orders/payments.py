"""Payment providers: how an order gets paid, kept apart from how seats are taken.

A provider is any class with the `PaymentProvider` shape, listed by dotted path in
`settings.PAYMENT_PROVIDERS` (the first one is the default). The order service asks it, inside
the order's transaction, what the order's payment status is. A card provider would answer
`pending` (adding, say, where to send the fan to pay) and confirm later through its own webhook
view; none of that touches the inventory guard.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentResult:
    status: str  # one of Order.PaymentStatus


class PaymentProvider(Protocol):
    key: str  # stored on the order
    label: str  # shown to the fan

    def is_available(self, total: Decimal, currency: str) -> bool: ...

    def start(self, order) -> PaymentResult: ...


class PayAtVenue:
    """Built in: free tickets are paid; anything else is paid at the box office."""

    key = "venue"
    label = "Free / pay at the venue"

    def is_available(self, total: Decimal, currency: str) -> bool:
        return True

    def start(self, order) -> PaymentResult:
        return PaymentResult(status="paid" if order.total == 0 else "due")


@cache
def providers() -> dict[str, PaymentProvider]:
    loaded = [import_string(path)() for path in settings.PAYMENT_PROVIDERS]
    return {provider.key: provider for provider in loaded}


def provider_for(key: str | None, total: Decimal, currency: str) -> PaymentProvider | None:
    """The provider named `key` (when empty, the first that can take it), if it can take this
    order: a card provider listed first leaves free tickets to the next one."""
    available = providers()
    if not key:
        return next((p for p in available.values() if p.is_available(total, currency)), None)
    provider = available.get(key)
    if provider is None or not provider.is_available(total, currency):
        return None
    return provider
