"""The default escalation ladders: an unacknowledged alert escalates at 30 s and 120 s; dispatched (SOS) or
assigned (incident) with no unit on scene after 15 minutes warns. Admins edit them in Django admin."""

from django.db import migrations

SOS_STEPS = [
    # level, status, after, realert, supervisors, dispatchers, label
    (1, "active", 30, True, True, False, "Unacknowledged 30 s"),
    (2, "active", 120, True, True, True, "Unacknowledged 2 min"),
    (3, "dispatched", 15 * 60, True, True, False, "No unit on scene 15 min"),
]
INCIDENT_STEPS = [
    (1, "CREATED", 30, True, True, False, "Unacknowledged 30 s"),
    (2, "CREATED", 120, True, True, True, "Unacknowledged 2 min"),
    (3, "ASSIGNED", 15 * 60, True, True, False, "No unit on scene 15 min"),
]
POLICIES = [
    ("SOS emergency", "sos", "emergency", SOS_STEPS),
    ("SOS alert", "sos", "alert", SOS_STEPS),
    ("Violence incident", "incident", "violence", INCIDENT_STEPS),
    ("Scream incident", "incident", "scream", INCIDENT_STEPS),
]


def create_defaults(apps, schema_editor):
    Policy = apps.get_model("response", "EscalationPolicy")
    Step = apps.get_model("response", "EscalationStep")
    for name, source, kind, steps in POLICIES:
        policy, created = Policy.objects.get_or_create(source=source, kind=kind, priority="", defaults={"name": name})
        if not created:
            continue
        for level, status, after, realert, supervisors, dispatchers, label in steps:
            Step.objects.create(policy=policy, level=level, in_status=status, after_seconds=after,
                                realert_dashboards=realert, notify_supervisors=supervisors,
                                notify_dispatchers=dispatchers, label=label)


def remove_defaults(apps, schema_editor):
    Policy = apps.get_model("response", "EscalationPolicy")
    for name, source, kind, _ in POLICIES:
        Policy.objects.filter(source=source, kind=kind, priority="", name=name).delete()


class Migration(migrations.Migration):
    dependencies = [("response", "0001_escalation_policies")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
