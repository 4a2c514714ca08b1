"""Every list of the API is paginated: `?page=2&page_size=500` (at most 1000 per page).

A page or page size that is not a whole number in range is a 400 naming the parameter, as
every other wrong parameter is; DRF would quietly fall back to the default size, so a script
asking for `page_size=5000` would get 100 rows a page and not know why. A page past the last
one is a 404.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

_DIGITS = re.compile(r"[0-9]+")


def whole_number_parameter(
    request: Request, name: str, *, default: int, most: int | None = None
) -> int:
    """The query parameter `name` as a whole number from 1 (to `most`, if given), or `default`
    when it is absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    number = 0
    if _DIGITS.fullmatch(raw):
        # More digits than any count here reaches are only ever too many (and int() of
        # thousands of digits is refused): cap them.
        digits = raw.lstrip("0") or "0"
        number = int(digits) if len(digits) <= 18 else 10**18
    if number < 1 or (most is not None and number > most):
        allowed = f"from 1 to {most}" if most is not None else "1 or more"
        raise ValidationError(
            {name: [f"{name} must be a whole number {allowed}; you sent {raw[:40]!r}."]}
        )
    return number


class RegistryPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    # Pages are numbered; DRF's `page=last` is not offered (the answer's `count` tells it).
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        return whole_number_parameter(
            request, self.page_size_query_param, default=self.page_size, most=self.max_page_size
        )

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        number = whole_number_parameter(request, self.page_query_param, default=1)
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                f"There is no page {number}: the last page is {paginator.num_pages}."
            ) from None
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1 (past the last page: 404).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page: {self.page_size} unless you say, at most "
                f"{self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
