"""Audio pipeline: per-source threads cut hops and gate them; one analyser scores windows across sources."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from detection.audio.capture import SAMPLE_RATE, AudioInput, AudioRing, PyAVAudioSource
from detection.audio.decision import ScoredWindow, ScreamDecision
from detection.audio.events import AudioReporter, build_scream_event
from detection.audio.gate import AudioGate, make_audio_gate
from detection.config import AudioGateSettings, AudioSettings, DetectorConfig
from detection.pipeline import FrameBatcher, Sample
from detection.publisher import Publisher

if TYPE_CHECKING:  # the model needs torch: a worker without audio (a camera host without torch) never loads it
    from detection.audio.model import AudioClassifier, Runtime

logger = logging.getLogger(__name__)


@dataclass
class AudioWindow:
    """The context window ending with one hop; samples only when the gate let it through."""

    camera_id: str  # the source's id; named so for the shared batcher
    start_ts: float
    end_ts: float
    wall_time: float
    samples: np.ndarray | None


@dataclass
class AudioStats:
    analysed: int = 0
    skipped_quiet: int = 0
    dropped: int = 0
    reports: int = 0
    last_score: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class AudioWorker:
    """One source's thread: decode, ring buffer, cut a hop every hop_s, gate it, hand the window to the batcher."""

    def __init__(
        self,
        source: PyAVAudioSource,
        gate: AudioGate,
        batcher: FrameBatcher,
        stats: AudioStats,
        stop: threading.Event,
        *,
        hop_s: float,
        context_samples: int,
    ):
        self.source, self.gate, self.batcher, self.stats, self.stop = source, gate, batcher, stats, stop
        self.id = source.audio.id
        self.hop = round(hop_s * SAMPLE_RATE)
        self.context = context_samples
        self.ring = AudioRing(context_samples + self.hop)
        self.thread = threading.Thread(target=self._run, name=f"audio-{self.id}", daemon=True)
        self._connection = 0
        self._next_hop_end = self.hop
        self._ring_start_ts = 0.0

    def _run(self) -> None:
        try:
            for chunk in self.source.chunks():
                if chunk.connection != self._connection:
                    self._restart(chunk.connection, chunk.ts)
                # Written a hop at most at a time: a decoder that hands over long frames must not push a hop
                # out of the ring before its window has been cut.
                for start in range(0, chunk.samples.size, self.hop):
                    self.ring.write(chunk.samples[start:start + self.hop])
                    while self.ring.total >= self._next_hop_end and not self.stop.is_set():
                        self._handle_hop(self._next_hop_end)
                        self._next_hop_end += self.hop
        except Exception:
            logger.exception("audio %s: capture thread failed; its sound is no longer analysed", self.id)
            with self.source.stats.lock:
                self.source.stats.state = "failed"
        finally:
            self.batcher.close(self.id)

    def _restart(self, connection: int, ts: float) -> None:
        # After a reconnect the ring starts empty: a window must never stitch sound from either side of a gap.
        self._connection = connection
        self.ring.reset()
        self.gate.reset()
        self._next_hop_end = self.hop
        self._ring_start_ts = ts

    def _handle_hop(self, end: int) -> None:
        verdict = self.gate.apply(self.ring.read(end, self.hop))
        end_ts = self._ring_start_ts + end / SAMPLE_RATE
        start_ts = max(self._ring_start_ts, end_ts - self.context / SAMPLE_RATE)
        samples = self.ring.read(end, self.context) if verdict.active else None
        window = AudioWindow(self.id, start_ts, end_ts, time.time(), samples)
        if not self.batcher.put(Sample(window, verdict.active), self.stop):  # type: ignore[arg-type]
            with self.stats.lock:
                self.stats.dropped += 1


class AudioAnalyzer:
    """Scores the gated windows of a batch in one model call and turns each source's decisions into reports."""

    def __init__(
        self,
        reporters: dict[str, AudioReporter],
        classifier: AudioClassifier,
        publisher: Publisher,
        settings: AudioSettings,
        path: str,
    ):
        self.reporters, self.classifier, self.publisher, self.settings, self.path = (
            reporters, classifier, publisher, settings, path,
        )
        self.decisions = {source_id: ScreamDecision(settings.decision) for source_id in reporters}
        self.stats = {source_id: AudioStats() for source_id in reporters}

    def process(self, samples: list[Sample]) -> None:
        windows: list[AudioWindow] = [sample.frame for sample in samples]  # type: ignore[misc]
        heard = [w for w in windows if w.samples is not None]
        scores = iter(self.classifier.scores([w.samples for w in heard]).tolist()) if heard else iter(())
        for window in windows:
            class_scores = dict(zip(self.classifier.classes, next(scores))) if window.samples is not None else None
            scored = ScoredWindow(window.start_ts, window.end_ts, window.wall_time, class_scores, window.samples)
            self._record(window.camera_id, scored)
            trigger = self.decisions[window.camera_id].observe(scored)
            if trigger is not None:
                self._report(window.camera_id, trigger)

    def _record(self, source_id: str, window: ScoredWindow) -> None:
        stats = self.stats[source_id]
        with stats.lock:
            if window.class_scores is None:
                stats.skipped_quiet += 1
            else:
                stats.analysed += 1
                stats.last_score = window.score

    def _report(self, source_id: str, trigger) -> None:
        decision = self.settings.decision
        event = build_scream_event(
            self.reporters[source_id], trigger, path=self.path, clip_s=decision.clip_s,
            bitrate=self.settings.evidence_bitrate,
        )
        self.publisher.send(event)  # type: ignore[arg-type]
        with self.stats[source_id].lock:
            self.stats[source_id].reports += 1
        logger.warning(
            "audio %s: SCREAM score=%.2f label=%s window %.1f-%.1f s (clip %d bytes)",
            source_id, trigger.confidence, trigger.label, trigger.peak.start_ts, trigger.peak.end_ts, len(event.audio),
        )


def audio_inputs(config: DetectorConfig) -> list[tuple[AudioInput, AudioReporter, AudioGateSettings]]:
    """Every source to listen to: cameras with an enabled audio section, then the standalone microphones."""
    inputs = []
    for camera in config.cameras:
        audio = camera.audio
        if audio is None or not audio.enabled:
            continue
        own_stream = audio.source is None
        source = AudioInput(
            camera.id, str(camera.source if own_stream else audio.source), audio.input_format,
            loop=camera.loop and own_stream, realtime=camera.realtime and own_stream,
        )
        inputs.append((source, AudioReporter(camera.id, camera.device_id, camera.beacon_id),
                       config.audio.gate_for(audio.gate)))
    for microphone in config.audio.microphones:
        source = AudioInput(microphone.id, microphone.source, microphone.input_format, microphone.loop,
                            microphone.realtime)
        inputs.append((source, AudioReporter(microphone.id, microphone.device_id, microphone.beacon_id),
                       config.audio.gate_for(microphone.gate)))
    return inputs


class AudioPipeline:
    """The audio half of the worker, wired from the config: sources, gates, one analyser thread, status lines."""

    def __init__(
        self,
        config: DetectorConfig,
        runtime: Runtime | None,
        publisher: Publisher,
        stop: threading.Event,
        *,
        classifier: AudioClassifier | None = None,
        sources: dict[str, PyAVAudioSource] | None = None,
    ):
        self.config, self.stop = config, stop
        inputs = audio_inputs(config)
        settings = config.audio
        if classifier is None:
            from detection.audio.model import load_audio_classifier

        self.classifier = classifier or load_audio_classifier(
            settings.model, settings.classes, runtime, config.models.cache_dir, settings.activation
        )
        reporters = {source.id: reporter for source, reporter, _ in inputs}
        self.analyzer = AudioAnalyzer(reporters, self.classifier, publisher, settings, config.api.scream_path)
        self.sources = sources or {s.id: PyAVAudioSource(s, config.capture, stop) for s, _, _ in inputs}
        self.batcher = FrameBatcher()
        self.workers = [
            AudioWorker(self.sources[source.id], make_audio_gate(gate), self.batcher, self.analyzer.stats[source.id],
                        stop, hop_s=settings.hop_s, context_samples=self.classifier.context_samples)
            for source, _, gate in inputs
        ]
        self.thread = threading.Thread(target=self._analyse, name="audio-analyser", daemon=True)
        self.failed = False

    def start(self) -> None:
        for worker in self.workers:
            lossless = self.sources[worker.id].lossless
            # A live source keeps two windows waiting at most (older ones are stale); a replayed file may queue a batch.
            self.batcher.register(worker.id, lossless, max(2, self.config.audio.batch_size) if lossless else 2)
            worker.thread.start()
        self.thread.start()

    def _analyse(self) -> None:
        linger = self.config.inference.max_batch_wait_ms / 1000
        try:
            while not self.stop.is_set():
                batch = self.batcher.take(self.config.audio.batch_size, 0.2, linger)
                if batch:
                    self.analyzer.process(batch)
                elif self.batcher.finished:
                    return
        except Exception:
            logger.exception("audio analyser failed; stopping the detector")
            self.failed = True

    def join(self) -> None:
        self.thread.join(timeout=30)
        for worker in self.workers:
            worker.thread.join(timeout=10)

    def log_status(self) -> None:
        for worker in self.workers:
            stats, capture = self.analyzer.stats[worker.id], self.sources[worker.id].stats
            with stats.lock:
                analysed, skipped, dropped, reports, score = (
                    stats.analysed, stats.skipped_quiet, stats.dropped, stats.reports, stats.last_score
                )
            logger.info(
                "audio %s: %s | analysed %d windows | skipped by gate %d | dropped %d | last score %s | reports %d | "
                "reconnects %d | down %d",
                worker.id, capture.state, analysed, skipped, dropped, "-" if score is None else f"{score:.2f}",
                reports, capture.reconnects, capture.down_events,
            )
