"""The photos a citizen attached to an SOS appear in the dispatcher's SOS detail (private, fetched with the token)."""

import pytest

from incidents.tests.factories import upload
from naarikavach.testing import client_for
from sos.tests.conftest import raise_sos

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sos_detail_shows_the_citizens_photos(dashboard_for, dispatcher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    raised = raise_sos(name="Asha", latitude=22.5726, longitude=88.3639)
    uploaded = client_for(sos_token=raised.token).post(
        "/api/upload-sos-images/", {"sos_id": raised.sos.pk, "images": [upload("street.jpg")],
                                    "descriptions": ["The street corner"]}, format="multipart")
    assert uploaded.status_code == 201, uploaded.json()
    photo_id = uploaded.json()["uploaded_images"][0]["id"]

    dashboard = dashboard_for(dispatcher)
    dashboard.click(f"#queue li[data-id='{raised.sos.pk}']")
    image = f"#detail img[data-photo-id='{photo_id}']"
    dashboard.wait_for_selector(image)
    dashboard.wait_for_function("img => img.naturalWidth > 0", arg=dashboard.query_selector(image))

    assert dashboard.evaluate(f"document.querySelector(\"{image}\").naturalWidth") == 64
    assert "The street corner" in dashboard.inner_text("#detail")
