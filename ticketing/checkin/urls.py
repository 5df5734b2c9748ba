"""The scanner page and what it needs from its own path (/checkin/, ticketing/urls.py)."""

from django.urls import path

from . import views

app_name = "checkin"
urlpatterns = [
    path("", views.scanner, name="scanner"),
    path("staff-pair", views.staff_pair, name="staff-pair"),
    # The service worker is served from /checkin/ so that its scope is the page's.
    path("sw.js", views.service_worker, name="service-worker"),
]
