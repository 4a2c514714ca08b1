"""Every answer the registry makes is kept out of caches: `Cache-Control: no-store`.

Record pages, API answers and exports carry patient data, and a hospital's shared computers,
its proxies and the browser's back button must not keep a copy of them. Rather than sort
answers into those that carry patient data and those that do not (and get one wrong), every
answer Django makes is marked: a login page or a redirect is cheap to fetch again. Static files
never come here (WhiteNoise, earlier in MIDDLEWARE, serves them with their long cache).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # max-age=0, no-cache, no-store, must-revalidate, private, and an Expires of now for
        # HTTP/1.0 caches.
        add_never_cache_headers(response)
        return response
