"""The back office's URLs, included lazily under /admin/ (ticketing/urls.py)."""

from django.contrib import admin

urlpatterns = admin.site.get_urls()
