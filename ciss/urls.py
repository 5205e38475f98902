from django.urls import path

from ciss import views

app_name = "ciss"

urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("search/results/", views.search_results_view, name="search_results"),
    path("misuse/", views.misuse_view, name="misuse"),
]
