"""Checkout reads: whether an event sells, honest availability, holds, orders, door scans and
sales for the analytics funnel."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ticketing.events.models import Event, TicketType

from . import ticket_codes
from .models import Hold, HoldItem, Order, Ticket


@dataclass(frozen=True)
class SaleStatus:
    code: str  # on_sale | not_yet_on_sale | sales_closed | event_cancelled | event_unpublished
    message: str
    details: dict = field(default_factory=dict)


SALE_MESSAGES = {
    "on_sale": gettext_lazy("On sale."),
    "not_yet_on_sale": gettext_lazy("Tickets are not on sale yet."),
    "sales_closed": gettext_lazy("Ticket sales have closed."),
    "event_cancelled": gettext_lazy("This event has been cancelled."),
    "event_unpublished": gettext_lazy("This event is not published."),
}


def sale_status(event: Event, now=None) -> SaleStatus:
    """Whether the event sells at `now` (sold-out is the inventory's answer, not this one)."""
    code = event.sales_state(now)
    details = {"on_sale_at": event.on_sale_at.isoformat()} if code == "not_yet_on_sale" else {}
    return SaleStatus(code, str(SALE_MESSAGES[code]), details)


# A live hold may still become an order after sales closed: its fan was already at checkout, the
# seats are theirs until the hold runs out, and nothing oversells (they are counted in `held`).
# Not once the event was cancelled or unpublished, or its sales moved to a later moment.
ORDER_REFUSALS = {
    "event_cancelled": gettext_lazy(
        "This event has been cancelled, so these tickets can no longer be ordered."
    ),
    "event_unpublished": gettext_lazy(
        "This event has been taken off sale, so these tickets can no longer be ordered."
    ),
    "not_yet_on_sale": gettext_lazy(
        "Sales for this event have been moved to a later date, so these tickets can no longer "
        "be ordered."
    ),
}


def order_refusal(event: Event, now=None) -> SaleStatus | None:
    """Why a live hold for `event` cannot become an order at `now`, or None if it can."""
    code = event.sales_state(now)
    return SaleStatus(code, str(ORDER_REFUSALS[code])) if code in ORDER_REFUSALS else None


def lapsed_seats(event: Event, now=None) -> dict[int, int]:
    """Seats per ticket type in holds that lapsed but are not released yet: still in `held`,
    already free. One probe of the active-holds partial index."""
    now = now or timezone.now()
    rows = (
        HoldItem.objects.filter(
            hold__event=event, hold__state=Hold.State.ACTIVE, hold__expires_at__lte=now
        )
        .values("ticket_type_id")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    return {row["ticket_type_id"]: row["quantity"] for row in rows}


def availability(event: Event, now=None) -> list[dict]:
    """What each ticket type has left, counting lapsed holds as free, with the pickers' limit."""
    now = now or timezone.now()
    lapsed = lapsed_seats(event, now)
    rows = []
    for ticket_type in event.ticket_type_list:
        remaining = ticket_type.remaining + lapsed.get(ticket_type.pk, 0)
        rows.append(
            {
                "ticket_type": ticket_type,
                "available": remaining,
                "max_quantity": min(remaining, ticket_type.max_per_order),
            }
        )
    return rows


def hold_by_token(token: str) -> Hold:
    """A hold in any state, with its event and items, by its token, or 404."""
    hold = get_object_or_404(
        Hold.objects.select_related("event__artist", "event__venue"), token=token
    )
    hold.item_list = list(hold.items.select_related("ticket_type"))
    return hold


def hold_total(hold: Hold) -> tuple[Decimal, str]:
    """What the hold's seats cost, in its one currency; `hold.item_list` must be loaded."""
    items = hold.item_list
    total = sum((item.ticket_type.price * item.quantity for item in items), Decimal(0))
    return total, items[0].ticket_type.currency


def _with_tickets(queryset):
    return queryset.select_related("event__artist", "event__venue").prefetch_related(
        "tickets__ticket_type"
    )


def order_by_access_key(code: str, access_key: str) -> Order:
    return get_object_or_404(_with_tickets(Order.objects), code=code, access_key=access_key)


def order_by_code_and_email(code: str, email: str) -> Order | None:
    """The lookup a fan does with the code from the email; email compared case-insensitively."""
    code = (code or "").strip().upper().replace("-", "").replace(" ", "")
    email = (email or "").strip()
    if not code or not email:
        return None
    return _with_tickets(Order.objects).filter(code=code, email__iexact=email).first()


def ticket_from_scan(scanned: str) -> Ticket | None:
    """The ticket a QR code names, if one of the ticket signing keys signed it (old keys too,
    while they are listed); for the door."""
    code = ticket_codes.verify(scanned)
    if code is None:
        return None
    return (
        Ticket.objects.select_related("order", "ticket_type")
        .filter(secret=code.secret, order__event_id=code.event_id)
        .first()
    )


def ticket_public_keys() -> dict[str, str]:
    """Key id -> Ed25519 public key (raw, base64url) of every key a valid ticket may be signed
    with: what an offline door scanner verifies QR codes against."""
    return ticket_codes.public_keys()


def confirmed_orders_by_event(events) -> dict[int, dict]:
    """Event id -> {"orders": n, "tickets": n} of its confirmed orders (events without any are
    absent): what cancelling those events would cancel. One query."""
    rows = (
        Order.objects.filter(event__in=events, state=Order.State.CONFIRMED)
        .values("event_id")
        .annotate(
            orders=Count("pk", distinct=True),
            tickets=Count("tickets", filter=Q(tickets__voided_at__isnull=True)),  # not refunded
        )
        .order_by()
    )
    return {row.pop("event_id"): row for row in rows}


# --- Sales, for the analytics funnel ---------------------------------------------------------

# What sales can be grouped by: the same keys as the tracking counters (ids, and the UTC day),
# so views -> clicks -> orders join row by row.
CENTS = Decimal("0.01")  # the scale of `Order.total`
SALES_KEYS = {
    "day": TruncDate("created_at", tzinfo=dt.UTC),
    "artist": F("event__artist"),
    "event": F("event"),
    "affiliate": F("affiliate"),
}


@dataclass(frozen=True)
class Sales:
    orders: int = 0
    tickets: int = 0
    revenue: tuple[tuple[str, Decimal], ...] = ()  # (currency, amount), by currency

    def __add__(self, other: "Sales") -> "Sales":
        revenue = dict(self.revenue)
        for currency, amount in other.revenue:
            revenue[currency] = revenue.get(currency, 0) + amount
        return Sales(
            self.orders + other.orders, self.tickets + other.tickets, tuple(sorted(revenue.items()))
        )


def _tickets_of_the_order() -> Subquery:
    """The number of valid (not refunded) tickets of the outer query's order, summed without
    joining the tickets (which would repeat each order's total)."""
    return Subquery(
        Ticket.objects.live()
        .filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(n=Count("pk"))
        .values("n")
    )


def _revenue_of_the_order() -> ExpressionWrapper:
    """The outer query's order's total less what its refunded tickets were worth: what the
    analytics count as revenue, and what `reconcile_payments` checks against the refunds."""
    refunded = Subquery(
        Ticket.objects.filter(order=OuterRef("pk"), voided_at__isnull=False)
        .order_by()
        .values("order")
        .annotate(value=Sum("price"))
        .values("value")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return ExpressionWrapper(F("total") - Coalesce(refunded, Value(Decimal(0))), money)


def sales(
    orders: QuerySet[Order], start: dt.date, end: dt.date, by: Sequence[str] = ()
) -> dict[tuple, Sales]:
    """Confirmed orders, their tickets and revenue per currency placed on the days start..end
    (inclusive, UTC), grouped by the `SALES_KEYS` named in `by`: {(key values...): Sales}, e.g.
    {(affiliate id,): ...} for by=("affiliate",), None for orders without one; {(): ...} for
    by=(). Cancelled orders are no sales. The caller passes the orders it may see, already
    narrowed (a promoter's scope, an artist, an event). One query."""
    begin = dt.datetime.combine(start, dt.time.min, dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, dt.UTC)
    tickets = _tickets_of_the_order()
    rows = (
        orders.filter(state=Order.State.CONFIRMED, created_at__gte=begin, created_at__lt=stop)
        .annotate(**{f"sales_{key}": SALES_KEYS[key] for key in by})
        .values(*(f"sales_{key}" for key in by), "currency")
        .annotate(n=Count("pk"), tickets=Sum(tickets), revenue=Sum(_revenue_of_the_order()))
        .order_by()
    )
    found: dict[tuple, Sales] = {}
    for row in rows:
        key = tuple(row[f"sales_{name}"] for name in by)
        revenue = row["revenue"].quantize(CENTS)  # SQLite's sum drops the scale
        found[key] = found.get(key, Sales()) + Sales(
            row["n"], row["tickets"], ((row["currency"], revenue),)
        )
    return found


# --- The on-sale minute, live, for the promoter ----------------------------------------------

LIVE_WINDOWS = (1, 5, 15, 60)  # minutes of recent sales the live view shows


@dataclass(frozen=True)
class TicketTypeLive:
    ticket_type: TicketType
    sold: int
    held: int  # in live holds; seats of lapsed holds count as left
    left: int


def live_inventory(event: Event, now=None) -> list[TicketTypeLive]:
    """Seats sold, held and left per ticket type, read fresh."""
    lapsed = lapsed_seats(event, now)
    rows = []
    for ticket_type in event.ticket_types.all():
        held = ticket_type.held - lapsed.get(ticket_type.pk, 0)
        rows.append(
            TicketTypeLive(ticket_type, ticket_type.sold, held,
                           max(ticket_type.capacity - ticket_type.sold - held, 0))
        )  # fmt: skip
    return rows


def recent_sales(orders: QuerySet[Order], now, windows=LIVE_WINDOWS) -> dict[int | None, Sales]:
    """Confirmed orders, tickets and revenue of the last `windows` minutes, and (None) in all;
    one query, by conditional aggregates per currency."""
    tickets, revenue = _tickets_of_the_order(), _revenue_of_the_order()
    since = {minutes: Q(created_at__gt=now - dt.timedelta(minutes=minutes)) for minutes in windows}
    aggregates = {"orders_all": Count("pk"), "tickets_all": Sum(tickets),
                  "revenue_all": Sum(revenue)}  # fmt: skip
    for minutes, recent in since.items():
        aggregates[f"orders_{minutes}"] = Count("pk", filter=recent)
        aggregates[f"tickets_{minutes}"] = Sum(tickets, filter=recent)
        aggregates[f"revenue_{minutes}"] = Sum(revenue, filter=recent)
    rows = (
        orders.filter(state=Order.State.CONFIRMED, created_at__lte=now)
        .values("currency")
        .annotate(**aggregates)
        .order_by()
    )
    found = {key: Sales() for key in (*windows, None)}
    for row in rows:
        for key in found:
            name = "all" if key is None else key
            if row[f"orders_{name}"]:
                revenue = row[f"revenue_{name}"].quantize(CENTS)  # SQLite's sum drops the scale
                found[key] += Sales(row[f"orders_{name}"], row[f"tickets_{name}"],
                                    ((row["currency"], revenue),))  # fmt: skip
    return found
