"""The card payment pages and Stripe's webhook. Their views are imported at their first request
(ticketing/lazy_urls.py): they import the `stripe` library, which a cold start answering
another path should not load. `csrf_exempt` is said here, where middleware reads it before
the view is imported."""

from django.urls import path

from ticketing.lazy_urls import LazyView

app_name = "payments"


def _view(name: str, **options) -> LazyView:
    return LazyView(f"ticketing.payments.views.{name}", **options)


urlpatterns = [
    path("pay/<str:token>/", _view("pay"), name="pay"),
    path("pay/<str:token>/start", _view("start", csrf_exempt=True), name="start"),
    path("pay/<str:token>/card", _view("card", csrf_exempt=True), name="card"),
    path("pay/<str:token>/status", _view("status"), name="status"),
    path(
        "payments/stripe/webhook",
        _view("stripe_webhook", csrf_exempt=True),
        name="stripe_webhook",
    ),
]
