from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("pay/<str:token>/", views.pay, name="pay"),
    path("pay/<str:token>/start", views.start, name="start"),
    path("pay/<str:token>/card", views.card, name="card"),
    path("pay/<str:token>/status", views.status, name="status"),
    path("payments/stripe/webhook", views.stripe_webhook, name="stripe_webhook"),
]
