from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Ticketing back office"
admin.site.site_title = "Ticketing back office"
admin.site.index_title = "Your promotions"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
