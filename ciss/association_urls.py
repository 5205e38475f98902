from django.urls import URLPattern, path

from ciss import association_views

urlpatterns: list[URLPattern] = [
    path("", association_views.associations_view, name="associations"),
]
