"""Pages for site coordinators (and curators reading along): thin views over services and
selectors. Anything outside a person's sites is "not found", whichever URL is guessed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from registry.audit.reads import do_record_list_view, do_record_view
from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.selectors import latest_version, schema_of
from registry.curation.models import QueryStatus
from registry.curation.selectors import visible_data_queries
from registry.curation.services import do_answer_data_query
from registry.formengine.display import display_value
from registry.formengine.hpo import MAX_QUERY_LENGTH, hpo_release
from registry.patients.models import Patient
from registry.patients.selectors import find_by_local_id, local_id_sites, visible_patients
from registry.patients.services import do_enrol_patient
from registry.people.access import can_enter_data
from registry.people.services import do_set_password
from registry.submissions.models import Status, Submission
from registry.submissions.selectors import (
    exhausted_choices,
    other_form_answers,
    submission_at,
    visible_submissions,
)
from registry.submissions.services import StaleSubmission, SubmissionLocked, do_save_submission

from . import data_entry
from .forms import AnswerForm, EnrolForm, FindPatientForm
from .selectors import (
    STATUS_FILTERS,
    open_queries_of,
    patient_forms,
    record_status_dashboard,
    sees_records,
)
from .working_site import remember_site, sites_to_choose_from, working_site

View = Callable[..., HttpResponse]


def record_pages(view: View) -> View:
    """Signed-in people who work with records; researchers are told where their data is."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sees_records(request.user):
            return render(request, "web/records_elsewhere.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/refused.html", {"message": message}, status=403)


# --------------------------------------------------------------------------------------------
# Site home: the record status dashboard


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not sees_records(request.user):
        return render(request, "web/records_elsewhere.html")
    sites = sites_to_choose_from(request.user)
    site = working_site(request, sites)
    if site is None:
        return render(request, "web/choose_site.html", {"sites": sites})
    status = request.GET.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    search = request.GET.get("q", "").strip()[:40]
    dashboard = record_status_dashboard(
        request.user, site, search=search, status=status, page_number=request.GET.get("page")
    )
    do_record_list_view(
        request.user,
        "patient.view",
        [row.patient for row in dashboard.rows],
        page=request.path,
        params=request.GET,
        site=site,
    )
    can_enrol = can_enter_data(request.user, site)
    return render(
        request,
        "web/dashboard.html",
        {
            "dashboard": dashboard,
            "sites": sites,
            "site": site,
            "search": search,
            "status": status,
            "status_filters": STATUS_FILTERS,
            "can_enrol": can_enrol,
            # Those who enrol at this site are those who may look patients up by number.
            "find_form": FindPatientForm() if can_enrol else None,
        },
    )


@record_pages
@require_http_methods(["GET", "POST"])
def choose_site(request: HttpRequest) -> HttpResponse:
    sites = sites_to_choose_from(request.user)
    if request.method == "GET":
        return render(request, "web/choose_site.html", {"sites": sites})
    code = request.POST.get("site", "")
    site = next((site for site in sites if site.code == code), None)
    if site is None:
        raise Http404("No such site among yours.")
    remember_site(request, site)
    messages.success(request, f"You are now working in {site.code} ({site.name}).")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("web:dashboard")
    return redirect(target)


# --------------------------------------------------------------------------------------------
# Enrolment and the patient page


@record_pages
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    site = working_site(request)
    if site is None:
        messages.info(request, "Choose the site you are working in first.")
        return redirect("web:dashboard")
    if not can_enter_data(request.user, site):
        return _refused(request, f"Only the coordinators of {site.code} enrol its patients.")
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = do_enrol_patient(
                request.user,
                site,
                local_id=form.cleaned_data["local_id"],
                sex=form.cleaned_data["sex"],
                year_of_birth=form.cleaned_data["year_of_birth"],
            )
        except ValidationError as error:
            form.attach_errors(error)
        else:
            pseudonym = enrolment.patient.pseudonym
            if enrolment.created:
                messages.success(
                    request,
                    f"Patient enrolled at {site.code} with the registry "
                    f"code {pseudonym}. Fill the Enrolment form next.",
                )
            else:
                messages.info(
                    request,
                    f"This patient is already enrolled, with the registry "
                    f"code {pseudonym}. Their record is opened; nothing new "
                    "was created.",
                )
            return redirect("web:patient", pseudonym=pseudonym)
    return render(request, "web/enrol.html", {"form": form, "site": site})


NOT_FOUND_BY_LOCAL_ID = "No patient with that hospital number at your sites."


def _see_other(url: str) -> HttpResponse:
    # 303: the browser follows with a GET, so a reload or Back never sends the number again.
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@record_pages
@require_POST
def find_patient(request: HttpRequest) -> HttpResponse:
    """A patient looked up by hospital number, at the sites where one enters data.

    POST only: in a GET the number would sit in the address, the server's access log and the
    browser's history. It is hashed as enrolment hashes it and goes no further: not into the
    answer, the audit trail, the session or a log line."""
    if not local_id_sites(request.user):
        return _refused(
            request,
            "Only a site's coordinators look its patients up by hospital number; "
            "everyone else finds patients by their registry code.",
        )
    form = FindPatientForm(request.POST)
    if not form.is_valid():
        return render(request, "web/find_patient.html", {"form": form}, status=400)
    found = find_by_local_id(request.user, form.cleaned_data["local_id"])
    do_record_list_view(
        request.user,
        "patient.find",
        found,
        page=request.path,
        params={},
        site=found[0].site if len(found) == 1 else None,
    )
    if not found:
        messages.info(request, NOT_FOUND_BY_LOCAL_ID)
        return _see_other(reverse("web:dashboard"))
    if len(found) == 1:
        return _see_other(reverse("web:patient", args=[found[0].pseudonym]))
    return render(request, "web/find_patient.html", {"form": FindPatientForm(), "found": found})


def _patient_or_404(request: HttpRequest, pseudonym: str) -> Patient:
    return get_object_or_404(visible_patients(request.user), pseudonym=pseudonym)


@record_pages
def patient(request: HttpRequest, pseudonym: str) -> HttpResponse:
    record = _patient_or_404(request, pseudonym)
    overview = patient_forms(request.user, record)
    submissions = [s for item in overview for s in item.submissions]
    counts = open_queries_of(request.user, submissions)
    for s in submissions:
        s.open_queries = counts.get(s.pk, 0)  # type: ignore[attr-defined]
    do_record_view(request.user, "patient.view", record, page=request.path, site=record.site)
    return render(
        request,
        "web/patient.html",
        {
            "patient": record,
            "overview": overview,
            "can_enter": can_enter_data(request.user, record.site),
        },
    )


# --------------------------------------------------------------------------------------------
# Data entry


class EntryTarget:
    """What one data-entry page is about: a patient's form, on one version, new or existing."""

    def __init__(
        self,
        request: HttpRequest,
        patient: Patient,
        form: FormDefinition,
        version: FormVersion,
        submission: Submission | None,
        instance: int | None,
    ) -> None:
        self.request = request
        self.patient = patient
        self.form = form
        self.version = version
        self.schema = schema_of(version)
        self.submission = submission
        self.instance = instance
        self.latest = latest_version(form)
        self.can_enter = can_enter_data(request.user, patient.site)

    @property
    def read_only(self) -> bool:
        return not self.can_enter or (self.submission is not None and self.submission.locked)

    @property
    def url(self) -> str:
        if self.instance is None:
            url = reverse("web:new_instance", args=[self.patient.pseudonym, self.form.name])
            return url if self.version == self.latest else f"{url}?version={self.version.number}"
        return reverse(
            "web:submission", args=[self.patient.pseudonym, self.form.name, self.instance]
        )


def _entry_page(
    target: EntryTarget,
    form: data_entry.SubmissionForm,
    *,
    status: int = 200,
    conflict: list[dict[str, str]] | None = None,
    notice: str = "",
    client_uuid: str = "",
    locked_race: bool = False,
) -> HttpResponse:
    submission = target.submission
    queries = []
    if submission is not None:
        # Whichever way the page is shown (opened, refused as stale or locked, sent back with
        # errors) it shows the stored submission; a blank new form shows no record.
        do_record_view(
            target.request.user,
            "submission.view",
            submission,
            page=target.request.path,
            site=target.patient.site,
        )
        queries = list(
            visible_data_queries(target.request.user)
            .filter(submission=submission)
            .exclude(status=QueryStatus.CLOSED)
        )
    labels = {f.name: data_entry.plain_label(f) for f in target.schema.fields}
    other_answers = other_form_answers(target.request.user, target.patient, target.schema)
    other_values = {answer.field.name: answer.value for answer in other_answers}
    today = timezone.localdate()
    # The answers the page opens with decide which sections it shows: those sent back unsaved,
    # or those stored (a new form: its defaults).
    answers = (
        data_entry.posted_data(target.schema, form.data, submission.data if submission else None)
        if form.is_bound
        else dict(form.initial)
    )
    older_versions: list[int] = []
    if target.instance is None and target.version == target.latest:
        older_versions = list(
            target.form.versions.filter(number__lt=target.latest.number)
            .order_by("number")
            .values_list("number", flat=True)
        )
    return render(
        target.request,
        "web/submission.html",
        {
            "target": target,
            "patient": target.patient,
            "form_def": target.form,
            "version": target.version,
            "latest": target.latest,
            "schema": target.schema,
            "submission": submission,
            "form": form,
            "helper": data_entry.entry_helper(
                target.schema,
                submission.data if submission else None,
                data_entry.hidden_by_logic(target.schema, answers, today, other_values),
            ),
            "logic": data_entry.logic_config(target.schema, today, other_values),
            "other_answers": [
                (
                    answer.form_title,
                    data_entry.plain_label(answer.field),
                    display_value(answer.field, answer.value),
                )
                for answer in other_answers
            ],
            "read_only": target.read_only,
            "row_version": submission.row_version if submission else 0,
            "client_uuid": client_uuid or str(uuid.uuid4()),
            "statuses": Status.choices,
            "chosen_status": _chosen_status(target, form),
            "conflict": conflict,
            "locked_race": locked_race,
            "notice": notice,
            "queries": [(query, labels.get(query.field, query.field)) for query in queries],
            "older_versions": older_versions,
        },
        status=status,
    )


def _chosen_status(target: EntryTarget, form: data_entry.SubmissionForm) -> str:
    """The status the save bar shows: on a page sent back unsaved, the one the person chose,
    so that correcting an answer and saving again does not quietly save another status."""
    if form.is_bound:
        posted = target.request.POST.get(data_entry.STATUS, "")
        if posted in Status.values:
            return posted
    if target.submission is not None:
        return target.submission.status
    return Status.INCOMPLETE


def _show(target: EntryTarget, *, status: int = 200) -> HttpResponse:
    data = target.submission.data if target.submission else {}
    form = data_entry.submission_form(
        target.schema,
        initial=data_entry.initial_data(target.schema, data, new=target.submission is None),
        read_only=target.read_only,
        saved=data if target.submission else None,
        exhausted=_exhausted(target),
    )
    return _entry_page(target, form, status=status)


def _exhausted(target: EntryTarget) -> dict[str, frozenset[str]]:
    """The choices @MAXCHOICE no longer offers this patient."""
    return exhausted_choices(target.request.user, target.patient, target.form, target.schema)


def _posted_form(target: EntryTarget) -> data_entry.SubmissionForm:
    return data_entry.submission_form(
        target.schema,
        data=target.request.POST,
        saved=target.submission.data if target.submission else None,
        exhausted=_exhausted(target),
    )


def _differences(target: EntryTarget, current: Submission) -> list[dict[str, str]]:
    """Fields where what the other person saved differs from what this person typed."""
    posted = data_entry.posted_data(target.schema, target.request.POST)
    saved = data_entry.initial_data(target.schema, current.data)
    rows = []
    for f in data_entry.entry_fields(target.schema):
        if f.type in ("calc", "file", "descriptive"):
            continue
        mine = posted.get(f.name, [] if f.type == "checkbox" else "")
        mine = [str(code) for code in mine] if isinstance(mine, list) else str(mine).strip()
        theirs = saved.get(f.name, [] if f.type == "checkbox" else "")
        if mine != theirs:
            rows.append(
                {
                    "name": f.name,
                    "label": data_entry.plain_label(f),
                    "theirs": display_value(f, current.data.get(f.name)) or "(blank)",
                    "mine": display_value(f, mine) or "(blank)",
                }
            )
    return rows


def _row_version(request: HttpRequest) -> int:
    # A missing or garbled row version can only mean the page is not one we served; treating
    # it as 0 makes the save a conflict rather than a blind overwrite.
    try:
        return int(request.POST.get(data_entry.ROW_VERSION, "0"))
    except ValueError:
        return 0


def _save(target: EntryTarget) -> HttpResponse:
    request = target.request
    if not target.can_enter:
        return _refused(
            request,
            f"Only the coordinators of {target.patient.site.code} enter "
            "data for its patients; curators read forms here.",
        )
    posted_uuid = request.POST.get(data_entry.CLIENT_UUID, "")
    try:
        client_uuid = uuid.UUID(posted_uuid) if target.instance is None else None
    except ValueError:
        client_uuid = None
    try:
        outcome = do_save_submission(
            request.user,
            target.patient,
            target.version,
            data_entry.posted_data(
                target.schema, request.POST, target.submission.data if target.submission else None
            ),
            status=request.POST.get(data_entry.STATUS, ""),
            instance=target.instance,
            expected_row_version=None if target.instance is None else _row_version(request),
            client_uuid=client_uuid,
            clear_hidden=True,
        )
    except ValidationError as error:
        form = _posted_form(target)
        form.attach_errors(error.message_dict)
        return _entry_page(
            target,
            form,
            client_uuid=posted_uuid,
            notice="Nothing was saved. Correct the answers marked below, then save again.",
        )
    except StaleSubmission:
        current = submission_at(request.user, target.patient, target.form, target.instance)
        form = _posted_form(target)
        form.no_errors()
        return _entry_page(target, form, status=409, conflict=_differences(target, current))
    except SubmissionLocked:
        # What was typed stays on the page, beside what the curator locked, as for a stale
        # save; read-only, since a locked form takes no changes.
        current = submission_at(request.user, target.patient, target.form, target.instance)
        typed = data_entry.posted_data(target.schema, request.POST, current.data)
        differences = _differences(target, current)
        target.submission = current
        form = data_entry.submission_form(
            target.schema,
            initial=typed,
            read_only=True,
            saved=current.data,
            exhausted=_exhausted(target),
        )
        return _entry_page(target, form, status=409, conflict=differences, locked_race=True)
    submission = outcome.submission
    messages.success(
        request,
        f"Saved {target.form.title} #{submission.instance}. "
        f"Status: {submission.get_status_display()}.",
    )
    if outcome.missing:
        # As REDCap's required-field alert: the draft is saved, and says what it still needs.
        labels = [data_entry.plain_label(target.schema.field(name)) for name in outcome.missing]
        messages.warning(
            request,
            "Still unanswered, and needed before this form can be saved "
            f"as complete: {'; '.join(labels)}.",
        )
    if outcome.cleared_hidden:
        labels = [
            data_entry.plain_label(target.schema.field(name)) for name in outcome.cleared_hidden
        ]
        messages.warning(
            request,
            "These answers were removed because, given the other "
            f"answers, their questions are not asked: {'; '.join(labels)}.",
        )
    return redirect(
        "web:submission",
        pseudonym=target.patient.pseudonym,
        form=target.form.name,
        instance=submission.instance,
    )


def _form_or_404(name: str) -> FormDefinition:
    return get_object_or_404(FormDefinition, name=name)


@record_pages
@require_http_methods(["GET", "POST"])
def submission(request: HttpRequest, pseudonym: str, form: str, instance: int) -> HttpResponse:
    record = _patient_or_404(request, pseudonym)
    definition = _form_or_404(form)
    existing = (
        visible_submissions(request.user)
        .filter(patient=record, form=definition, instance=instance)
        .first()
    )
    if existing is None and instance != 1:
        raise Http404("No such instance of this form for this patient.")
    # A submission opens on the version it was filled on; a new one on the newest version.
    version = existing.form_version if existing else latest_version(definition)
    target = EntryTarget(request, record, definition, version, existing, instance)
    return _save(target) if request.method == "POST" else _show(target)


@record_pages
@require_http_methods(["GET", "POST"])
def new_instance(request: HttpRequest, pseudonym: str, form: str) -> HttpResponse:
    record = _patient_or_404(request, pseudonym)
    definition = _form_or_404(form)
    if not definition.repeatable:
        return redirect("web:submission", pseudonym=pseudonym, form=form, instance=1)
    # An older version is offered for transcribing paper forms printed from it.
    wanted = request.POST.get(data_entry.VERSION) or request.GET.get("version")
    if wanted:
        if not str(wanted).isdigit():
            raise Http404("No such version of this form.")
        version = get_object_or_404(FormVersion, form=definition, number=int(wanted))
    else:
        version = latest_version(definition)
    target = EntryTarget(request, record, definition, version, None, None)
    return _save(target) if request.method == "POST" else _show(target)


# --------------------------------------------------------------------------------------------
# Data queries


QUERY_FILTERS = {
    QueryStatus.OPEN: "Waiting for your answer",
    QueryStatus.ANSWERED: "Answered, waiting for a curator",
    QueryStatus.CLOSED: "Closed",
    "all": "All",
}


@record_pages
def queries(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("status", QueryStatus.OPEN)
    state = state if state in QUERY_FILTERS else QueryStatus.OPEN
    found = visible_data_queries(request.user).prefetch_related("messages")
    if state != "all":
        found = found.filter(status=state)
    page = Paginator(found.order_by("-updated_at", "-pk"), 50).get_page(request.GET.get("page"))
    rows = []
    for query in page.object_list:
        schema = schema_of(query.submission.form_version)
        thread = list(query.messages.all())
        rows.append(
            {
                "query": query,
                "field_label": (
                    data_entry.plain_label(schema.field(query.field))
                    if query.field in schema
                    else query.field
                ),
                "last": thread[-1] if thread else None,
            }
        )
    do_record_list_view(
        request.user,
        "data_query.view",
        [row["query"] for row in rows],
        page=request.path,
        params=request.GET,
    )
    return render(
        request,
        "web/queries.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "filters": QUERY_FILTERS,
        },
    )


@record_pages
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest, query_id: int) -> HttpResponse:
    found = get_object_or_404(visible_data_queries(request.user), pk=query_id)
    submission = found.submission
    may_answer = (
        can_enter_data(request.user, submission.patient.site) and found.status != QueryStatus.CLOSED
    )
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if not may_answer:
            return _refused(
                request,
                "Only the site's coordinators answer data queries, and "
                "only while they are not closed.",
            )
        if form.is_valid():
            try:
                do_answer_data_query(request.user, found, form.cleaned_data["text"])
            except ValidationError as error:
                form.attach_errors(error)
            except PermissionDenied:
                return _refused(request, "Only the site's coordinators answer data queries.")
            else:
                messages.success(request, "Your answer was sent to the curators.")
                return redirect("web:query", query_id=found.pk)
    do_record_view(
        request.user, "data_query.view", found, page=request.path, site=submission.patient.site
    )
    schema = schema_of(submission.form_version)
    field = schema.field(found.field) if found.field in schema else None
    return render(
        request,
        "web/query.html",
        {
            "query": found,
            "submission": submission,
            "thread": found.messages.all(),
            "field_label": data_entry.plain_label(field) if field else found.field,
            "current_value": (
                display_value(field, submission.data.get(field.name)) if field else ""
            ),
            "form_url": reverse(
                "web:submission",
                args=[submission.patient.pseudonym, submission.form.name, submission.instance],
            )
            + f"#field-{found.field}",
            "form": form,
            "may_answer": may_answer,
        },
    )


# --------------------------------------------------------------------------------------------
# Account and health


class PasswordChange(PasswordChangeView):
    template_name = "registration/password_change_form.html"

    def form_valid(self, form: BaseForm) -> HttpResponse:
        do_set_password(
            self.request.user,
            form.user,  # type: ignore[attr-defined]
            form.cleaned_data["new_password1"],
        )
        update_session_auth_hash(self.request, form.user)  # type: ignore[attr-defined]
        return redirect(self.get_success_url())


def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and the container health check: answers only if the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET"])
def hpo_terms(request: HttpRequest) -> JsonResponse:
    """HPO terms for a BIOPORTAL:HP field's suggestions, from the release the registry holds
    (offline); signed-in people only."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Sign in to look up HPO terms."}, status=403)
    query = request.GET.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        return JsonResponse(
            {
                "error": f"q has {len(query):,} characters; a search takes at "
                f"most {MAX_QUERY_LENGTH}."
            },
            status=400,
        )
    release = hpo_release()
    return JsonResponse(
        {
            "release": release.version,
            "terms": [{"id": term.id, "name": term.name} for term in release.search(query)],
        }
    )
