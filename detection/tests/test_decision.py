"""The temporal decision: one report per fight, no report for a flicker, and the cooldown is respected."""

import numpy as np

from detection.config import DecisionSettings
from detection.decision import ScoredFrame, ViolenceDecision

IMAGE = np.zeros((4, 4, 3), np.uint8)


def feed(decision, scores, start=0.0, step=0.5):
    """Scores at 2 fps of stream time; None stands for a frame the motion gate skipped."""
    fired = []
    for i, score in enumerate(scores):
        ts = start + i * step
        frame = ScoredFrame(ts, 1000 + ts, 0.0 if score is None else score, None if score is None else IMAGE)
        trigger = decision.observe(frame)
        if trigger is not None:
            fired.append((ts, trigger))
    return fired


def settings(**overrides):
    return DecisionSettings(**{"threshold": 0.75, "window": 5, "cooldown_s": 60, **overrides})


def test_a_sustained_fight_fires_exactly_once():
    fired = feed(ViolenceDecision(settings()), [0.1] * 10 + [0.9] * 60 + [0.1] * 10)
    assert len(fired) == 1
    ts, trigger = fired[0]
    assert ts == (10 + 2) * 0.5  # the third violent frame makes the median of five violent
    assert trigger.confidence == 0.9


def test_a_single_violent_frame_does_not_fire():
    assert feed(ViolenceDecision(settings()), [0.1, 0.1, 0.99, 0.1, 0.1, 0.1, 0.99, 0.1, 0.1]) == []


def test_frames_skipped_by_the_motion_gate_count_against_violence():
    assert feed(ViolenceDecision(settings()), [0.9, None, None, 0.9, None, None, 0.9, None]) == []


def test_a_second_fight_inside_the_cooldown_is_not_reported_again():
    decision = ViolenceDecision(settings(cooldown_s=60))
    first = feed(decision, [0.9] * 10)
    second = feed(decision, [0.1] * 20 + [0.9] * 20, start=10)  # 10 s to 39.5 s: inside the 60 s cooldown
    assert len(first) == 1 and second == []


def test_a_fight_after_the_cooldown_is_reported_again():
    decision = ViolenceDecision(settings(cooldown_s=30))
    first = feed(decision, [0.9] * 10)
    later = feed(decision, [0.1] * 10 + [0.9] * 10, start=40)
    assert len(first) == 1 and len(later) == 1
    assert later[0][0] - first[0][0] >= 30


def test_the_evidence_is_the_three_most_violent_frames_most_violent_first():
    scores = [0.8, 0.95, 0.77, 0.99, 0.9]
    (_, trigger), = feed(ViolenceDecision(settings()), scores)
    assert [f.score for f in trigger.evidence] == [0.99, 0.95, 0.9]
    assert trigger.peak == 0.99


def test_skipped_frames_are_never_evidence():
    (_, trigger), = feed(ViolenceDecision(settings(window=3)), [0.9, None, 0.95, 0.97][1:] + [0.96])
    assert all(f.image is not None for f in trigger.evidence)
    assert 0.0 not in [f.score for f in trigger.evidence]
