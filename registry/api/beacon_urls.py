"""The Beacon v2 endpoint, mounted at /api/beacon/v2/ by registry/urls.py.

Beacon clients call the paths without a trailing slash (`/api/beacon/v2/individuals`); each
answers with one too, so that neither form is redirected (a redirected POST loses its body).
"""

from django.urls import URLPattern, path

from . import beacon

_ROUTES = [
    ("info", beacon.BeaconInfo, "beacon-info"),
    ("service-info", beacon.ServiceInfo, "beacon-service-info"),
    ("map", beacon.BeaconMap, "beacon-map"),
    ("configuration", beacon.BeaconConfiguration, "beacon-configuration"),
    ("entry_types", beacon.EntryTypes, "beacon-entry-types"),
    ("filtering_terms", beacon.FilteringTerms, "beacon-filtering-terms"),
    ("individuals", beacon.Individuals, "beacon-individuals"),
]

urlpatterns: list[URLPattern] = [path("", beacon.BeaconInfo.as_view(), name="beacon-root")]
for route, view, name in _ROUTES:
    urlpatterns += [
        path(route, view.as_view(), name=name),
        path(f"{route}/", view.as_view(), name=f"{name}-slash"),
    ]
