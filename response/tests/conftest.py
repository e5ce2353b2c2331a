"""Escalation fixtures: ladders made to measure (the seeded defaults are tested on their own)."""

import pytest

from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401
from response.models import EscalationPolicy, EscalationStep


def make_ladder(source: str, kind: str, steps: list[dict], *, priority: str = "") -> EscalationPolicy:
    """Replace the ladder for one kind of alert with `steps` (each: level, in_status, after_seconds, actions...)."""
    policy, _ = EscalationPolicy.objects.get_or_create(source=source, kind=kind, priority=priority,
                                                       defaults={"name": f"{source} {kind} {priority}".strip()})
    policy.steps.all().delete()
    for step in steps:
        EscalationStep.objects.create(policy=policy, **step)
    return policy


@pytest.fixture
def ladder(db):
    return make_ladder


@pytest.fixture
def sos_ladder(db):
    """The default SOS emergency ladder: 30 s and 120 s unacknowledged, 15 min dispatched."""
    return make_ladder("sos", "emergency", [
        {"level": 1, "in_status": "active", "after_seconds": 30, "notify_supervisors": True, "label": "30 s"},
        {"level": 2, "in_status": "active", "after_seconds": 120, "notify_supervisors": True,
         "notify_dispatchers": True, "label": "2 min"},
        {"level": 3, "in_status": "dispatched", "after_seconds": 900, "notify_supervisors": True,
         "label": "No unit on scene"},
    ])
