from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.access import public
from portal.views import health

handler400 = "portal.views.errors.bad_request"
handler403 = "portal.views.errors.permission_denied"
handler404 = "portal.views.errors.page_not_found"
handler500 = "portal.views.errors.server_error"

urlpatterns = [
    path("", include("portal.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("api/v1/", include("obts.api.urls")),
    path("api/v1/", include("ciss.api.urls")),
    path("obts/", include("obts.urls")),
    path("ciss/", include("ciss.urls")),
    path("api/schema/", public(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        public(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
