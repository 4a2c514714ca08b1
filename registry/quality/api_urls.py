"""REST API routes of this app, mounted under /api/v1/ by registry/api/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("quality/issues/", api.IssueList.as_view(), name="api-quality-issues"),
    path("quality/issues/<int:pk>/", api.IssueDetail.as_view(), name="api-quality-issue"),
    path(
        "quality/issues/<int:pk>/accept/",
        api.IssueAccept.as_view(),
        name="api-quality-issue-accept",
    ),
    path("quality/rules/", api.RuleList.as_view(), name="api-quality-rules"),
]
