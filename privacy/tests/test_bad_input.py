"""Bad input to the privacy endpoints gets a clear JSON error, never a 500, and changes nothing."""

import pytest
from django.urls import reverse

from naarikavach.testing import client_for
from privacy.models import LegalHold, ViewAuditEntry
from privacy.tests.helpers import grant_unredacted

HUGE = 10**30


@pytest.mark.parametrize(("name", "kwargs", "body"), [
    ("privacy-image-unredacted", {"image_id": HUGE}, {"reason": "x"}),
    ("privacy-sos-bundle", {"subject_id": HUGE}, {"reason": "x"}),
    ("privacy-hold-release", {"hold_id": HUGE}, {"reason": "x"}),
])
def test_ids_beyond_any_row_are_a_404(admin_user, name, kwargs, body):
    grant_unredacted(admin_user)

    response = client_for(admin_user).post(reverse(name, kwargs=kwargs), body)

    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("body", [
    {"subject_kind": "sos", "subject_id": str(HUGE), "reason": "x"},
    {"subject_kind": "sos", "subject_id": "-4", "reason": "x"},
    {"subject_kind": "planet", "subject_id": "1", "reason": "x"},
    {"subject_kind": "sos", "subject_id": "1", "reason": "x" * 5000},
    {"subject_kind": "sos"},
])
def test_bad_hold_requests_are_refused_and_place_nothing(dispatcher, body):
    response = client_for(dispatcher).post(reverse("privacy-hold-list"), body, format="json")

    assert response.status_code in (400, 404) and "error" in response.json()
    assert not LegalHold.objects.exists()


def test_a_reason_that_is_not_text_is_a_400(admin_user):
    response = client_for(admin_user).post(reverse("privacy-image-unredacted", args=[1]), {"reason": {"a": 1}},
                                           format="json")

    assert response.status_code == 400 and not ViewAuditEntry.objects.exists()
