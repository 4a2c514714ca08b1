"""A NUL character is refused with a plain 400 wherever it is sent, never a server error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/quality/issues/?rule=%00",
        "/?q=a%00b",
        "/api/v1/submissions/?form=%00",
    ],
)
def test_nul_in_a_query_string_is_a_clear_400(client, curator, url):
    client.force_login(curator)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_nul_in_a_json_body_is_a_clear_400(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(
        "/api/v1/patients/", '{"local_id": "A\\u0000B"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_ordinary_requests_pass(client, curator):
    client.force_login(curator)
    assert client.get("/api/v1/quality/issues/?rule=outlier").status_code == 200


def test_nul_in_a_rest_api_request_is_a_json_400(client, curator):
    client.force_login(curator)
    response = client.get("/api/v1/quality/issues/?rule=%00")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "NUL character" in response.json()["detail"]


def test_nul_elsewhere_is_a_plain_text_400(client, curator):
    client.force_login(curator)
    response = client.get("/?q=a%00b")
    assert response["Content-Type"].startswith("text/plain")
