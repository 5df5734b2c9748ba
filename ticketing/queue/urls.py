from django.urls import path

from . import views

app_name = "queue"

urlpatterns = [
    path("q/<int:event_id>/status", views.status, name="status"),
    path("q/<int:event_id>/join", views.join, name="join"),
    path("q/<int:event_id>/pass", views.admission_pass, name="pass"),
]
