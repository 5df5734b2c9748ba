"""Helpers shared by the widget's test modules."""

import pytest
from django.urls import reverse

from widget.cache import origin_cache


@pytest.fixture(autouse=True)
def empty_origin_cache():
    """The origin cache lives in the process; a test's rolled-back data must not outlive it."""
    origin_cache.clear()
    yield
    origin_cache.clear()


def api_url(slug: str) -> str:
    return reverse("widget:artist-events", args=[slug])
