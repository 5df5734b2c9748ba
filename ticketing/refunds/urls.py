"""The fan's refund request on a postponed event's order page. Imported at its first request
(ticketing/lazy_urls.py), like the payment pages: the refund services reach the `stripe`
library."""

from django.urls import path

from ticketing.lazy_urls import LazyView

app_name = "refunds"

urlpatterns = [
    path(
        "orders/<str:code>/<str:access_key>/refund",
        LazyView("ticketing.refunds.views.request_refund", csrf_exempt=True),
        name="request",
    ),
]
