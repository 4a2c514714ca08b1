"""Sites and forms: what a script reads before it reads records."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_forms_list_their_versions(client_for, researcher, registry_forms):
    forms = client_for(researcher).get("/api/v1/forms/").json()["results"]
    mm = next(form for form in forms if form["name"] == "mirror_movements")
    assert mm["repeatable"] is True and mm["latest_version"] == 2
    assert [v["number"] for v in mm["versions"]] == [1, 2]


def test_a_version_carries_its_full_schema(client_for, researcher, registry_forms):
    client = client_for(researcher)
    version = client.get("/api/v1/forms/mirror_movements/versions/2/").json()
    names = [field["name"] for field in version["schema"]["fields"]]
    assert "wt_grade_left_task" in names and version["content_hash"]
    assert client.get("/api/v1/forms/mirror_movements/versions/9/").status_code == 404
    listed = client.get("/api/v1/forms/mirror_movements/versions/").json()["results"]
    assert [v["number"] for v in listed] == [1, 2]


def test_sites_show_as_data_access_groups(client_for, curator, site_a, site_b):
    sites = client_for(curator).get("/api/v1/sites/").json()["results"]
    assert sites == [
        {"code": "SITEA", "name": "Hospital A", "data_access_group": "sitea"},
        {"code": "SITEB", "name": "Hospital B", "data_access_group": "siteb"},
    ]


def test_a_nul_character_in_a_path_is_refused_plainly(client_for, researcher, registry_forms):
    client = client_for(researcher)
    for url in ("/api/v1/forms/a%00b/", "/api/v1/patients/a%00b/", "/api/v1/sites/a%00b/"):
        response = client.get(url)
        assert response.status_code == 400 and b"NUL character" in response.content
