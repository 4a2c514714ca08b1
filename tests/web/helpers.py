"""Shared pieces of the web page tests."""

MM_PRESENT = {
    "mm_age_months": "36",
    "mm_present": "1",
    "elicited_by": "both",
    "body_regions": ["distal"],
    "wt_grade_left_task": "2",
}
"""A valid mirror_movements v2 answer set, as a browser posts it."""


def post_form(client, url, data, *, status="incomplete", row_version=0, **extra):
    payload = {"_status": status, "_row_version": str(row_version), **data, **extra}
    return client.post(url, payload)
