from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("registry.api.urls")),
    path("api/beacon/v2/", include("registry.api.beacon_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    # Swagger UI with its start-up script as a file of its own (?script): the Content Security
    # Policy allows no inline script. Redoc was refused: it injects inline <style> elements.
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="openapi-schema"), name="api-docs"
    ),
    # REDCap clients (PyCap, REDCapR) insist that the URL ends in /api/.
    path("redcap/", include("registry.exchange.urls")),
    path("two-factor/", include("registry.people.urls")),
    path("statistics/", include("registry.statistics.urls")),
    path("quality/", include("registry.quality.urls")),
    path("jobs/", include("registry.jobs.urls")),
    path("", include("registry.web.urls")),
]
