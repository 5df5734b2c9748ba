from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("e/<slug:slug>/", views.event_page, name="event"),
]
