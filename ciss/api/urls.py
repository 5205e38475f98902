from django.urls import path

from ciss.api import views

urlpatterns = [
    path("search/persons", views.PersonSearchView.as_view(), name="api-search-persons"),
    path("search/vehicles", views.VehicleSearchView.as_view(), name="api-search-vehicles"),
]
