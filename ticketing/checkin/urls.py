"""The scanner page and what it needs from its own path (/checkin/, ticketing/urls.py). Its
views are imported at their first request (ticketing/lazy_urls.py): a cold start answering
another path does not load them."""

from django.urls import path

from ticketing.lazy_urls import LazyView

app_name = "checkin"
urlpatterns = [
    path("", LazyView("ticketing.checkin.views.scanner"), name="scanner"),
    path("staff-pair", LazyView("ticketing.checkin.views.staff_pair"), name="staff-pair"),
    # The service worker is served from /checkin/ so that its scope is the page's.
    path("sw.js", LazyView("ticketing.checkin.views.service_worker"), name="service-worker"),
]
