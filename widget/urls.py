from django.urls import path

from . import views

app_name = "widget"

urlpatterns = [
    # Slugs are matched loosely and checked in the view, so that a bad one gets a JSON 404.
    path("v1/artists/<str:slug>/events", views.artist_events, name="artist-events"),
    path("v1/loader.js", views.loader, name="loader"),
    path("artists/<str:slug>/", views.tour_page, name="tour-page"),
    path("demo/", views.demo, name="demo"),
]
