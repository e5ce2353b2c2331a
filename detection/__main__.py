"""`python -m detection [run|convert|calibrate] --config detector.yaml`: the worker without Django."""

import sys

from detection.cli import main

if __name__ == "__main__":
    sys.exit(main())
