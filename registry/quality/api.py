"""REST API of data quality: issues within one's scope, the rules, and accepting an issue."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.rest.filters import QueryParameters
from registry.rest.mixins import AuditedListMixin
from registry.rest.pagination import RegistryPagination
from registry.rest.services import do_record_api_read
from registry.statistics.catalogue import form_catalogue

from .models import IssueStatus, QualityIssue, Severity
from .rules import all_rules
from .selectors import (
    ISSUE_FILTERS,
    can_see_details,
    can_see_quality,
    field_link,
    filtered_issues,
    issue_for,
)
from .services import can_accept_issues, do_accept_quality_issue, rules_file

NO_ACCESS = (
    "Quality issues are for site coordinators (their sites) and curators; "
    "researchers receive aggregate statistics and exports."
)


class SeesQuality(BasePermission):
    message = NO_ACCESS

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_see_quality(request.user)


class IssueOut(serializers.ModelSerializer[QualityIssue]):
    site = serializers.CharField(source="site.code")
    patient = serializers.CharField(source="patient.pseudonym")
    form = serializers.SerializerMethodField()
    instance = serializers.SerializerMethodField()
    accepted_by = serializers.CharField(
        source="accepted_by.username", default=None, allow_null=True
    )
    link = serializers.SerializerMethodField(help_text="The field in the data-entry form.")
    details = serializers.SerializerMethodField(help_text="Curators only.")

    class Meta:
        model = QualityIssue
        fields = [
            "id",
            "rule",
            "severity",
            "site",
            "patient",
            "form",
            "instance",
            "field",
            "message",
            "status",
            "first_seen",
            "last_seen",
            "resolved_at",
            "accepted_by",
            "accepted_at",
            "accepted_reason",
            "link",
            "details",
        ]

    def get_form(self, issue: QualityIssue) -> str | None:
        return issue.submission.form.name if issue.submission else None

    def get_instance(self, issue: QualityIssue) -> int | None:
        return issue.submission.instance if issue.submission else None

    def get_link(self, issue: QualityIssue) -> str | None:
        return field_link(issue)

    def get_details(self, issue: QualityIssue) -> dict[str, Any] | None:
        request = self.context.get("request")
        return issue.details if request is not None and can_see_details(request.user) else None


class AcceptIn(serializers.Serializer[Any]):
    reason = serializers.CharField(
        min_length=5, help_text="Why the value is correct as it stands (a few words at least)."
    )


class IssueQuery(QueryParameters):
    """The list's filters, checked: a misspelt status would otherwise filter everything out."""

    status = serializers.ChoiceField(
        choices=[*IssueStatus.values, "all"],
        required=False,
        help_text="open (default), resolved, accepted, or all.",
    )
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    rule = serializers.CharField(required=False, allow_blank=True, help_text="A rule code.")
    site = serializers.CharField(required=False, allow_blank=True, help_text="A site code.")


class RuleOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()


class IssueList(AuditedListMixin, generics.ListAPIView[QualityIssue]):
    """Issues of the sites one sees: open ones unless `status` says otherwise (`all`)."""

    serializer_class = IssueOut
    pagination_class = RegistryPagination
    permission_classes = [SeesQuality]

    @extend_schema(parameters=[IssueQuery])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[QualityIssue]:
        query = IssueQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {key: query.validated_data.get(key, "") for key in ISSUE_FILTERS}
        return filtered_issues(self.request.user, filters)


class IssueDetail(generics.RetrieveAPIView[QualityIssue]):
    """One issue (404 outside one's sites)."""

    serializer_class = IssueOut
    permission_classes = [SeesQuality]

    def get_object(self) -> QualityIssue:
        return issue_for(self.request.user, self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        issue = self.get_object()
        do_record_api_read(
            request.user, [issue], endpoint=request.path, site=issue.site, detail=True
        )
        return Response(self.get_serializer(issue).data)


class IssueAccept(APIView):
    """Accept an issue as correct (curators): later runs leave it accepted."""

    permission_classes = [SeesQuality]

    @extend_schema(request=AcceptIn, responses=IssueOut)
    def post(self, request: Request, pk: int) -> Response:
        issue = issue_for(request.user, pk)
        if not can_accept_issues(request.user):
            raise PermissionDenied("Only curators may accept a quality issue as correct.")
        incoming = AcceptIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            issue = do_accept_quality_issue(request.user, issue, incoming.validated_data["reason"])
        except ValidationError as error:
            raise ApiValidationError(error.message_dict) from error
        return Response(
            IssueOut(issue, context={"request": request}).data, status=status.HTTP_200_OK
        )


class RuleList(APIView):
    """Every data-quality rule: built-in, then custom (forms/quality_rules.yaml)."""

    permission_classes = [SeesQuality]

    @extend_schema(responses=RuleOut(many=True))
    def get(self, request: Request) -> Response:
        rules = all_rules(rules_file(form_catalogue()))
        return Response(RuleOut(rules, many=True).data)
