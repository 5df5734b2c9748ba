"""Amounts of money as people read them: in the currency's own minor unit (6,500 JPY, not
6500.00 JPY)."""

from decimal import Decimal

# ISO 4217 currencies without a minor unit.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip


def minor_units(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def format_money(amount: Decimal, currency: str) -> str:
    """`1,234.50 EUR`, `6,500 JPY`."""
    return f"{amount:,.{minor_units(currency)}f} {currency}"


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount as an integer of the currency's minor unit (what Stripe takes): 25.00 EUR is
    2500, 6500 JPY is 6500. Refuses an amount finer than the unit rather than round it."""
    scaled = Decimal(amount).scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor(amount: int, currency: str) -> Decimal:
    """The inverse of `to_minor`: 2500 -> Decimal('25.00') for EUR, 6500 -> 6500 for JPY."""
    return Decimal(int(amount)).scaleb(-minor_units(currency))
