from django.urls import include, path

from ciss.api import exchanges, place_views, views

urlpatterns = [
    path("associations/", include("ciss.api.association_urls")),
    path("search/persons", views.PersonSearchView.as_view(), name="api-search-persons"),
    path("search/vehicles", views.VehicleSearchView.as_view(), name="api-search-vehicles"),
    path(
        "search/locations",
        place_views.LocationSearchView.as_view(),
        name="api-search-locations",
    ),
    path(
        "search/property",
        place_views.PropertySearchView.as_view(),
        name="api-search-property",
    ),
    path("search/events", place_views.EventSearchView.as_view(), name="api-search-events"),
    path("exchanges/", exchanges.ExchangeSubmitView.as_view(), name="api-exchanges"),
    path(
        "exchanges/schemas/",
        exchanges.ExchangeSchemasView.as_view(),
        name="api-exchange-schemas",
    ),
    path(
        "exchanges/<uuid:public_id>",
        exchanges.ExchangeDetailView.as_view(),
        name="api-exchange",
    ),
    path(
        "exchanges/<uuid:public_id>/attachments/",
        exchanges.ExchangeAttachmentView.as_view(),
        name="api-exchange-attachments",
    ),
]
