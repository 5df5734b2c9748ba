from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("t", views.beacon, name="beacon"),
    path("t.gif", views.pixel, name="pixel"),
]
