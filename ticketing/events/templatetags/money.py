from django import template

from ticketing.events.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """`{{ ticket_type.price|money:ticket_type.currency }}` -> `39.50 EUR`, `6,500 JPY`."""
    return "" if amount is None else format_money(amount, currency)
