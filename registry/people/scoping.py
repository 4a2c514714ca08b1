"""The scope every query of patient data runs in: a guard that does not rely on memory.

Selectors filter by `sites_in_scope(user)`; this module makes the same rule hold for a query
that forgot to. A context variable holds the active scope, and the managers of the models that
carry patient data (`ScopedManager`) read it on every query:

- within a request (`ScopeMiddleware`), the scope is the person making it, read when the query
  runs, so that the REST API's token (authenticated inside the view) counts as well as the
  session: a coordinator's queries only ever see rows of their own sites, an anonymous caller's
  none, and everyone who sees all sites (curators, researchers, admins) every row;
- `scoped_to(user)` gives the same scope outside a request (a job run on someone's behalf);
- `unscoped(reason)` sees every site, for work that is no one's request: jobs, management
  commands, the tests' own set-up;
- with no scope at all, a query of patient data raises `ScopeError` when it runs, instead of
  guessing (building one, as libraries do while modules load, is harmless).

The filter goes through subqueries of memberships and patients, never a join, so that a
`select_for_update()` still locks only the rows it names. Writes are not filtered (an enrolment
creates a row the scope then shows); the services check the right to write. Django's base
manager stays unscoped, as django-scopes leaves it: a submission's `patient`, deletion, saving
and `refresh_from_db` go through it, and migrations' historical models have plain managers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from django.db import models
from django.db.models import BooleanField, Expression, Q
from django.http import FileResponse, StreamingHttpResponse

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from .models import User


class ScopeError(RuntimeError):
    """A query of patient data ran with no scope: no request, job or command declared whose
    records it may read."""


@dataclass(frozen=True)
class Scope:
    """Whose records the queries of this context may read.

    `person` gives the user when a query runs (None: no one, so no rows); `reason` names an
    unscoped context (every site) for whoever reads a traceback.
    """

    person: Callable[[], Any] | None = None
    reason: str = ""


_active: ContextVar[Scope | None] = ContextVar("registry_scope", default=None)


@contextmanager
def _activate(scope: Scope) -> Iterator[None]:
    token = _active.set(scope)
    try:
        yield
    finally:
        _active.reset(token)


def unscoped(reason: str) -> Any:
    """Every site, for work that is no person's request (say which in `reason`). A context
    manager, or a decorator."""
    if not reason:
        raise ValueError("Say why these queries may read every site.")
    return _activate(Scope(reason=reason))


def scoped_to(user: User | None) -> Any:
    """The sites `user` may read, as within their request (no one's: no rows)."""
    return _activate(Scope(person=lambda: user))


NO_SITE = Q(pk__in=[])


def site_filter(user: Any) -> Q | None:
    """The rows of the sites `user` may read, as a filter on site ids (`NO_SITE` for none);
    None for all sites. The same rule as `access.sites_in_scope`, without a query of its own."""
    # Imported here: the models of other apps import this module while models still load.
    from .models import SiteMembership

    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SITE
    if user.sees_all_sites:
        return None
    return Q(site_id__in=SiteMembership.objects.filter(user_id=user.pk).values("site_id"))


def _through(model: type[models.Model], site_path: str, sites: Q) -> Q:
    """`sites` (a filter on a model with a `site`) applied along `site_path` ("patient__site"
    from Submission), one subquery per step instead of a join."""
    first, _, rest = site_path.partition("__")
    if not rest:
        return sites
    related = cast("type[models.Model]", model._meta.get_field(first).related_model)
    inner = related._base_manager.filter(_through(related, rest, sites)).values("pk")
    return Q(**{f"{first}_id__in": inner})


class _NoScope(Expression):
    """A condition that refuses to become SQL: the query it is in ran outside any scope."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, model_name: str) -> None:
        super().__init__()
        self.model_name = model_name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        raise ScopeError(
            f"{self.model_name} was queried outside any scope. A request has its person's "
            "scope; a job, command or test must say whose records it reads "
            "(registry.people.scoping: scoped_to(user) or unscoped(reason))."
        )


_M = TypeVar("_M", bound=models.Model)


class ScopedManager(models.Manager[_M], Generic[_M]):
    """The default manager of a model of patient data: its rows as the active scope allows.

    `site_path` leads from the model to its site ("site", "patient__site", ...).
    """

    def __init__(self, site_path: str = "") -> None:
        super().__init__()
        self._site_path = site_path

    @property
    def site_path(self) -> str:
        # A related manager (`submission.queries`) is a subclass made with no arguments: it
        # follows the model's own manager.
        return self._site_path or self.model._default_manager.site_path  # type: ignore[attr-defined]

    def get_queryset(self) -> models.QuerySet[_M]:
        queryset = super().get_queryset()
        scope = _active.get()
        if scope is None:
            # Raised when the query runs, not now: libraries build querysets while modules
            # load (django-filter reads `_default_manager.all().query` for each filter).
            return queryset.filter(_NoScope(self.model.__name__))
        if scope.person is None:
            return queryset
        sites = site_filter(scope.person())
        if sites is None:
            return queryset
        if sites is NO_SITE:
            return queryset.none()
        return queryset.filter(_through(self.model, self.site_path, sites))


class ScopeMiddleware:
    """Every request's queries run in the scope of the person making it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read when a query runs, not now: the API authenticates its token inside the view
        # (Django REST framework sets the user on this request then).
        scope = Scope(person=lambda: getattr(request, "user", None))
        with _activate(scope):
            response = self.get_response(request)
        # A streamed answer (an export) runs its queries after this returns, while the server
        # writes it out: each chunk is made in the request's scope too.
        if (
            isinstance(response, StreamingHttpResponse)
            and not response.is_async
            and not isinstance(response, FileResponse)
        ):
            response.streaming_content = _within(scope, response.streaming_content)
        return response


def _within(scope: Scope, chunks: Iterable[Any]) -> Iterator[Any]:
    iterator = iter(chunks)
    while True:
        token = _active.set(scope)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _active.reset(token)
        yield chunk
