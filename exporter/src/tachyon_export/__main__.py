"""`python -m tachyon_export MODEL.keras MODEL.onnx`."""

import sys

from .cli import main

sys.exit(main())
