from django.urls import path

from ticketing.lazy_urls import LazyView


def api_view(name: str) -> LazyView:
    """A view of ticketing/orders/api.py, imported (with DRF) at its first request. The API
    takes no cookie authority, so no CSRF check applies (as DRF's views declare)."""
    return LazyView(f"ticketing.orders.api.{name}", csrf_exempt=True)


urlpatterns = [
    path("time", api_view("ServerTime"), name="api-time"),
    path("events/<slug:slug>/availability", api_view("EventAvailability"), name="api-availability"),
    # The busiest request of an on-sale, answered without DRF when it can be (hold_api.py).
    path(
        "holds",
        LazyView("ticketing.orders.hold_api.create_hold", csrf_exempt=True),
        name="api-holds",
    ),
    path("holds/<str:token>", api_view("HoldDetail"), name="api-hold"),
    path("holds/<str:token>/order", api_view("HoldOrder"), name="api-hold-order"),
    path("orders/<str:code>", api_view("OrderDetail"), name="api-order"),
]
