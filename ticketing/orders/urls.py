from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("e/<slug:slug>/", views.event_page, name="event"),
    path("e/<slug:slug>/hold", views.hold_create, name="hold_create"),
    path("holds/<str:token>/", views.hold_page, name="hold"),
    path("holds/<str:token>/order", views.order_create, name="order_create"),
    path("holds/<str:token>/release", views.hold_release, name="hold_release"),
    path("orders/lookup/", views.order_lookup, name="lookup"),
    path("orders/<str:code>/<str:access_key>/", views.confirmation, name="confirmation"),
]
