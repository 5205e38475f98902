from django.urls import path

from obts import views

app_name = "obts"

urlpatterns = [
    path("persons/<uuid:public_id>/", views.person_view, name="person"),
    path("reports/", views.reports_view, name="reports"),
    path("reports/export.csv", views.report_export_view, name="report_export"),
]
