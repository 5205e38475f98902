from django.urls import path

from obts import views

app_name = "obts"

urlpatterns = [
    path("persons/<uuid:public_id>/", views.person_view, name="person"),
    path("persons/<uuid:public_id>/views/", views.person_views_view, name="person_views"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/export.csv", views.report_export_view, name="report_export"),
    path("duplicates/", views.duplicates_view, name="duplicates"),
    path("duplicates/merge/", views.duplicate_merge_view, name="duplicate_merge"),
    path("duplicates/dismiss/", views.duplicate_dismiss_view, name="duplicate_dismiss"),
    path("merges/", views.merges_view, name="merges"),
    path("merges/undo/", views.merge_undo_view, name="merge_undo"),
]
