from django.urls import URLPattern, path

from ciss.api import associations

urlpatterns: list[URLPattern] = [
    path("", associations.AssociationsView.as_view(), name="api-associations"),
]
