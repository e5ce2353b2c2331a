"""The audio decision and its evidence: one report per burst, a cooldown, and a clip that holds the burst."""

import io

import av
import numpy as np

from detection.audio.decision import ScoredWindow, ScreamDecision
from detection.audio.evidence import encode_opus, loudest_clip
from detection.config import AudioDecisionSettings
from detection.tests.audio_factories import RATE, level, scream, silence, timeline


def window(ts: float, score: float | None, samples=None) -> ScoredWindow:
    scores = None if score is None else {"Screaming": score, "Shout": score / 2}
    if scores is not None and samples is None:
        samples = np.full(RATE, score, np.float32)
    return ScoredWindow(ts - 1, ts, 1000.0 + ts, scores, samples)


def run(decision, scores, start=0.0):
    triggers = []
    for offset, score in enumerate(scores):
        trigger = decision.observe(window(start + offset, score))
        if trigger is not None:
            triggers.append(trigger)
    return triggers


def test_one_burst_raises_exactly_one_report():
    decision = ScreamDecision(AudioDecisionSettings(threshold=0.8, window=3, cooldown_s=60))
    triggers = run(decision, [None] * 5 + [0.95, 0.9, 0.97, 0.92, 0.9] + [None] * 5)
    assert len(triggers) == 1
    # Raised as soon as two of the last three windows are high: [quiet, 0.95, 0.9] has median 0.9.
    assert triggers[0].confidence == 0.9 and triggers[0].peak.end_ts == 5.0
    assert triggers[0].label == "Screaming"
    assert triggers[0].peak.score == 0.95  # the worst-sounding window so far carries the evidence


def test_a_second_burst_within_the_cooldown_is_not_reported_but_one_after_it_is():
    decision = ScreamDecision(AudioDecisionSettings(threshold=0.8, window=3, cooldown_s=30))
    burst = [0.95] * 4 + [None] * 6
    first = run(decision, burst, start=0)
    during = run(decision, burst, start=10)
    after = run(decision, burst, start=40)
    assert (len(first), len(during), len(after)) == (1, 0, 1)


def test_a_single_misheard_window_is_outvoted_by_the_median():
    decision = ScreamDecision(AudioDecisionSettings(threshold=0.8, window=3))
    assert run(decision, [None, 0.99, None, 0.1, 0.99, 0.2, None]) == []


def test_quiet_windows_count_as_zero():
    decision = ScreamDecision(AudioDecisionSettings(threshold=0.8, window=3))
    assert run(decision, [0.95, None, None, 0.95, None, None, 0.95]) == []


def test_the_clip_is_the_loudest_stretch_and_decodes_as_mono_opus():
    audio = timeline(silence(5), scream(2), silence(3))
    clip = loudest_clip(audio, 4.0)
    assert clip.size == 4 * RATE
    assert level(clip) > level(audio)  # it holds the whole burst and less silence than the window

    data = encode_opus(clip, 24000)

    assert data[:4] == b"OggS" and len(data) < 20000
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.layout.name == "mono"
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    assert abs(decoded.size / stream.rate - 4.0) < 0.1
    assert level(decoded) > -20


def test_a_window_shorter_than_the_clip_is_sent_whole():
    audio = scream(1)
    assert loudest_clip(audio, 4.0) is audio
