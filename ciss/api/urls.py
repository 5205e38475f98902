from django.urls import path

from ciss.api import views

urlpatterns = [
    path("search/persons", views.PersonSearchView.as_view(), name="api-search-persons"),
]
