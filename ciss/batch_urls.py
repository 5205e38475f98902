"""Batch person search pages (``ciss.batch_views``), under ``/ciss/batch/``."""

from django.urls import URLPattern, path

from ciss import batch_views

urlpatterns: list[URLPattern] = [
    path("", batch_views.batch_list_view, name="batch_list"),
    path("template.csv", batch_views.batch_template_view, name="batch_template"),
    path("<uuid:public_id>/", batch_views.batch_detail_view, name="batch_detail"),
    path("<uuid:public_id>/progress/", batch_views.batch_progress_view, name="batch_progress"),
    path("<uuid:public_id>/results.csv", batch_views.batch_download_view, name="batch_download"),
]
