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
