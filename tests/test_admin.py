"""Django admin: every model of the platform has a page, and each list page opens with its filters."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from naarikavach.testing import PASSWORD

OUR_APPS = ["accounts", "sos", "incidents", "realtime", "console", "cameras", "response", "contacts", "privacy"]


def our_models():
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


def inline_models():
    return {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_every_model_has_an_admin_page_or_shows_inline_on_its_parents_page(model):
    assert admin.site.is_registered(model) or model in inline_models(), f"{model._meta.label} is not in the admin"


REGISTERED = [model for model in our_models() if admin.site.is_registered(model)]


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_each_admin_list_opens_with_its_filters(client, admin_user, model):
    from sos.tests.conftest import raise_sos

    raise_sos()
    assert client.login(username=admin_user.username, password=PASSWORD)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url)
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    assert model_admin.list_filter, f"{model._meta.label}'s admin list has no filters"
    if model_admin.search_fields:
        assert client.get(url, {"q": "x"}).status_code == 200


@pytest.mark.django_db
def test_officers_and_citizens_cannot_open_the_admin(client, officer_a, citizen):
    for user in (officer_a, citizen):
        assert client.login(username=user.username, password=PASSWORD)
        assert client.get("/api/sos/").status_code == 200  # signed in, the session works for the API
        response = client.get("/admin/sos/sos/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        client.logout()


@pytest.mark.django_db
def test_an_admin_cannot_edit_an_sos_or_forge_its_audit_trail(client, admin_user):
    from sos.models import SOSAuditEntry
    from sos.tests.conftest import raise_sos

    raised = raise_sos()
    assert client.login(username=admin_user.username, password=PASSWORD)
    change_url = reverse("admin:sos_sos_change", args=[raised.sos.pk])
    assert client.get(change_url).status_code == 200  # shown, read-only
    client.post(change_url, {"status": "resolved", "name": "Forged"})
    client.post(reverse("admin:sos_sosauditentry_add"), {"sos_request": raised.sos.pk, "action": "resolved"})

    raised.sos.refresh_from_db()
    assert (raised.sos.status, raised.sos.name) == ("active", "Asha")
    assert list(SOSAuditEntry.objects.values_list("action", flat=True)) == ["created"]


@pytest.mark.django_db
def test_the_admins_resolve_action_goes_through_the_service(client, admin_user):
    from realtime.models import OutboxEvent
    from sos.tests.conftest import raise_sos

    raised = raise_sos()
    assert client.login(username=admin_user.username, password=PASSWORD)
    response = client.post(reverse("admin:sos_sos_changelist"),
                           {"action": "resolve", "_selected_action": [raised.sos.pk]}, follow=True)

    assert response.status_code == 200
    raised.sos.refresh_from_db()
    assert raised.sos.status == "resolved" and raised.sos.closed_at is not None
    assert raised.sos.audit_trail.last().actor_label == f"admin:{admin_user.username}"
    assert OutboxEvent.objects.filter(event="sos_updated", payload__action="resolved").exists()
