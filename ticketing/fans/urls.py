from django.urls import path

from . import views

app_name = "fans"

urlpatterns = [
    path("", views.home, name="home"),
    path("e/<slug:slug>/calendar.ics", views.event_calendar, name="event-calendar"),
    path(
        "orders/<str:code>/<str:access_key>/calendar.ics",
        views.order_calendar,
        name="order-calendar",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("favicon.ico", views.favicon, name="favicon"),
]
