from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

admin.site.site_header = "Ticketing back office"
admin.site.site_title = "Ticketing back office"
admin.site.index_title = "Your promotions"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("widget/", include("widget.urls")),
    path("", include("ticketing.tracking.urls")),
    path("", include("ticketing.orders.urls")),
    path("api/v1/", include("ticketing.orders.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's setup script from its own URL, not inline (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="orders/api_docs.html"
        ),
        name="api-docs",
    ),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
