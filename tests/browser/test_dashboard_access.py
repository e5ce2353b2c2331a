"""Only officers and dispatchers get into the police dashboard."""

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_account_cannot_open_the_dashboard(pages, citizen):
    page = pages("/dashboard/login/")
    with page.expect_response(lambda r: r.request.method == "POST" and "/dashboard/login/" in r.url) as answer:
        sign_in(page, citizen)
    assert answer.value.status == 403
    assert "for police only" in page.inner_text("#refused")

    page.goto("/dashboard/")
    assert "/dashboard/login/" in page.url
    assert not page.is_visible("#map")


def test_an_officer_signs_in_sees_the_live_dashboard_and_signs_out(dashboard_for, officer_a):
    dashboard = dashboard_for(officer_a)
    assert "officer_a" in dashboard.inner_text(".who")
    assert dashboard.is_visible("#map")
    dashboard.click("text=Sign out")
    dashboard.wait_for_url("**/dashboard/login/")
    dashboard.goto("/dashboard/")
    assert "/dashboard/login/" in dashboard.url
