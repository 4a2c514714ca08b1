"""Form versions for curators: what exists, how much data each holds, what changed, and a
deliberate, confirmed publication of new versions (never automatic on edit): from the files in
`forms/`, or from a REDCap data dictionary or form file uploaded here."""

from __future__ import annotations

import base64
import binascii
import io
import zlib
from collections.abc import Callable
from functools import update_wrapper
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from registry.formengine.compare import compare_versions
from registry.people.access import can_curate
from registry.people.admin_roles import CurationAdmin

from .models import FormDefinition, FormVersion
from .publishing import pending_publication
from .selectors import schema_of
from .services import FormSyncError, do_sync_forms, read_form_files
from .uploads import (
    MAX_UPLOAD_BYTES,
    PublishedMeanwhile,
    Upload,
    UploadNote,
    UploadPlan,
    UploadRefused,
    do_publish_upload,
    plan_upload,
    read_upload,
)

FORMS_ROOT = Path(settings.BASE_DIR) / "forms"


@admin.register(FormDefinition)
class FormDefinitionAdmin(CurationAdmin):
    list_display = ("name", "title", "repeatable", "version_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormDefinition]:
        return super().get_queryset(request).annotate(n_versions=Count("versions"))

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, form: FormDefinition) -> int:
        return form.n_versions  # type: ignore[attr-defined]


@admin.register(FormVersion)
class FormVersionAdmin(CurationAdmin):
    list_display = ("form", "number", "published_at", "published_by", "submission_count")
    list_filter = ("form",)
    change_list_template = "admin/crfs/formversion/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormVersion]:
        return (
            super()
            .get_queryset(request)
            .select_related("form", "published_by")
            .annotate(n_submissions=Count("submissions"))
        )

    @admin.display(description="submissions", ordering="n_submissions")
    def submission_count(self, version: FormVersion) -> int:
        return version.n_submissions  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view

        # The upload's size is bounded as it is read, which must be decided before anything
        # reads the body, the CSRF check included: the view checks the token itself after.
        @csrf_exempt
        def upload(request: HttpRequest) -> HttpResponse:
            return self.upload_view(request)

        return [
            path("publish/", view(self.publish_view), name="crfs_formversion_publish"),
            path("upload/", self._curators_only(upload), name="crfs_formversion_upload"),
            path(
                "upload/review/",
                self._curators_only(self.review_upload_view),
                name="crfs_formversion_upload_review",
            ),
            *super().get_urls(),
        ]

    def _curators_only(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        # The admin site sends anyone it does not open for to its login page; a signed-in
        # coordinator or researcher asking to publish is refused outright instead.
        admin_view = self.admin_site.admin_view(view)

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and not can_curate(request.user):
                raise PermissionDenied("Only curators and administrators publish form versions.")
            return admin_view(request, *args, **kwargs)

        return update_wrapper(inner, admin_view)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        version = get_object_or_404(FormVersion.objects.select_related("form"), pk=object_id)
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        others = list(version.form.versions.exclude(pk=version.pk).order_by("number"))
        against_pk = request.GET.get("against")
        against = next((v for v in others if str(v.pk) == against_pk), None)
        if against is None:
            against = next((v for v in reversed(others) if v.number < version.number), None)
        diff = None
        if against is not None:
            older, newer = sorted([against, version], key=lambda v: v.number)
            diff = compare_versions(schema_of(older), schema_of(newer))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(version),
            "version": version,
            "schema": schema_of(version),
            "others": others,
            "against": against,
            "diff": diff,
            "submission_count": version.submissions.count(),
        }
        return TemplateResponse(request, "admin/crfs/formversion/detail.html", context)

    def publish_view(self, request: HttpRequest) -> HttpResponse:
        if not can_curate(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            files = read_form_files(FORMS_ROOT)
            plan = pending_publication(files)
            problems = plan.problems
        except FormSyncError as error:
            files, plan, problems = [], None, error.problems
        if request.method == "POST" and plan is not None and not problems:
            if request.POST.get("confirm") != "yes":
                messages.error(request, "Tick the box to confirm that you checked the changes.")
            else:
                try:
                    report = do_sync_forms(request.user, files)
                except FormSyncError as error:
                    problems = error.problems
                else:
                    if report.published:
                        messages.success(request, f"Published {', '.join(report.published)}.")
                    else:
                        messages.info(request, "Nothing was published: every form is up to date.")
                    return HttpResponseRedirect(reverse("admin:crfs_formversion_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Publish new form versions",
            "plan": plan,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/crfs/formversion/publish.html", context)

    # ----------------------------------------------------------------------------------------
    # Publishing from an uploaded file: upload, review (report and changes), publish or cancel

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        handler = BoundedUploadHandler(request, MAX_UPLOAD_BYTES)
        if request.method == "POST":
            request.upload_handlers = [handler]
        return csrf_protect(self._upload)(request, handler)

    def _upload(self, request: HttpRequest, handler: BoundedUploadHandler) -> HttpResponse:
        problems: list[UploadNote] = []
        plan: UploadPlan | None = None
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if handler.too_big:
                problems.append(
                    UploadNote(
                        "file",
                        (f"the file is larger than {MAX_UPLOAD_BYTES:,} bytes; nothing was read."),
                    )
                )
            elif form.is_valid():
                uploaded = form.cleaned_data["file"]
                try:
                    upload = read_upload(
                        uploaded.name, uploaded.read(), repeatable=[form.cleaned_data["repeatable"]]
                    )
                except UploadRefused as error:
                    problems.extend(error.problems)
                else:
                    plan = plan_upload(upload)
                    if plan.publishable:
                        _keep_upload(request, plan)
                        return self._review_page(request, plan)
                    _forget_upload(request)
        else:
            form = UploadForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Publish from a data dictionary or form file",
            "form": form,
            "problems": problems or (plan.problems if plan else []),
            "plan": plan,
            "upload_name": plan.upload.name if plan else "the file",
            "nothing_to_publish": plan is not None and not plan.problems and not plan.pending,
            "shown_notes": plan.notes[:SHOWN_NOTES] if plan else [],
            "more_notes": max(0, len(plan.notes) - SHOWN_NOTES) if plan else 0,
            "unchanged": plan.unchanged if plan else [],
            "max_bytes": MAX_UPLOAD_BYTES,
        }
        refused = problems or form.errors or (plan is not None and plan.problems)
        status = 400 if request.method == "POST" and refused else 200
        return TemplateResponse(
            request, "admin/crfs/formversion/upload.html", context, status=status
        )

    def review_upload_view(self, request: HttpRequest) -> HttpResponse:
        kept = _kept_upload(request)
        if kept is None:
            messages.warning(request, "No uploaded file is waiting to be published: upload one.")
            return HttpResponseRedirect(reverse("admin:crfs_formversion_upload"))
        upload, expected_latest = kept
        if request.method != "POST":
            return self._review_page(request, plan_upload(upload), expected_latest)
        if request.POST.get("action") == "cancel":
            _forget_upload(request)
            messages.info(request, f"Nothing was published from {upload.name}.")
            return HttpResponseRedirect(reverse("admin:crfs_formversion_changelist"))
        if request.POST.get("upload") != upload.digest:
            messages.error(
                request,
                (
                    "That page showed another upload than the one waiting now (a file was uploaded "
                    "since, perhaps in another tab): check this one."
                ),
            )
            return HttpResponseRedirect(reverse("admin:crfs_formversion_upload_review"))
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm that you checked the changes.")
            return self._review_page(request, plan_upload(upload), expected_latest)
        try:
            report = do_publish_upload(request.user, upload, expected_latest=expected_latest)
        except PublishedMeanwhile as error:
            _forget_upload(request)
            for problem in error.problems:
                messages.error(request, problem)
            return HttpResponseRedirect(reverse("admin:crfs_formversion_upload"))
        except FormSyncError as error:
            plan = plan_upload(upload)
            plan.problems.extend(UploadNote("", problem) for problem in error.problems)
            return self._review_page(request, plan, expected_latest)
        _forget_upload(request)
        if report.published:
            messages.success(
                request, f"Published {', '.join(report.published)} from {upload.name}."
            )
        else:
            messages.info(
                request,
                f"Nothing was published from {upload.name}: every form in it is up to date.",
            )
        return HttpResponseRedirect(reverse("admin:crfs_formversion_changelist"))

    def _review_page(
        self, request: HttpRequest, plan: UploadPlan, expected_latest: dict[str, int] | None = None
    ) -> HttpResponse:
        if expected_latest is not None and plan.latest != expected_latest:
            moved = sorted(
                name for name in plan.latest if plan.latest[name] != expected_latest.get(name)
            )
            plan.problems.extend(
                UploadNote(
                    name,
                    (
                        f"version {plan.latest[name]} was published since you uploaded the file; "
                        "cancel and upload it again to compare with that version."
                    ),
                )
                for name in moved
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Publish from {plan.upload.name}",
            "plan": plan,
            "upload": plan.upload,
            "problems": plan.problems,
            "upload_name": plan.upload.name,
            "shown_notes": plan.notes[:SHOWN_NOTES],
            "more_notes": max(0, len(plan.notes) - SHOWN_NOTES),
            "unchanged": plan.unchanged,
        }
        return TemplateResponse(
            request,
            "admin/crfs/formversion/upload_review.html",
            context,
            status=400 if plan.problems else 200,
        )


# The registry's changes to a large dictionary can run to thousands of cells; the page lists
# this many and counts the rest.
SHOWN_NOTES = 500
_SESSION_KEY = "crfs_upload"


class UploadForm(forms.Form):
    repeatable = forms.CharField(
        required=False,
        max_length=2000,
        label="Repeating instruments",
        help_text="For a dictionary: the names of new instruments that are filled more than once "
        "per patient (a dictionary does not say), separated by commas. Forms already "
        "published keep their repeatability.",
    )
    # Last in the form, so that the fields above are read before a too-large file stops the
    # reading of the body.
    file = forms.FileField(
        label="File",
        help_text="A REDCap data dictionary (.csv, UTF-8) or one form's YAML "
        "(.yaml), as in forms/<form>/v<N>.yaml.",
    )


class BoundedUploadHandler(FileUploadHandler):
    """Keeps uploaded files in memory up to `limit` bytes in all, and stops reading beyond it,
    so that a huge upload is refused without filling memory or disk."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_big = False
        self.buffer = io.BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_big = True
            # Not a connection reset: the rest of the body is read and dropped, and the page
            # can say what happened.
            raise StopUpload(connection_reset=False)
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )


# The upload waits in the session (server side, never in the page) between the review and the
# confirmation, compressed, with its SHA-256: the confirmation names the hash it was shown, so
# a second upload in another tab cannot be published by the first tab's button, and the
# text is checked again against its hash when it is read back.


def _keep_upload(request: HttpRequest, plan: UploadPlan) -> None:
    upload = plan.upload
    request.session[_SESSION_KEY] = {
        "name": upload.name,
        "kind": upload.kind,
        "repeatable": list(upload.repeatable),
        "text": base64.b64encode(zlib.compress(upload.text.encode("utf-8"))).decode("ascii"),
        "sha256": upload.digest,
        "latest": plan.latest,
    }


def _kept_upload(request: HttpRequest) -> tuple[Upload, dict[str, int]] | None:
    kept = request.session.get(_SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    try:
        text = zlib.decompress(base64.b64decode(kept["text"])).decode("utf-8")
        upload = Upload(kept["name"], kept["kind"], text, tuple(kept["repeatable"]))
        latest = {str(name): int(number) for name, number in kept["latest"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, zlib.error, binascii.Error):
        _forget_upload(request)
        return None
    if upload.digest != kept["sha256"]:
        _forget_upload(request)
        return None
    return upload, latest


def _forget_upload(request: HttpRequest) -> None:
    request.session.pop(_SESSION_KEY, None)
