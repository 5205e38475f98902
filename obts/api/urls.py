from django.urls import path

from obts.api import intake, persons_read

urlpatterns = [
    path("persons/<uuid:public_id>", persons_read.PersonDetailView.as_view(), name="api-person"),
    # Intake from source systems (obts.api.intake).
    path("persons/", intake.PersonUpsertView.as_view(), name="api-persons-upsert"),
    path("feeds/<slug:kind>/", intake.FeedView.as_view(), name="api-feed"),
]
