"""The REST API, version 1. Apps that own API views list them in their own api_urls.py."""

from django.urls import include, path, re_path

from . import bulk_submissions, catalogue, exports, fallback, patients, queries, submissions, tokens

urlpatterns = [
    path("sites/", catalogue.SiteList.as_view(), name="api-sites"),
    path("sites/<str:code>/", catalogue.SiteDetail.as_view(), name="api-site"),
    path("forms/", catalogue.FormList.as_view(), name="api-forms"),
    path("forms/<str:name>/", catalogue.FormDetail.as_view(), name="api-form"),
    path("forms/<str:name>/versions/", catalogue.VersionList.as_view(), name="api-form-versions"),
    path(
        "forms/<str:name>/versions/<int:number>/",
        catalogue.VersionDetail.as_view(),
        name="api-form-version",
    ),
    path("patients/", patients.PatientList.as_view(), name="api-patients"),
    path("patients/<str:pseudonym>/", patients.PatientDetail.as_view(), name="api-patient"),
    path("submissions/", submissions.SubmissionList.as_view(), name="api-submissions"),
    path(
        "submissions/bulk/", bulk_submissions.SubmissionBulk.as_view(), name="api-submissions-bulk"
    ),
    path("submissions/<int:pk>/", submissions.SubmissionDetail.as_view(), name="api-submission"),
    path("queries/", queries.DataQueryList.as_view(), name="api-queries"),
    path("queries/<int:pk>/", queries.DataQueryDetail.as_view(), name="api-query"),
    path("exports/jobs/", exports.ExportJobList.as_view(), name="api-export-jobs"),
    path("exports/jobs/<int:pk>/", exports.ExportJobDetail.as_view(), name="api-export-job"),
    path(
        "exports/jobs/<int:pk>/file/", exports.ExportJobFile.as_view(), name="api-export-job-file"
    ),
    path("exports/<str:shape>/", exports.ExportStream.as_view(), name="api-export"),
    path("tokens/", tokens.TokenList.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", tokens.TokenDetail.as_view(), name="api-token"),
    path("", include("registry.statistics.api_urls")),
    path("", include("registry.quality.api_urls")),
    path("", include("registry.jobs.api_urls")),
    # Last: a JSON 404 for what matched nothing above. Only paths ending in a slash, so that
    # CommonMiddleware still redirects /api/v1/sites to /api/v1/sites/.
    re_path(r"^(?P<path>.*/)$", fallback.unknown_path),
]
