"""The ``tachyon`` command installed by the wheel: the same command line as the Rust binary."""

from __future__ import annotations

import sys

from tachyon import _native


def main() -> None:
    """Runs ``tachyon`` with this process's arguments and exits with its code."""
    sys.exit(_native.cli(["tachyon", *sys.argv[1:]]))
