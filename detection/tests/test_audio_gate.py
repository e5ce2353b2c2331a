"""The audio gate: loud screams, glass and shots reach the model; silence, distant talk and low rumble do not."""

import numpy as np

from detection.audio.gate import EnergyVoiceGate, make_audio_gate
from detection.config import AudioGateSettings
from detection.tests.audio_factories import (
    RATE,
    glass,
    gunshot,
    rumble,
    scream,
    silence,
    speech_like,
    timeline,
)


def hops(samples, hop_s=1.0):
    size = int(hop_s * RATE)
    return [samples[i:i + size] for i in range(0, samples.size - size + 1, size)]


def verdicts(gate, samples):
    return [gate.apply(hop) for hop in hops(samples)]


def test_silence_and_distant_talk_are_skipped():
    gate = EnergyVoiceGate(AudioGateSettings())
    results = verdicts(gate, timeline(silence(5), speech_like(5, rms=0.003)))
    assert not any(r.active for r in results)
    assert max(r.level_db for r in results) < -35


def test_a_loud_high_pitched_burst_passes_and_is_held_for_the_next_hop():
    gate = EnergyVoiceGate(AudioGateSettings(hold_hops=2))
    results = verdicts(gate, timeline(silence(5), scream(1), silence(4)))
    assert [r.active for r in results] == [False] * 5 + [True, True] + [False] * 3
    assert [r.loud for r in results][5] and not results[6].loud
    assert results[5].band_ratio > 0.95


def test_a_burst_at_the_very_start_of_a_source_passes():
    gate = EnergyVoiceGate(AudioGateSettings())
    assert gate.apply(scream(1)).active


def test_loud_rumble_below_the_band_is_skipped_unless_the_band_check_is_off():
    loud_rumble = timeline(silence(2), rumble(3, rms=0.2))
    assert not any(r.active for r in verdicts(EnergyVoiceGate(AudioGateSettings()), loud_rumble))
    assert any(r.active for r in verdicts(EnergyVoiceGate(AudioGateSettings(min_band_ratio=0)), loud_rumble))


def test_a_steady_loud_crowd_raises_the_floor_but_a_scream_above_it_still_passes():
    gate = EnergyVoiceGate(AudioGateSettings())
    chatter = speech_like(60, rms=0.05, syllables=False)
    results = verdicts(gate, chatter)
    assert results[0].active  # at first, loud talk counts
    assert not any(r.active for r in results[-10:])  # a minute later it is the room's normal level
    scream_over_chatter = chatter[:RATE] + scream(1, amplitude=0.8)
    assert gate.apply(scream_over_chatter).active


def test_the_gate_can_be_switched_off():
    gate = make_audio_gate(AudioGateSettings(enabled=False))
    assert gate.apply(np.zeros(RATE, np.float32)).active


def test_breaking_glass_and_a_gunshot_pass_though_they_are_short_and_bright():
    for sound in (glass(), gunshot()):
        gate = EnergyVoiceGate(AudioGateSettings())
        results = verdicts(gate, timeline(silence(3), sound, silence(3 - sound.size / RATE)))
        assert [r.loud for r in results] == [False, False, False, True, False, False]
