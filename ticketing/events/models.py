"""The promoter's catalogue: who sells (promoters and their staff), what (artists, tours, events,
ticket types) and where it is embedded (affiliates).

Rules the database can hold are constraints, so no code path (admin, API, shell, a bug) can
store an event whose doors open after the show or a ticket type sold past its capacity.
"""

import re
import secrets
import zoneinfo
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import dateformat, timezone
from django.utils.functional import cached_property

from ticketing.owned_fields import (
    InventoryManager,
    OwnedFieldError,
    OwnedFieldsMixin,
    OwnedFieldsQuerySet,
    refuse_owned,
)

# What an artist's slug and an affiliate's public key can look like, for the hot paths (widget
# API, tracking beacon) to refuse anything else without asking the database.
ARTIST_SLUG = re.compile(r"[-A-Za-z0-9_]{1,50}")  # `Artist.slug`: a SlugField
AFFILIATE_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")  # `Affiliate.public_key`: token_urlsafe


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known IANA time zone, e.g. Europe/Berlin.")


def new_public_key() -> str:
    return secrets.token_urlsafe(12)


class Promoter(models.Model):
    """An organisation selling tickets; the unit of data isolation in the back office."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="promoters"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MANAGER = "manager", "Manager"
        VIEWER = "viewer", "Viewer"

    EDITING_ROLES = (Role.OWNER, Role.MANAGER)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "promoter"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "manager", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} – {self.promoter} ({self.get_role_display()})"


class Artist(models.Model):
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="artists")
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, help_text="Used in the widget embed and its API URL.")
    image_url = models.URLField(
        blank=True, help_text="A square or landscape photo, shown on the event page."
    )
    website = models.URLField(blank=True)
    bio = models.TextField(
        blank=True, max_length=600, help_text="A short description for fans: a few sentences."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Venue(models.Model):
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="venues")
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    street_address = models.CharField(
        max_length=200, blank=True, help_text="e.g. Columbiadamm 13–21"
    )
    postal_code = models.CharField(max_length=20, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. DE.")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    capacity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["city", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["promoter", "name", "city"], name="venue_unique_name_city"
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.city}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def address_lines(self) -> list[str]:
        """The postal address as printed: street, then postal code and city."""
        locality = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.street_address, locality) if line]

    @property
    def map_url(self) -> str:
        """The venue on OpenStreetMap (a plain link: no embed, no third-party script)."""
        query = ", ".join([self.name, *self.address_lines, self.country])
        return f"https://www.openstreetmap.org/search?{urlencode({'query': query})}"


class Tour(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="tours")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["artist__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["artist", "name"], name="tour_unique_name"),
        ]

    def __str__(self):
        return f"{self.artist}: {self.name}"


class EventQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def upcoming(self, now=None):
        return self.filter(starts_at__gte=now or timezone.now())


class Event(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        POSTPONED = "postponed", "Postponed"
        CANCELLED = "cancelled", "Cancelled"

    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="events")
    tour = models.ForeignKey(
        Tour, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="events")
    slug = models.SlugField(max_length=120, unique=True, help_text="The fan page is /e/<slug>/.")
    name = models.CharField(
        max_length=200, blank=True, help_text="Optional; defaults to the artist and the city."
    )
    starts_at = models.DateTimeField()
    doors_at = models.DateTimeField(null=True, blank=True)
    on_sale_at = models.DateTimeField(help_text="Moment tickets go on sale.")
    off_sale_at = models.DateTimeField(
        null=True, blank=True, help_text="Moment sales close; the start of the show if empty."
    )
    is_published = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    hold_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="How long a fan's hold lasts."
    )
    payment_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1)],
        help_text="How long seats stay held while a fan pays by card.",
    )
    age_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(21)],
        help_text="Minimum age of the audience, e.g. 16 or 18; empty for all ages.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["artist", "starts_at"], name="event_artist_starts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(doors_at__isnull=True) | Q(doors_at__lte=F("starts_at")),
                name="event_doors_before_start",
            ),
            models.CheckConstraint(
                condition=Q(off_sale_at__isnull=True) | Q(off_sale_at__gt=F("on_sale_at")),
                name="event_off_sale_after_on_sale",
            ),
            models.CheckConstraint(
                condition=Q(on_sale_at__lte=F("starts_at")), name="event_on_sale_before_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "postponed", "cancelled"]),
                name="event_status_valid",
            ),
            models.CheckConstraint(condition=Q(hold_minutes__gte=1), name="event_hold_minutes"),
            models.CheckConstraint(
                condition=Q(payment_minutes__gte=1), name="event_payment_minutes"
            ),
            models.CheckConstraint(
                condition=Q(age_limit__isnull=True) | Q(age_limit__lte=21), name="event_age_limit"
            ),
        ]

    def __str__(self):
        # Named with its local date wherever an event is listed or chosen in the back office.
        if self.starts_at is None or self.venue_id is None:
            return self.name or "New event"
        return f"{self.display_name}, {dateformat.format(self.local_starts_at, 'D j M Y')}"

    @property
    def display_name(self) -> str:
        return self.name or f"{self.artist.name} – {self.venue.city}"

    def clean(self):
        errors = {}
        if self.tour_id and self.artist_id and self.tour.artist_id != self.artist_id:
            errors["tour"] = "The tour belongs to another artist."
        if self.artist_id and self.venue_id and self.venue.promoter_id != self.artist.promoter_id:
            errors["venue"] = "The venue belongs to another promoter."
        if self.doors_at and self.starts_at and self.doors_at > self.starts_at:
            errors["doors_at"] = "Doors must open before the show starts."
        if self.on_sale_at and self.starts_at and self.on_sale_at > self.starts_at:
            errors["on_sale_at"] = "Sales must open before the show starts."
        if self.off_sale_at and self.on_sale_at and self.off_sale_at <= self.on_sale_at:
            errors["off_sale_at"] = "Sales must close after they open."
        if errors:
            raise ValidationError(errors)

    @property
    def sales_close_at(self):
        return self.off_sale_at or self.starts_at

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.venue.zone)

    @cached_property
    def ticket_type_list(self) -> list["TicketType"]:
        return list(self.ticket_types.all())

    @property
    def remaining(self) -> int:
        return sum(t.remaining for t in self.ticket_type_list)

    @property
    def is_sold_out(self) -> bool:
        types = self.ticket_type_list
        return bool(types) and all(t.remaining == 0 for t in types)

    def sales_state(self, now=None) -> str:
        """Whether the event sells at `now`, inventory aside: `on_sale`, `not_yet_on_sale`,
        `sales_closed`, `event_cancelled` or `event_unpublished`."""
        now = now or timezone.now()
        if not self.is_published:
            return "event_unpublished"
        if self.status == self.Status.CANCELLED:
            return "event_cancelled"
        if now < self.on_sale_at:
            return "not_yet_on_sale"
        if now >= self.sales_close_at:
            return "sales_closed"
        return "on_sale"

    def is_on_sale(self, now=None) -> bool:
        return self.sales_state(now) == "on_sale" and not self.is_sold_out


class TicketTypeQuerySet(OwnedFieldsQuerySet):
    def bulk_create(self, objs, *args, update_fields=None, **kwargs):
        objs = list(objs)
        for ticket_type in objs:
            ticket_type.refuse_counters_on_insert()
        refuse_owned(self.model, update_fields or ())  # an upsert's UPDATE half
        return super().bulk_create(objs, *args, update_fields=update_fields, **kwargs)

    bulk_create.alters_data = True


class TicketType(OwnedFieldsMixin, models.Model):
    """A kind of ticket for one event, with its own capacity.

    `sold` and `held` are the inventory counters, owned by the orders app: it moves them with
    conditional updates through `TicketType.inventory`, and nothing else can write them (see
    `ticketing.owned_fields`); a new ticket type starts with none sold or held. The check
    constraint below is the last line of defence against overselling.
    """

    owned_fields = frozenset({"sold", "held"})

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=100)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    capacity = models.PositiveIntegerField()
    max_per_order = models.PositiveSmallIntegerField(default=8, validators=[MinValueValidator(1)])
    sales_start_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional; the event's on-sale moment if empty."
    )
    sales_end_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional; the event's off-sale moment if empty."
    )
    position = models.PositiveSmallIntegerField(default=0)
    sold = models.PositiveIntegerField(default=0, editable=False)
    held = models.PositiveIntegerField(default=0, editable=False)

    objects = TicketTypeQuerySet.as_manager()
    inventory = InventoryManager.from_queryset(TicketTypeQuerySet)()  # orders.services only

    class Meta:
        ordering = ["position", "price", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="tickettype_unique_name"),
            models.CheckConstraint(condition=Q(price__gte=0), name="tickettype_price_positive"),
            models.CheckConstraint(condition=Q(max_per_order__gte=1), name="tickettype_max_order"),
            models.CheckConstraint(
                condition=Q(sold__gte=0) & Q(held__gte=0), name="tickettype_counters_positive"
            ),
            models.CheckConstraint(
                condition=Q(sold__lte=F("capacity") - F("held")),
                name="tickettype_not_oversold",
            ),
            models.CheckConstraint(
                condition=Q(sales_start_at__isnull=True)
                | Q(sales_end_at__isnull=True)
                | Q(sales_end_at__gt=F("sales_start_at")),
                name="tickettype_sales_window",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="tickettype_currency_iso"
            ),
        ]

    def __str__(self):
        return f"{self.event} – {self.name}"

    def save(self, **kwargs):
        if self._inserts(kwargs.get("force_insert")):
            self.refuse_counters_on_insert()
        try:
            # A savepoint: a refused capacity must leave the caller's transaction usable.
            with transaction.atomic(using=kwargs.get("using")):
                super().save(**kwargs)
        except IntegrityError as error:
            if "tickettype_not_oversold" not in str(error):
                raise
            # Seats were taken since this instance was read: say so, as `clean()` would.
            self.validate_capacity(TicketType.objects.get(pk=self.pk).taken)
            raise

    save.alters_data = True

    def refuse_counters_on_insert(self) -> None:
        if self.sold or self.held:
            raise OwnedFieldError(
                "A new ticket type starts with no tickets sold or held: the counters are written "
                "only by the inventory code."
            )

    @property
    def taken(self) -> int:
        return self.sold + self.held

    def validate_capacity(self, taken: int) -> None:
        """Refuse a capacity below the seats already sold or held (`taken`)."""
        if self.capacity is not None and self.capacity < taken:
            message = f"{taken} tickets are already sold or held: the capacity cannot be lower."
            raise ValidationError({"capacity": message})

    def clean(self):
        self.validate_capacity(self.taken)
        if self.sales_start_at and self.sales_end_at and self.sales_end_at <= self.sales_start_at:
            raise ValidationError({"sales_end_at": "Sales must close after they open."})

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)


class Affiliate(models.Model):
    """A site that embeds the widget; its public key attributes views, clicks and orders."""

    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="affiliates")
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, help_text="e.g. fan-site.example")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["promoter", "domain"], name="affiliate_unique_domain"),
        ]

    def __str__(self):
        return f"{self.name} ({self.domain})"
