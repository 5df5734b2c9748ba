from django.urls import path

from . import api

urlpatterns = [
    path("time", api.ServerTime.as_view(), name="api-time"),
    path(
        "events/<slug:slug>/availability",
        api.EventAvailability.as_view(),
        name="api-availability",
    ),
    path("holds", api.Holds.as_view(), name="api-holds"),
    path("holds/<str:token>", api.HoldDetail.as_view(), name="api-hold"),
    path("holds/<str:token>/order", api.HoldOrder.as_view(), name="api-hold-order"),
    path("orders/<str:code>", api.OrderDetail.as_view(), name="api-order"),
]
