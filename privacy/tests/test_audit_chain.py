"""The SOS, incident and view audit trails are hash chains: an edited, deleted or inserted row no longer verifies."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from common.actors import Actor
from common.audit import GENESIS_HASH, AuditChainHead, chain_hash, entry_content
from incidents import services as incident_services
from privacy import services as privacy_services
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import incident_with_image, raise_sos
from sos import services as sos_services
from sos.models import SOSAuditEntry


@pytest.fixture
def trails(dispatcher, officer_a, unit_a, device, beacon):
    """An SOS taken through its life, an incident acknowledged, and two looks recorded."""
    sos, _ = raise_sos()
    actor = Actor.for_user(dispatcher)
    sos_services.sos_acknowledge(sos_id=sos.pk, actor=actor)
    sos_services.sos_assign(sos_id=sos.pk, officer_name="Ravi", unit_number=unit_a.unit_number, actor=actor)
    sos_services.sos_resolve(sos_id=sos.pk, actor=actor, note="Safe at home")
    incident, _ = incident_with_image(device, beacon)
    incident_services.incident_acknowledge(incident_id=incident.pk, actor=actor)
    privacy_services.sos_trail_read_record(sos_id=sos.pk, actor=Actor.for_user(officer_a), ip_address="192.0.2.1")
    privacy_services.sos_trail_read_record(sos_id=sos.pk, actor=actor, ip_address="192.0.2.2")
    return sos, incident


def verify() -> str:
    call_command("verify_audit_chain", stdout=(out := _Out()))
    return out.text


class _Out:
    text = ""

    def write(self, message, *args, **kwargs):
        self.text += message


def broken() -> str:
    with pytest.raises(CommandError) as error:
        verify()
    return str(error.value)


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_platform_verifies_and_each_entry_links_to_the_one_before(trails):
    sos, _ = trails
    entries = list(SOSAuditEntry.objects.filter(sos_request=sos).order_by("chain_seq"))

    assert "All audit chains verify" in verify()
    assert [e.chain_seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in zip(entries, entries[1:]))
    head = AuditChainHead.objects.get(chain=f"sos.sosauditentry:{sos.pk}")
    assert (head.length, head.last_hash) == (4, entries[-1].entry_hash)


def test_an_edited_row_is_named(trails):
    sos, _ = trails
    entry = SOSAuditEntry.objects.get(sos_request=sos, action="assigned")
    sql("UPDATE sos_sosauditentry SET actor_label = %s WHERE id = %s", ["dispatcher:someone_else", entry.pk])

    message = broken()

    assert f"sos.sosauditentry:{sos.pk}: entry id {entry.pk} (seq 3)" in message
    assert "edited" in message


def test_an_edited_incident_entry_and_an_edited_view_reason_are_caught(trails):
    _, incident = trails
    sql("UPDATE incidents_incidentauditentry SET details = %s WHERE incident_id = %s",
        ['{"note": "nothing happened"}', incident.pk.hex if connection.vendor == "sqlite" else str(incident.pk)])
    assert "incidents.incidentauditentry" in broken()


def test_an_edited_view_entry_is_caught(trails):
    entry = ViewAuditEntry.objects.order_by("id").first()
    sql("UPDATE privacy_viewauditentry SET ip_address = %s WHERE id = %s", ["10.9.9.9", entry.pk])

    assert f"entry id {entry.pk}" in broken()


def test_a_deleted_row_in_the_middle_is_caught(trails):
    sos, _ = trails
    entry = SOSAuditEntry.objects.get(sos_request=sos, chain_seq=2)
    sql("DELETE FROM sos_sosauditentry WHERE id = %s", [entry.pk])

    message = broken()

    assert "(seq 3)" in message and "missing (deleted)" in message


def test_a_deleted_last_row_is_caught_by_the_head(trails):
    sos, _ = trails
    sql("DELETE FROM sos_sosauditentry WHERE id = %s", [SOSAuditEntry.objects.get(sos_request=sos, chain_seq=4).pk])

    assert "entries after it are missing" in broken()


def test_an_inserted_row_is_caught_whether_unchained_or_with_a_forged_hash(trails, dispatcher):
    sos, _ = trails
    now = timezone.now()
    sql("INSERT INTO sos_sosauditentry (action, from_status, to_status, actor_label, details, created_at, chain, "
        "chain_seq, prev_hash, entry_hash, sos_request_id) VALUES ('cancelled', '', 'cancelled', 'citizen:x', '{}', "
        "%s, '', NULL, '', '', %s)", [now, sos.pk])
    assert "in no chain (inserted)" in broken()

    sql("DELETE FROM sos_sosauditentry WHERE chain_seq IS NULL")
    last = SOSAuditEntry.objects.filter(sos_request=sos).order_by("-chain_seq").first()
    forged = SOSAuditEntry(sos_request=sos, action="cancelled", to_status="cancelled", actor_label="citizen:x",
                           created_at=now, chain=last.chain, chain_seq=5, prev_hash=last.entry_hash)
    forged.entry_hash = forged.compute_hash()
    SOSAuditEntry.objects.bulk_create([forged])  # straight into the table, past append()
    assert "head does not match" in broken()


def test_a_deleted_account_does_not_look_like_tampering(trails, dispatcher):
    dispatcher.delete()

    assert "All audit chains verify" in verify()


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_entries_written_before_chains_existed(dispatcher):
    executor = MigrationExecutor(connection)
    executor.migrate([("sos", "0001_initial")])
    old_apps = executor.loader.project_state([("sos", "0001_initial")]).apps
    OldSOS, OldEntry = old_apps.get_model("sos", "SOS"), old_apps.get_model("sos", "SOSAuditEntry")
    sos = OldSOS.objects.create(name="Old", initial_latitude=1, initial_longitude=2, last_latitude=1,
                                last_longitude=2, access_token_hash="x" * 64)
    for action in ("created", "acknowledged", "resolved"):
        OldEntry.objects.create(sos_request=sos, action=action, actor_label="dispatcher:dispatch")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(SOSAuditEntry.objects.filter(sos_request_id=sos.pk).values_list("chain_seq", flat=True)) == [1, 2, 3]
    assert "All audit chains verify" in verify()


def _append_sos_note(sos, actor, label):
    SOSAuditEntry.record(sos, action=label, actor=actor)


def _append_view(sos, actor, label):
    privacy_services.view_record(actor=actor, action="sos_trail_read", subject_kind="sos", subject_id=sos.pk,
                                 delivery="json", details={"writer": label})


def _chain_of(sos, model):
    if model is SOSAuditEntry:
        return [(e.action, e.chain_seq, e) for e in SOSAuditEntry.objects.filter(sos_request=sos).order_by("chain_seq")]
    return [(e.details["writer"], e.chain_seq, e) for e in ViewAuditEntry.objects.order_by("chain_seq")]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("append", "model", "first_seq"), [
    (_append_sos_note, SOSAuditEntry, 2),  # a chain with entries: both writers want its head's lock
    (_append_view, ViewAuditEntry, 1),  # a chain not yet begun: both writers want to begin it
])
def test_two_writers_appending_at_once_take_turns_and_never_fork_the_chain(dispatcher, append, model, first_seq):
    """Writer A appends in an open transaction; writer B is seen waiting on A's lock; then A commits."""
    sos, _ = raise_sos()
    actor = Actor.for_user(dispatcher)
    a_appended, release_a = threading.Event(), threading.Event()
    b_pid, errors = [], []

    def writer_a():
        try:
            with transaction.atomic():
                append(sos, actor, "note_a")
                a_appended.set()
                release_a.wait(30)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def writer_b():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                b_pid.append(cursor.fetchone()[0])
            append(sos, actor, "note_b")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    thread_a = threading.Thread(target=writer_a)
    thread_a.start()
    assert a_appended.wait(30)
    thread_b = threading.Thread(target=writer_b)
    thread_b.start()
    # A condition, not a sleep: B's backend is blocked on a lock A holds.
    deadline = timezone.now() + timezone.timedelta(seconds=30)
    while timezone.now() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
                           [b_pid or [0]])
            if cursor.fetchone()[0]:
                break
    else:
        pytest.fail("writer B never waited for writer A")
    release_a.set()
    thread_a.join(30)
    thread_b.join(30)

    assert not errors
    chain = [(label, seq) for label, seq, _ in _chain_of(sos, model)]
    assert chain[-2:] == [("note_a", first_seq), ("note_b", first_seq + 1)]
    entries = [entry for _, _, entry in _chain_of(sos, model)]
    assert entries[-1].prev_hash == entries[-2].entry_hash
    assert "All audit chains verify" in verify()


def test_the_hash_covers_the_chain_its_place_and_the_previous_hash(trails):
    entry = SOSAuditEntry.objects.order_by("id").first()
    content = entry_content(entry, subject_field="sos_request", extra_fields=())

    assert entry.entry_hash == chain_hash(chain=entry.chain, seq=1, prev_hash=GENESIS_HASH, content=content)
    assert entry.entry_hash != chain_hash(chain=entry.chain, seq=2, prev_hash=GENESIS_HASH, content=content)


def test_a_subject_deleted_by_hand_shows_as_a_chain_whose_entries_are_all_missing(trails):
    sos, _ = trails
    from sos.models import SOS

    SOS.objects.filter(pk=sos.pk).delete()  # what an admin's delete button does

    assert f"sos.sosauditentry:{sos.pk}: its head: all 4 entries are missing (deleted)" in broken()


def test_the_heads_digest_changes_when_any_chain_moves_and_only_then(trails, dispatcher):
    sos, _ = trails
    before = verify().split("Digest of every chain's head: ")[1].strip()
    assert verify().split("Digest of every chain's head: ")[1].strip() == before

    SOSAuditEntry.record(sos, action="note", actor=Actor.for_user(dispatcher))

    assert verify().split("Digest of every chain's head: ")[1].strip() != before
