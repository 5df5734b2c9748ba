"""Reads of the catalogue for fan-facing pages."""

from django.shortcuts import get_object_or_404

from .models import Event


def published_event(slug: str) -> Event:
    """A published event with what its page shows, or 404."""
    return get_object_or_404(
        Event.objects.published()
        .select_related("artist__promoter", "venue", "tour")
        .prefetch_related("ticket_types"),
        slug=slug,
    )


def upcoming_events(now=None):
    """Published events still ahead, soonest first, for the public home page and the sitemap."""
    return Event.objects.published().upcoming(now).order_by("starts_at", "pk")
