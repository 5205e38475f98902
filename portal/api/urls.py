from django.urls import path

from portal.api import views

urlpatterns = [
    path("client/", views.ClientView.as_view(), name="api-client"),
]
