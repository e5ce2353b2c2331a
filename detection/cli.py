"""`python -m detection [run|convert|calibrate] --config detector.yaml`: the worker and its two preparation steps."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Sequence

from detection.app import EXIT_CONFIG, EXIT_MODELS, EXIT_OK, configure_logging, install_signal_handlers, run_detector
from detection.config import ConfigError, DetectorConfig, load_config
from detection.models.errors import ModelError

logger = logging.getLogger("detection")

EXIT_NO_FRAMES = 4


def convert_models(config: DetectorConfig) -> int:
    """Fill the model cache ahead of time, so a camera host can run the converted models without torch."""
    from detection.models.build import CONVERTED, ModelBuilder, installed, load_models

    builder = ModelBuilder(config.inference, config.decision.threshold, config.models.cache_dir)
    runtimes = [runtime for runtime in CONVERTED if installed(runtime)]
    violence = builder.open("violence", config.models.violence)
    for files in (violence, builder.open("gender", config.models.gender)):
        for runtime in runtimes:
            directory, _ = builder.converted(files, runtime)
            logger.info("%s model for %s: %s", files.role, runtime, directory)
    calibration = builder.calibration()
    if calibration is None:
        logger.warning("no calibration frames in %s, so no int8 models were made (run `python -m detection "
                       "calibrate` first for int8)", config.inference.calibration_dir)
    for runtime in runtimes if calibration else ():
        builder.accepted_int8(violence, runtime)
    # What this machine would run, measured and cached; a camera host with another CPU measures its own.
    loaded = load_models(config)
    logger.info("on this machine the worker would run %s in %s (%s)", loaded.choice.runtime,
                loaded.choice.precision, loaded.choice.reason)
    logger.info("model cache %s: %s", builder.cache.root, ", ".join(builder.cache.entries()))
    return EXIT_OK


def calibrate(config: DetectorConfig, frames: int, max_seconds: float) -> int:
    from detection.calibrate import collect_calibration_frames

    stop = threading.Event()
    install_signal_handlers(stop)
    counts = collect_calibration_frames(config, frames, max_seconds, stop=stop)
    logger.info("calibration frames in %s: %s", config.inference.calibration_dir,
                ", ".join(f"{camera} {count}" for camera, count in counts.items()))
    return EXIT_OK if sum(counts.values()) else EXIT_NO_FRAMES


def build_parser(prog: str = "python -m detection") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="NaariKavach CCTV detection worker.")
    commands = parser.add_subparsers(dest="command")
    for name, help_text in (
        ("run", "Run the worker (the default when no command is given)."),
        ("convert", "Convert the models for OpenVINO and ONNX Runtime into inference.cache_dir (needs torch)."),
        ("calibrate", "Collect frames from every camera into inference.calibration_dir for int8 quantization."),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--config", required=True, help="YAML or TOML file listing cameras and settings.")
        command.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                             help="Log verbosity.")
        if name == "calibrate":
            command.add_argument("--frames", type=int, default=200, help="Frames to keep per camera (default 200).")
            command.add_argument("--max-seconds", type=float, default=600,
                                 help="Stop collecting after this long even if cameras saw too little motion.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "convert", "calibrate", "-h", "--help"):
        argv = ["run", *argv]  # `python -m detection --config ...` runs the worker, as it always has
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run_detector(args.config, args.log_level)
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        logger.error("%s", exc)
        return EXIT_CONFIG
    try:
        if args.command == "convert":
            return convert_models(config)
        return calibrate(config, args.frames, args.max_seconds)
    except ModelError as exc:
        logger.error("%s", exc)
        return EXIT_MODELS
