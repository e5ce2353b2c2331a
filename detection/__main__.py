"""`python -m detection --config detector.yaml`: the worker without Django."""

import sys

from detection.app import main

if __name__ == "__main__":
    sys.exit(main())
