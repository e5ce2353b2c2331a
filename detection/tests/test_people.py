"""Who is present: person crops go to the gender model, and a woman at the scene raises the event's priority."""

import cv2
import numpy as np
import torch

from detection.config import CameraConfig
from detection.decision import ScoredFrame, Trigger
from detection.events import PeopleCount, build_event
from detection.models.classifiers import Classifier
from detection.models.runtime import Placement
from detection.persons import Box, HogPersonDetector, PeopleCounter, PersonDetector, TransformersPersonDetector
from detection.tests.factories import (
    PEOPLE_FRAME_SIZE,
    background,
    draw_person,
    people_scene,
    save_person_detector_checkpoint,
)

CPU = Placement(torch.device("cpu"))

RED, BLUE = (0, 0, 230), (230, 0, 0)  # BGR


class ColourGender(Classifier):
    """Stands in for the gender model: "female" for reddish crops, "male" for bluish ones."""

    labels = ("female", "male")

    def __init__(self):
        self.seen = []

    def predict(self, images):
        self.seen.extend(images)
        red = np.array([float(i[..., 2].mean() > i[..., 0].mean()) for i in images])
        return np.stack([red, 1 - red], axis=1)


class ScriptedDetector(PersonDetector):
    def __init__(self, per_frame):
        self.per_frame = list(per_frame)

    def detect(self, frame):
        return self.per_frame.pop(0)


def people_frame(colours):
    frame = np.zeros((120, 160, 3), np.uint8)
    boxes = []
    for i, colour in enumerate(colours):
        x = 10 + 50 * i
        cv2.rectangle(frame, (x, 20), (x + 30, 100), colour, -1)
        boxes.append(Box(x, 20, 30, 80, 1.0))
    return frame, boxes


def test_each_detected_person_is_classified_on_their_own_crop():
    frame, boxes = people_frame([RED, BLUE, BLUE])
    gender = ColourGender()
    count = PeopleCounter(ScriptedDetector([boxes]), gender).count([frame])
    assert count == PeopleCount(people=3, female=1, male=2, basis="person_crops", confidence=1.0)
    assert [crop.shape[:2] for crop in gender.seen] == [(96, 36)] * 3  # each box plus a 10% margin


def test_nothing_is_said_about_gender_when_no_person_is_found():
    frame, _ = people_frame([RED])
    gender = ColourGender()
    count = PeopleCounter(ScriptedDetector([[]]), gender).count([frame])
    assert count == PeopleCount(people=0, female=0, male=0, basis="none")
    assert gender.seen == [] and not count.woman_present


def test_with_nobody_found_the_description_makes_no_claim_about_who_is_there():
    event = build_event(CAMERA, trigger(), PeopleCount(0, 0, 0, "none"))
    assert event.description == "Violence detected on camera gate (score 0.93)."
    assert event.details["priority_hint"] == "high" and event.details["woman_present"] is False


def test_the_census_uses_the_evidence_frame_that_shows_the_most_people():
    one, one_box = people_frame([BLUE])
    two, two_boxes = people_frame([RED, BLUE])
    count = PeopleCounter(ScriptedDetector([one_box, two_boxes]), ColourGender()).count([one, two])
    assert (count.people, count.female, count.male) == (2, 1, 1)


def test_no_more_crops_than_the_limit_reach_the_gender_model():
    frame, boxes = people_frame([RED, BLUE, RED])
    gender = ColourGender()
    count = PeopleCounter(ScriptedDetector([boxes]), gender, max_people=2).count([frame])
    assert count.people == 2 and len(gender.seen) == 2


def test_the_hog_detector_finds_no_one_in_an_empty_corridor():
    assert HogPersonDetector().detect(cv2.resize(background(), (640, 480))) == []


def test_the_hog_detector_finds_a_standing_person_and_boxes_them():
    frame = np.full((480, 640, 3), 180, np.uint8)
    draw_person(frame, centre_x=400, top=120, height=220)
    (box,) = HogPersonDetector().detect(frame)
    # HOG's box frames the person with a margin: the figure's middle lies inside it, and it is about their size.
    assert box.x < 400 < box.x + box.w and box.y < 230 < box.y + box.h
    assert 180 <= box.h <= 440 and box.score > 0.3


def test_the_hog_detector_counts_two_people_fighting_once_each():
    fighting = people_scene(static_before=0, fighting=6, static_after=0)
    middle = PEOPLE_FRAME_SIZE[0] // 2
    for frame in fighting:
        boxes = HogPersonDetector().detect(frame)
        assert len(boxes) == 2
        assert sorted(b.x + b.w // 2 < middle for b in boxes) == [False, True]  # one on each side


def test_a_transformers_detector_reports_its_person_boxes_once_each_in_frame_pixels(tmp_path):
    directory = save_person_detector_checkpoint(tmp_path / "yolos", person_logit=8.0)
    boxes = TransformersPersonDetector(str(directory), CPU).detect(np.zeros((120, 160, 3), np.uint8))
    assert len(boxes) == 1  # five detection tokens agree on one box: one person, not five
    assert (boxes[0].x, boxes[0].y, boxes[0].w, boxes[0].h) == (40, 30, 80, 60)
    assert boxes[0].score > 0.9


def test_a_transformers_detector_ignores_objects_that_are_not_people(tmp_path):
    directory = save_person_detector_checkpoint(tmp_path / "yolos", person_logit=-8.0)
    assert TransformersPersonDetector(str(directory), CPU).detect(np.zeros((120, 160, 3), np.uint8)) == []


def trigger():
    image = background()
    frames = tuple(ScoredFrame(1.0, 1_700_000_000.0, s, image) for s in (0.97, 0.91))
    return Trigger(confidence=0.93, peak=0.97, evidence=frames, ts=1.0, wall_time=1_700_000_000.0)


CAMERA = CameraConfig(id="gate", source=0, device_id="CAM-01", device_key="k", beacon_id="main-gate")


def test_a_woman_at_the_scene_makes_the_event_critical():
    event = build_event(CAMERA, trigger(), PeopleCount(3, 1, 2, "person_crops"))
    assert event.details["priority_hint"] == "critical" and event.details["woman_present"] is True
    assert "1 female" in event.description and "woman" not in event.description.lower()


def test_without_a_woman_the_event_is_high_priority():
    event = build_event(CAMERA, trigger(), PeopleCount(2, 0, 2, "person_crops"))
    assert event.details["priority_hint"] == "high" and event.details["woman_present"] is False


def test_the_event_carries_score_counts_and_decodable_evidence_jpegs():
    event = build_event(CAMERA, trigger(), PeopleCount(3, 1, 2, "person_crops", 0.8123))
    assert (event.beacon_id, event.device_id, event.confidence_score) == ("main-gate", "CAM-01", 0.93)
    assert event.description == (
        "Violence detected on camera gate (score 0.93): 3 people seen, detector confidence 0.81; "
        "appearance classified as 1 female, 2 male."
    )
    assert {k: event.details[k] for k in ("score", "people", "female", "male")} == {
        "score": 0.93, "people": 3, "female": 1, "male": 2,
    }
    assert event.details["frame_scores"] == [0.97, 0.91]
    assert len(event.images) == 2
    decoded = cv2.imdecode(np.frombuffer(event.images[0], np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == background().shape
