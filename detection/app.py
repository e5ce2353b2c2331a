"""The worker: builds every stage from the configuration, runs the threads, logs status, and shuts down cleanly."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from detection.audio.capture import PyAVAudioSource
from detection.audio.pipeline import AudioPipeline, audio_inputs
from detection.capture import FrameSource, OpenCVSource
from detection.config import ConfigError, DetectorConfig, load_config
from detection.health import HealthMonitor, Heartbeats
from detection.models.build import load_models
from detection.models.classifiers import Classifier
from detection.models.errors import ModelError
from detection.models.runtime import resolve_placement
from detection.motion import make_motion_gate
from detection.operator import OperatorEndpoint
from detection.persons import PeopleCounter
from detection.pipeline import Analyzer, CameraWorker, FrameBatcher
from detection.publisher import HttpPublisher, Publisher

if TYPE_CHECKING:  # needs torch; a worker without audio never imports it
    from detection.audio.model import AudioClassifier
from detection.tamper import TamperWatch

logger = logging.getLogger("detection")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_MODELS = 0, 1, 2, 3


class DetectorApp:
    """Stages are built from the config unless given, which is how tests and the benchmark swap in their own."""

    def __init__(
        self,
        config: DetectorConfig,
        *,
        violence: Classifier | None = None,
        people: PeopleCounter | None = None,
        publisher: Publisher | None = None,
        sources: dict[str, FrameSource] | None = None,
        stop: threading.Event | None = None,
        audio_classifier: AudioClassifier | None = None,
        audio_sources: dict[str, PyAVAudioSource] | None = None,
    ):
        self.config = config
        self.stop = stop or threading.Event()
        if violence is None or people is None:
            loaded = load_models(config)
            violence = violence or loaded.violence
            people = people or PeopleCounter(loaded.person_detector, loaded.gender, config.inference.gender_max_people)
        self.violence, self.people = violence, people
        reporters = [*config.cameras, *config.audio.microphones]
        self.publisher = publisher or HttpPublisher(
            config.api, config.publisher, {reporter.device_id: reporter.key for reporter in reporters}
        )
        cameras = {camera.id: camera for camera in config.cameras}
        self.monitor = HealthMonitor(config)
        self.analyzer = Analyzer(
            cameras, self.monitor.timed(self.violence), self.people, self.publisher, config.decision, config.publisher.jpeg_quality
        )
        self.sources = self.monitor.observe(
            sources or {c.id: OpenCVSource(c, config.capture, self.stop) for c in config.cameras}
        )
        self.monitor.stats = self.analyzer.stats
        self.tamper = TamperWatch(cameras, config.tamper, self.publisher.send, config.publisher.jpeg_quality)
        self.monitor.watchers.append(self.tamper.observe)
        self.operator = (
            OperatorEndpoint(config, self.monitor, self.operator_stats) if config.operator.port is not None else None
        )
        self.heartbeats = Heartbeats(config, self.monitor, self.stop, send=self.publisher.send)
        self.batcher = FrameBatcher()
        self.workers = [
            CameraWorker(c, self.sources[c.id], make_motion_gate(config.motion), self.batcher,
                         self.analyzer.stats[c.id], self.stop)
            for c in config.cameras
        ]
        # The audio half exists only when some camera or microphone is to be listened to; its model runs in
        # PyTorch, placed like the video models' PyTorch reference.
        placement = resolve_placement(config.inference) if audio_inputs(config) and audio_classifier is None else None
        self.audio = (
            AudioPipeline(config, placement, self.publisher, self.stop, classifier=audio_classifier,
                          sources=audio_sources)
            if audio_inputs(config) else None
        )
        self._failed = False
        self._previous_analysed: dict[str, tuple[float, int]] = {}

    def run(self) -> int:
        """Run until stopped, or until every source has ended and the spool is drained; returns an exit code."""
        listening = len(self.audio.workers) if self.audio is not None else 0
        logger.info(
            "detector starting: %d cameras, %d audio sources, reporting to %s",
            len(self.workers), listening, self.config.api.base_url,
        )
        started = time.monotonic()
        self._previous_analysed = {worker.camera.id: (started, 0) for worker in self.workers}
        self.publisher.start()
        self.heartbeats.start()
        if self.operator is not None:
            self.operator.start()
        for worker in self.workers:
            lossless = self.sources[worker.camera.id].lossless
            # A live camera keeps at most two frames waiting (older ones are stale); a replayed file may queue a batch.
            depth = max(2, self.config.inference.batch_size) if lossless else 2
            self.batcher.register(worker.camera.id, lossless, depth)
            worker.thread.start()
        analyser = threading.Thread(target=self._analyse, name="analyser", daemon=True)
        analyser.start()
        if self.audio is not None:
            self.audio.start()
        next_status = time.monotonic() + self.config.status_interval_s
        while self._running(analyser) and not self.stop.wait(0.2):
            if time.monotonic() >= next_status:
                self.log_status()
                next_status += self.config.status_interval_s
        failed = self._failed or (self.audio is not None and self.audio.failed)
        self._shutdown(analyser, sources_ended=not self.stop.is_set() and not failed)
        return EXIT_FAILED if self._failed or (self.audio is not None and self.audio.failed) else EXIT_OK

    def _running(self, analyser: threading.Thread) -> bool:
        """Both halves still have work; a failed one stops the whole worker, as the video analyser always has."""
        if self.audio is None:
            return analyser.is_alive()
        if self._failed or self.audio.failed:
            return False
        return analyser.is_alive() or self.audio.thread.is_alive()

    def _analyse(self) -> None:
        inference = self.config.inference
        try:
            while not self.stop.is_set():
                batch = self.batcher.take(inference.batch_size, 0.2, inference.max_batch_wait_ms / 1000)
                if batch:
                    self.analyzer.process(batch)
                elif self.batcher.finished:
                    return
        except Exception:
            logger.exception("analyser failed; stopping the detector")
            self._failed = True

    def _shutdown(self, analyser: threading.Thread, sources_ended: bool) -> None:
        if sources_ended:
            timeout = self.config.publisher.drain_timeout_s
            logger.info("every source has ended; delivering spooled events (up to %.0f s)", timeout)
            if not self.publisher.drain(timeout):
                logger.warning("some events are still undelivered; they stay spooled for the next start")
        self.stop.set()
        analyser.join(timeout=30)
        for worker in self.workers:
            worker.thread.join(timeout=10)
        if self.audio is not None:
            self.audio.join()
        self.publisher.stop()
        if self.operator is not None:
            self.operator.stop()
        self.log_status()
        logger.info("detector stopped")

    def operator_stats(self) -> dict:
        """What the operator endpoint adds to the monitor's figures: the runtime, publisher and heartbeats."""
        runtime = getattr(self.violence, "runtime", None)
        stats = getattr(self.publisher, "stats", None)
        counters = {
            "publisher_pending": getattr(self.publisher, "pending", 0),
            "heartbeats_sent_total": self.heartbeats.sent, "heartbeats_failed_total": self.heartbeats.failed,
            "tamper_reports_total": self.tamper.reports,
        }
        if stats is not None:
            counters.update(publisher_delivered_total=stats.delivered, publisher_rejected_total=stats.rejected)
        return {
            "runtime": {"name": runtime.name, "precision": runtime.precision, "describe": runtime.describe()}
            if runtime else None,
            "counters": counters,
        }

    def log_status(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            camera_id = worker.camera.id
            stats, capture = self.analyzer.stats[camera_id], self.sources[camera_id].stats
            with stats.lock:
                analysed, skipped, dropped, events, score = (
                    stats.analysed, stats.skipped_static, stats.dropped, stats.events, stats.last_score
                )
            since, before = self._previous_analysed.get(camera_id, (now, analysed))
            fps = (analysed - before) / (now - since) if now > since else 0.0
            self._previous_analysed[camera_id] = (now, analysed)
            logger.info(
                "camera %s: %s | analysed %.2f fps (%d total) | skipped by motion gate %d | dropped %d | "
                "last score %s | events %d | reconnects %d | down %d",
                camera_id, capture.state, fps, analysed, skipped, dropped,
                "-" if score is None else f"{score:.2f}", events, capture.reconnects, capture.down_events,
            )
        if self.audio is not None:
            self.audio.log_status()
        pending = getattr(self.publisher, "pending", 0)
        stats = getattr(self.publisher, "stats", None)
        if stats is not None:
            logger.info(
                "publisher: %d pending | %d delivered | %d rejected | %d failed attempts",
                pending, stats.delivered, stats.rejected, stats.failed_attempts,
            )


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGINT/SIGTERM ask for a clean stop; a second signal exits at once."""

    def handle(signum, _frame):
        logger.info("received %s; stopping (send it again to exit at once)", signal.Signals(signum).name)
        stop.set()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def configure_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logger.setLevel(level.upper())
    # transformers' per-load progress bars are noise in a service log.
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def run_detector(config_path: str, log_level: str = "INFO") -> int:
    """Load the config, build the worker and run it in the foreground; the shared body of both entry points."""
    configure_logging(log_level)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        logger.error("%s", exc)
        return EXIT_CONFIG
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        app = DetectorApp(config, stop=stop)
    except ModelError as exc:
        logger.error("%s", exc)
        return EXIT_MODELS
    return app.run()


def build_parser(prog: str = "python -m detection") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="NaariKavach CCTV detection worker.")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML or TOML file listing cameras and settings.")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="Log verbosity.")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_detector(args.config, args.log_level)
