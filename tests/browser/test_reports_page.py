"""The dispatch supervisors' response-time report page: a date range, p50/p90 and the share within target by
source and by kind, and a chart, from alerts whose response times were worked out by hand."""

import pytest

from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from response.tests.test_response_times import DAY, incident_with, sos_with
from sos.models import SOS
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT_DAY = DAY.date().isoformat()  # 2026-11-20


@pytest.fixture
def day_of_alerts(beacon, settings):  # noqa: F811
    settings.RESPONSE_TARGET_ACKNOWLEDGE_SECONDS, settings.RESPONSE_TARGET_ON_SCENE_SECONDS = 60, 900
    sos_with({"acknowledged": 10, "assigned": 70, "on_scene": 400, "resolved": 1000})
    sos_with({"acknowledged": 50, "assigned": 100, "on_scene": 1000, "resolved": 2000})
    sos_with({"assigned": 90})  # acknowledged and dispatched at once by the assignment
    sos_with({"cancelled": 20}, sos_type=SOS.Type.ALERT)  # never acknowledged
    incident_with(beacon, "violence", {"acknowledged": 30, "assigned": 60, "started": 300, "resolved": 600})
    incident_with(beacon, "scream", {"acknowledged": 200})


def open_reports(pages, user, query: str = "", **context_options):
    page = pages("/dashboard/login/", viewport={"width": 1280, "height": 900}, **context_options)
    sign_in(page, user)
    page.wait_for_url("**/dashboard/")
    page.goto(f"/dashboard/reports/{query}")
    page.wait_for_selector("body[data-ready=true]")
    return page


def figures(page, table: str, group: str) -> dict:
    return page.eval_on_selector(
        f"#{table} tr[data-group='{group}']",
        "row => Object.fromEntries([...row.querySelectorAll('td[data-cell]')].map(td => [td.dataset.cell, td.textContent]))",
    )


def test_a_supervisor_picks_a_day_and_reads_hand_computed_figures_and_a_chart(pages, day_of_alerts, dispatcher):
    page = open_reports(pages, dispatcher)

    page.fill("#from", REPORT_DAY)
    page.fill("#to", REPORT_DAY)
    page.click("#range button[type=submit]")
    page.wait_for_selector("#by-source tr[data-group='camera']")
    page.wait_for_selector("body[data-ready=true]")

    assert "6 alerts raised from 2026-11-20 to 2026-11-20" in page.inner_text("#report-status")
    # Citizen SOS acknowledged after 10, 50 and 90 s (one never): p50 = 2nd of 3, p90 = 3rd of 3; within 60 s
    # 2 of 4 alerts. On scene after 400 and 1000 s; within 900 s: 1 of 4.
    citizen = figures(page, "by-source", "citizen")
    assert citizen["alerts"] == "4"
    assert (citizen["acknowledge-p50"], citizen["acknowledge-p90"], citizen["acknowledge-within"]) == (
        "50 s", "1 min 30 s", "50%")
    assert (citizen["on_scene-p50"], citizen["on_scene-p90"], citizen["on_scene-within"]) == (
        "6 min 40 s", "16 min 40 s", "25%")
    assert (citizen["resolve-p50"], citizen["resolve-p90"]) == ("16 min 40 s", "33 min 20 s")
    # Camera incidents acknowledged after 30 and 200 s.
    camera = figures(page, "by-source", "camera")
    assert (camera["alerts"], camera["acknowledge-p50"], camera["acknowledge-p90"], camera["acknowledge-within"]) == (
        "2", "30 s", "3 min 20 s", "50%")
    overall = figures(page, "by-source", "overall")
    assert (overall["alerts"], overall["acknowledge-p50"], overall["acknowledge-p90"], overall["on_scene-within"]) == (
        "6", "50 s", "3 min 20 s", "33.3%")
    # By kind: the SOS alert was never acknowledged: no percentile, none within target.
    never = figures(page, "by-kind", "sos_alert")
    assert (never["alerts"], never["acknowledge-p50"], never["acknowledge-within"]) == ("1", "—", "0%")
    assert figures(page, "by-kind", "violence")["on_scene-p50"] == "5 min"
    assert "Targets: acknowledged within 1 min, on scene within 15 min." in page.inner_text("#targets")
    # The chart: uPlot draws on a canvas, one p50 and one p90 line per source.
    assert page.is_visible("#chart canvas")
    assert page.get_attribute("#chart", "data-series") == "4"
    assert page.eval_on_selector("#chart canvas", "canvas => canvas.width > 0 && canvas.height > 0")
    # The range is kept in the address, so the figures can be shared as a link.
    assert f"from={REPORT_DAY}&to={REPORT_DAY}" in page.url


def test_a_day_without_alerts_says_so_and_a_backwards_range_is_explained(pages, day_of_alerts, dispatcher):
    page = open_reports(pages, dispatcher)

    page.fill("#from", "2026-11-19")
    page.fill("#to", "2026-11-19")
    page.click("#range button[type=submit]")
    page.wait_for_selector("#by-source td.empty")
    page.fill("#from", "2026-11-21")
    page.fill("#to", "2026-11-20")
    page.click("#range button[type=submit]")
    page.wait_for_selector("#report-error:not([hidden])")

    assert "Must be after 'from'." in page.inner_text("#report-error")


def test_the_dashboard_header_links_supervisors_to_the_report(dashboard_for, dispatcher):
    dashboard = dashboard_for(dispatcher)

    dashboard.click("#reports-link")
    dashboard.wait_for_url("**/dashboard/reports/**")
    dashboard.wait_for_selector("body[data-ready=true]")

    assert dashboard.is_visible("#chart canvas")


def test_officers_are_refused_the_report_and_see_no_link(pages, dashboard_for, officer_a):
    dashboard = dashboard_for(officer_a)
    assert dashboard.query_selector("#reports-link") is None

    answer = dashboard.goto("/dashboard/reports/")

    assert answer.status == 403
    assert "for dispatch supervisors" in dashboard.inner_text("#refused")
    assert dashboard.query_selector("#chart") is None


def test_a_citizen_is_refused_and_a_stranger_is_sent_to_sign_in(pages, citizen):
    stranger = pages("/dashboard/reports/")
    assert "/dashboard/login/" in stranger.url

    with stranger.expect_response(lambda r: r.request.method == "POST" and "/dashboard/login/" in r.url) as answer:
        sign_in(stranger, citizen)

    assert answer.value.status == 403
    stranger.wait_for_selector("#refused")  # the refusal page has replaced the form
    assert stranger.query_selector("#chart") is None


def test_the_report_speaks_hindi_when_asked(pages, day_of_alerts, dispatcher):
    page = open_reports(pages, dispatcher, f"?from={REPORT_DAY}&to={REPORT_DAY}", locale="hi-IN",
                        extra_http_headers={"Accept-Language": "hi-IN,hi;q=0.9"})
    page.wait_for_selector("#by-source tr[data-group='camera']")

    assert page.get_attribute("html", "lang") == "hi"
    assert page.inner_text("#range label[for=from]") == "से"
    # Counts and durations from the script, through the catalogue (plural forms included).
    assert page.inner_text("#report-status") == "2026-11-20 से 2026-11-20 तक 6 अलर्ट आए।"
    assert figures(page, "by-source", "citizen")["acknowledge-p90"] == "1 मिनट 30 सेकंड"
    assert page.inner_text("#by-source tr[data-group='citizen'] th") == "नागरिक SOS"
