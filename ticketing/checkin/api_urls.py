"""The door scanners' API, under /api/v1/checkin/ (ticketing/urls.py)."""

from django.urls import path

from ticketing.lazy_urls import LazyView


def api_view(name: str) -> LazyView:
    # Device tokens, never cookies: no CSRF applies (see api.py).
    return LazyView(f"ticketing.checkin.api.{name}", csrf_exempt=True)


app_name = "checkin-api"
urlpatterns = [
    path("pair", api_view("pair"), name="pair"),
    path("bundle", api_view("bundle"), name="bundle"),
    path("scans", api_view("scans"), name="scans"),
    path("search", api_view("search"), name="search"),
    path("sync", api_view("sync"), name="sync"),
]
