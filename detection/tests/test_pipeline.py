"""The analyser's batching across cameras, the census only on events, and decoding only what gets analysed."""

import threading

import cv2
import numpy as np

from detection import capture as capture_module
from detection.capture import Frame, OpenCVSource
from detection.config import CameraConfig, CaptureSettings, DecisionSettings
from detection.events import PeopleCount
from detection.models.classifiers import Classifier
from detection.pipeline import Analyzer, FrameBatcher, Sample
from detection.publisher import Publisher
from detection.tests.factories import write_video


def camera(name, source="unused.mp4", **options):
    return CameraConfig(id=name, source=source, device_id=f"D-{name}", device_key="k", beacon_id="b", **options)


class BrightnessClassifier(Classifier):
    """Scores a frame by its brightness, so a score says which frame it belongs to; records every batch it gets."""

    labels = ("non-violence", "violence")

    def __init__(self):
        self.batches: list[list[float]] = []

    def predict(self, images):
        levels = [float(image.mean()) / 255 for image in images]
        self.batches.append(levels)
        return np.array([[1 - level, level] for level in levels], dtype=np.float32)


class CountingPeople:
    """The census, counting its calls and the frames it was shown."""

    def __init__(self):
        self.calls: list[list[np.ndarray]] = []

    def count(self, frames):
        self.calls.append(list(frames))
        return PeopleCount(0, 0, 0, "none")


class KeepingPublisher(Publisher):
    def __init__(self):
        self.events = []

    def send(self, event) -> None:
        self.events.append(event)


def flat(level: int) -> np.ndarray:
    return np.full((36, 48, 3), level, np.uint8)


def analyzer(names, classifier, people, publisher, **decision):
    settings = DecisionSettings(**{"threshold": 0.75, "window": 2, "cooldown_s": 120, **decision})
    return Analyzer({n: camera(n) for n in names}, classifier, people, publisher, settings)


def test_one_model_call_scores_frames_of_every_camera_and_each_camera_gets_its_own_score():
    names = ("north", "gate", "lobby")
    levels = {"north": 40, "gate": 130, "lobby": 220}
    batcher = FrameBatcher()
    for name in names:
        batcher.register(name, lossless=True, depth=4)
    stop = threading.Event()
    for ts in (0.0, 0.5):
        for name in names:
            # The gate saw no motion in its second frame: it is not scored, and must not shift the others' scores.
            moving = not (name == "gate" and ts == 0.5)
            batcher.put(Sample(Frame(name, flat(levels[name] + int(ts * 20)), ts, ts), moving), stop)
    classifier = BrightnessClassifier()
    worker = analyzer(names, classifier, CountingPeople(), KeepingPublisher())

    worker.process(batcher.take(8, 0.1, 0))

    assert len(classifier.batches) == 1 and len(classifier.batches[0]) == 5  # one call, three cameras
    assert {n: round(worker.stats[n].last_score * 255) for n in names} == {"north": 50, "gate": 130, "lobby": 230}
    assert {n: (worker.stats[n].analysed, worker.stats[n].skipped_static) for n in names} == {
        "north": (2, 0), "gate": (1, 1), "lobby": (2, 0)}


def test_with_more_cameras_than_a_batch_holds_the_next_batch_begins_with_those_left_out():
    names = [f"cam{i:02d}" for i in range(16)]
    batcher = FrameBatcher()
    for name in names:
        batcher.register(name, lossless=False, depth=2)
    stop, served = threading.Event(), []
    for ts in range(6):
        for name in names:  # every camera delivers a frame with motion per tick, as live cameras do
            batcher.put(Sample(Frame(name, flat(0), ts, ts), True), stop)
        served.extend(s.frame.camera_id for s in batcher.take(8, 0.1, 0))

    # Six batches of eight from sixteen cameras: every camera three times, none starved by its place in the list.
    assert {name: served.count(name) for name in names} == {name: 3 for name in names}


def test_the_census_runs_only_when_an_event_fires_and_only_on_that_cameras_evidence():
    people, publisher = CountingPeople(), KeepingPublisher()
    worker = analyzer(("quiet", "fight"), BrightnessClassifier(), people, publisher)
    for ts in range(12):
        # Every frame reaches the model; only the fight camera's scores (0.9) cross the threshold.
        worker.process([Sample(Frame("quiet", flat(60 + ts), ts, ts), True),
                        Sample(Frame("fight", flat(230 - ts), ts, ts), True)])

    assert worker.stats["quiet"].analysed == worker.stats["fight"].analysed == 12
    assert len(people.calls) == 1 and len(publisher.events) == 1  # once, not per analysed frame (cooldown after)
    assert publisher.events[0].camera_id == "fight"
    assert all(float(frame.mean()) > 200 for frame in people.calls[0])  # the fight camera's frames, not the quiet one's


REAL_CAPTURE = cv2.VideoCapture


class CountingCapture:
    """cv2.VideoCapture with its grab() and retrieve() calls counted."""

    opened: list["CountingCapture"] = []

    def __init__(self, *args):
        self.inner = REAL_CAPTURE(*args)
        self.grabs = self.retrieves = 0
        CountingCapture.opened.append(self)

    def grab(self):
        self.grabs += 1
        return self.inner.grab()

    def retrieve(self):
        self.retrieves += 1
        return self.inner.retrieve()

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_frames_between_analysed_ones_are_grabbed_but_never_converted(tmp_path, monkeypatch):
    video = write_video(tmp_path / "street.avi", [np.full((48, 64, 3), 4 * i, np.uint8) for i in range(50)], fps=25)
    monkeypatch.setattr(capture_module.cv2, "VideoCapture", CountingCapture)
    CountingCapture.opened.clear()
    source = OpenCVSource(camera("street", str(video), analysis_fps=2), CaptureSettings(), threading.Event())

    frames = list(source.frames())

    (capture,) = CountingCapture.opened
    assert [round(f.ts, 2) for f in frames] == [0.0, 0.52, 1.0, 1.52]  # 2 fps of a 25 fps file (frames 0.04 s apart)
    # Colour conversion and the copy out of the decoder are paid for the 4 sampled frames only, not all 50.
    assert capture.grabs >= 50 and capture.retrieves == 4
    assert source.stats.frames_read == 50 and source.stats.frames_sampled == 4
