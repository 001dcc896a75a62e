"""Fixtures of the Python package's tests: the repository, the shared reference models, tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_models() -> Path:
    p = REPO.parent / "shared" / "models"
    if not p.is_dir():
        pytest.skip("skipped: ../shared/models is absent (the reference models live outside this repository)")
    return p


@pytest.fixture(scope="session")
def verilator() -> None:
    if shutil.which("verilator") is None:
        pytest.skip("skipped: verilator is not on PATH (apt-get install -y verilator)")
