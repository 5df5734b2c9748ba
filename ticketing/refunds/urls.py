from django.urls import path

from . import views

app_name = "refunds"

urlpatterns = [
    path("orders/<str:code>/<str:access_key>/refund", views.request_refund, name="request"),
]
