"""Helpers of the refund tests: fans' orders of an event on sale."""

from ticketing.orders import services


def buy(ticket_type, quantity, email, language="en"):
    hold = services.create_hold(
        [{"ticket_type": ticket_type.pk, "quantity": quantity}], language=language
    )
    name = email.split("@")[0].title()
    return services.place_order(hold.token, name=name, email=email, payment_provider="venue")[0]
