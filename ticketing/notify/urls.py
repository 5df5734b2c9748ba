from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [
    path("e/<slug:slug>/notify", views.subscribe, name="subscribe"),
    path("notify/confirm/<str:token>/", views.confirm, name="confirm"),
    path("notify/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
