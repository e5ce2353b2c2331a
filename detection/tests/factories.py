"""Test material made on the spot: synthetic scenes and videos, tiny checkpoints in the real layouts, a recording API."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import torch

FRAME_SIZE = (160, 120)  # width, height: small enough to keep every test fast


def background(width: int = FRAME_SIZE[0], height: int = FRAME_SIZE[1], seed: int = 0) -> np.ndarray:
    """A textured, static corridor-like BGR image."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), 90, np.uint8)
    for _ in range(12):
        x, y = rng.integers(0, width - 20), rng.integers(0, height - 20)
        colour = tuple(int(c) for c in rng.integers(40, 200, 3))
        cv2.rectangle(image, (int(x), int(y)), (int(x) + 20, int(y) + 15), colour, -1)
    return image


def fight_frame(index: int, base: np.ndarray) -> np.ndarray:
    """Two figures lunging at each other: large, fast motion in the middle of the frame."""
    frame = base.copy()
    height, width = frame.shape[:2]
    swing = int(18 * np.sin(index * 1.3))
    for offset, colour in ((-20, (30, 30, 220)), (20, (220, 40, 30))):
        x = width // 2 + offset + (swing if offset < 0 else -swing)
        cv2.rectangle(frame, (x - 10, height // 4), (x + 10, height * 3 // 4), colour, -1)
    return frame


def scene(static_before: int, fighting: int, static_after: int, seed: int = 0) -> list[np.ndarray]:
    base = background(seed=seed)
    return (
        [base.copy() for _ in range(static_before)]
        + [fight_frame(i, base) for i in range(fighting)]
        + [base.copy() for _ in range(static_after)]
    )


def draw_person(image: np.ndarray, centre_x: int, top: int, height: int, colour=(40, 40, 40)) -> np.ndarray:
    """A filled standing figure (head, shoulders, torso, arms, legs), height pixels tall, drawn in place.

    Its outline has the gradients OpenCV's HOG people detector was trained on, so the detector finds it.
    """
    u = height / 128
    head = int(9 * u)
    cv2.circle(image, (centre_x, top + head), head, colour, -1)
    neck, shoulder, hip = top + 2 * head, int(18 * u), top + 2 * head + int(50 * u)
    torso = [(centre_x - shoulder, neck + int(4 * u)), (centre_x + shoulder, neck + int(4 * u)),
             (centre_x + int(14 * u), hip), (centre_x - int(14 * u), hip)]
    cv2.fillPoly(image, [np.array(torso, np.int32)], colour)
    for side in (-1, 1):
        cv2.line(image, (centre_x + side * shoulder, neck + int(6 * u)),
                 (centre_x + side * (shoulder + int(4 * u)), neck + int(48 * u)), colour, max(1, int(7 * u)))
        cv2.line(image, (centre_x + side * int(8 * u), hip), (centre_x + side * int(11 * u), top + height),
                 colour, max(1, int(10 * u)))
    return image


PEOPLE_FRAME_SIZE = (480, 360)  # width, height: room for people tall enough for the HOG detector (128 px and up)


def people_fight_frame(index: int, base: np.ndarray) -> np.ndarray:
    """Two people 200 px tall swaying towards and away from each other in the middle of the frame."""
    frame = base.copy()
    swing = int(25 * np.sin(index * 1.3))
    width = frame.shape[1]
    draw_person(frame, width // 2 - 90 + swing, 60, 200, (40, 40, 40))
    draw_person(frame, width // 2 + 90 - swing, 60, 200, (60, 30, 120))
    return frame


def people_scene(static_before: int, fighting: int, static_after: int, seed: int = 0) -> list[np.ndarray]:
    """An empty corridor, then two people fighting in it, then the empty corridor again."""
    base = cv2.resize(background(seed=seed), PEOPLE_FRAME_SIZE, interpolation=cv2.INTER_NEAREST)
    return (
        [base.copy() for _ in range(static_before)]
        + [people_fight_frame(i, base) for i in range(fighting)]
        + [base.copy() for _ in range(static_after)]
    )


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """MJPEG in AVI: every frame stands alone, so what is decoded is what was written, give or take JPEG noise."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


# Tiny checkpoints --------------------------------------------------------------------------------

TINY = {"hidden": 32, "depth": 2, "heads": 2, "mlp": 64, "patch": 8, "image": 32}


def timm_vit_state_dict(seed: int = 0, violence_bias: float | None = None) -> dict[str, torch.Tensor]:
    """Random weights named as timm names a ViT; violence_bias makes the head say "violence" for every image."""
    generator = torch.Generator().manual_seed(seed)
    hidden, mlp, patch, image = TINY["hidden"], TINY["mlp"], TINY["patch"], TINY["image"]

    def rand(*shape):
        return torch.randn(*shape, generator=generator) * 0.2

    state = {
        "cls_token": rand(1, 1, hidden),
        "pos_embed": rand(1, (image // patch) ** 2 + 1, hidden),
        "patch_embed.proj.weight": rand(hidden, 3, patch, patch),
        "patch_embed.proj.bias": rand(hidden),
        "norm.weight": 1 + rand(hidden),
        "norm.bias": rand(hidden),
        "head.weight": rand(2, hidden),
        "head.bias": rand(2),
    }
    for i in range(TINY["depth"]):
        for name, shape in (
            ("norm1", (hidden,)), ("attn.qkv", (3 * hidden, hidden)), ("attn.proj", (hidden, hidden)),
            ("norm2", (hidden,)), ("mlp.fc1", (mlp, hidden)), ("mlp.fc2", (hidden, mlp)),
        ):
            state[f"blocks.{i}.{name}.weight"] = (1 + rand(*shape)) if name.startswith("norm") else rand(*shape)
            state[f"blocks.{i}.{name}.bias"] = rand(shape[0])
    if violence_bias is not None:
        state["head.weight"] = torch.zeros(2, hidden)
        state["head.bias"] = torch.tensor([0.0, violence_bias])
    return state


def save_violence_checkpoint(
    directory: Path, state: dict[str, torch.Tensor], weights: str = "pytorch_model.bin", config: dict | None = None
) -> Path:
    """The real repository's layout: a config.json without model_type or labels, a preprocessor config, timm weights."""
    directory.mkdir(parents=True, exist_ok=True)
    declared = {
        "architectures": ["ViTForImageClassification"], "hidden_size": TINY["hidden"],
        "num_hidden_layers": TINY["depth"], "num_attention_heads": TINY["heads"], "intermediate_size": TINY["mlp"],
        "image_size": TINY["image"], "patch_size": TINY["patch"], "num_channels": 3, "num_labels": 2,
        "layer_norm_eps": 1e-12,
    }
    (directory / "config.json").write_text(json.dumps(declared if config is None else config))
    (directory / "preprocessor_config.json").write_text(json.dumps({
        "do_normalize": True, "do_resize": True, "do_rescale": True, "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5], "size": {"height": TINY["image"], "width": TINY["image"]},
        "image_processor_type": "ViTImageProcessor",
    }))
    if weights.endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(directory / weights))
    else:
        torch.save(state, directory / weights)
    return directory


# Old transformers releases (and the published gender checkpoint) spell ViT's parameters like this.
LEGACY_VIT_NAMES = (
    ("vit.layers.", "vit.encoder.layer."), ("attention.q_proj", "attention.attention.query"),
    ("attention.k_proj", "attention.attention.key"), ("attention.v_proj", "attention.attention.value"),
    ("attention.o_proj", "attention.output.dense"), ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense"),
)


def gender_model(seed: int = 0, female_bias: float | None = None):
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(seed)
    config = ViTConfig(
        hidden_size=TINY["hidden"], num_hidden_layers=TINY["depth"], num_attention_heads=TINY["heads"],
        intermediate_size=TINY["mlp"], image_size=TINY["image"], patch_size=TINY["patch"], num_labels=2,
        id2label={0: "female", 1: "male"}, label2id={"female": 0, "male": 1},
    )
    model = ViTForImageClassification(config).eval()
    if female_bias is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor([female_bias, 0.0]))
    return model


def save_gender_checkpoint(directory: Path, model, legacy_names: bool = False, drop: str | None = None) -> Path:
    """save_pretrained; or, with legacy_names, the older pytorch_model.bin spelling the published model uses."""
    directory.mkdir(parents=True, exist_ok=True)
    if not legacy_names and drop is None:
        model.save_pretrained(directory)
        return directory
    model.config.save_pretrained(directory)
    state = {}
    for key, value in model.state_dict().items():
        for new, old in LEGACY_VIT_NAMES if legacy_names else ():
            key = key.replace(new, old)
        state[key] = value.clone()
    if drop is not None:
        state = {k: v for k, v in state.items() if drop not in k}
    torch.save(state, directory / "pytorch_model.bin")
    return directory


# A recording stand-in for the API ----------------------------------------------------------------


@dataclass
class RecordedRequest:
    path: str
    headers: dict
    fields: dict
    images: list[bytes]
    files: dict = field(default_factory=dict)  # other file parts by field name: (file name, content type, bytes)


@dataclass
class FakeApi:
    """An HTTP server that records multipart posts and answers with scripted statuses (201 once the script runs out)."""

    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    heartbeats: list[dict] = field(default_factory=list)  # JSON bodies of heartbeats, kept apart from reports
    heartbeat_answer: dict = field(default_factory=lambda: {"cameras": {}, "unknown_cameras": []})

    def __post_init__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/devices/heartbeat/"):
                    api.heartbeats.append({"authorization": self.headers.get("Authorization"), **json.loads(body)})
                    payload = json.dumps(api.heartbeat_answer).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if api.delay_s:
                    threading.Event().wait(api.delay_s)
                api.requests.append(_parse_multipart(self.path, dict(self.headers), body))
                status = api.statuses.pop(0) if api.statuses else 201
                payload = json.dumps(
                    {"status": "incident_created", "incident_id": f"inc-{len(api.requests)}"} if status < 300
                    else {"error": f"scripted {status}"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _parse_multipart(path: str, headers: dict, body: bytes) -> RecordedRequest:
    content_type = next(v for k, v in headers.items() if k.lower() == "content-type")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields, images, files = {}, [], {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "images":
            images.append(part.get_payload(decode=True))
        elif part.get_filename():
            files[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        else:
            fields[name] = part.get_payload(decode=True).decode()
    return RecordedRequest(path, headers, fields, images, files)


def save_person_detector_checkpoint(directory: Path, person_logit: float, box=(0.5, 0.5, 0.5, 0.5)) -> Path:
    """A tiny YOLOS whose every detection token reports the same box (cx, cy, w, h as fractions), as a person or not."""
    from transformers import YolosConfig, YolosForObjectDetection, YolosImageProcessor

    config = YolosConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=[64, 64],
        patch_size=16, num_detection_tokens=5, num_labels=2, id2label={0: "N/A", 1: "person"},
        label2id={"N/A": 0, "person": 1},
    )
    model = YolosForObjectDetection(config).eval()
    with torch.no_grad():
        classes, boxes = model.class_labels_classifier.layers[-1], model.bbox_predictor.layers[-1]
        classes.weight.zero_()
        classes.bias.copy_(torch.tensor([0.0, person_logit, 0.0]))  # N/A, person, no-object
        boxes.weight.zero_()
        boxes.bias.copy_(torch.logit(torch.tensor(box)))
    model.save_pretrained(directory)
    YolosImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(directory)
    return directory
