"""The site's URLs.

What only some URLs need is imported at their first request (ticketing/lazy_urls.py): DRF and
drf-spectacular for the checkout API and its docs, the admin modules for the back office. A new
Lambda container answering /healthz, the widget API or the beacon never loads them.
"""

from django.urls import include, path

from . import views
from .lazy_urls import LazyView, lazy_include

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Hot paths: the widget (CDN-cached) and the tracking beacon.
    path("widget/", include("widget.urls")),
    path("", include("ticketing.tracking.urls")),
    # The waiting room's status (CDN-cached), join and pass (ticketing/queue).
    path("", include("ticketing.queue.urls")),
    # Fan pages: checkout, the home page, calendars and sitemap, notify-me; then the checkout's
    # JSON API and its documentation.
    path("", include("ticketing.orders.urls")),
    path("", include("ticketing.fans.urls")),
    path("", include("ticketing.notify.urls")),
    path("", include("ticketing.refunds.urls")),
    path("", include("ticketing.payments.urls")),
    path("api/v1/", include("ticketing.orders.api_urls")),
    # Door check-in: the scanner page and its API (device tokens, no cookies).
    path("checkin/", include("ticketing.checkin.urls")),
    path("api/v1/checkin/", include("ticketing.checkin.api_urls")),
    path(
        "api/schema/",
        LazyView("drf_spectacular.views.SpectacularAPIView"),
        name="api-schema",
    ),
    # The split view serves Swagger UI's setup script from its own URL, not inline (CSP).
    path(
        "api/docs/",
        LazyView(
            "drf_spectacular.views.SpectacularSwaggerSplitView",
            url_name="api-schema",
            template_name="orders/api_docs.html",
        ),
        name="api-docs",
    ),
    # Promoter back office.
    lazy_include("admin/", "ticketing.backoffice.urls", namespace="admin"),
]
