"""Steps shared by the browser tests."""

from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.formengine.schema import FormSchema
from tests.factories import current_code

STATUS_COLOURS = {
    "incomplete": "rgb(220, 53, 69)",
    "unverified": "rgb(255, 193, 7)",
    "complete": "rgb(25, 135, 84)",
}


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Onwards to the dashboard, or first to the second step (whose URL carries ?next=).
    page.wait_for_url(lambda url: "/login/" not in url)
    pass_two_factor(page, username)


def pass_two_factor(page, username: str) -> None:
    """The second step of signing in where it is asked for: set up the authenticator app (its
    code made here from the key the registry holds, as the app would) or give its code."""
    page.wait_for_load_state()
    if "/two-factor/enrol/" in page.url:
        assert page.locator("svg.two-factor-qr").is_visible()
        device = TOTPDevice.objects.get(user__username=username, confirmed=False)
        page.get_by_label("Code from the app").fill(current_code(device))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert page.locator("#recovery-codes li").count() == 10
        page.get_by_role("link", name="I have kept them: continue").click()
        page.wait_for_load_state()
    elif "/two-factor/verify/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Code", exact=True).fill(current_code(device))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()


def enrol(page, local_id: str, sex: str, year_of_birth: int) -> str:
    """Enrol through the form; returns the registry code shown for the patient."""
    page.goto("/")
    page.get_by_role("link", name="Enrol a patient").first.click()
    page.get_by_label("Local hospital ID").fill(local_id)
    page.locator(f"input[name=sex][value={sex}]").check()
    page.get_by_label("Year of birth").fill(str(year_of_birth))
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url("**/patients/*/")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def fill_form(page, schema: FormSchema, data: dict[str, Any]) -> None:
    """Answer every field of `data` through its widget, in form order (gates first)."""
    for f in schema.fields:
        if f.name not in data or f.type == "calc":
            continue
        value = data[f.name]
        if f.type in ("radio", "yesno", "truefalse"):
            page.locator(f"input[name={f.name}][value='{value}']").check()
        elif f.type == "checkbox":
            for code in value:
                page.locator(f"input[name={f.name}][value='{code}']").check()
        elif f.type == "dropdown":
            page.locator(f"#field-{f.name}").select_option(str(value))
        else:
            page.locator(f"#field-{f.name}").fill(str(value))


def save(page, status: str) -> None:
    page.get_by_label("Form status").select_option(status)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()


def cell_colour(page, pseudonym: str, form: str, index: int = 0) -> str:
    cell = page.locator(f'tr[data-patient="{pseudonym}"] td[data-form="{form}"] a.status-cell')
    return cell.nth(index).evaluate("node => getComputedStyle(node).backgroundColor")
