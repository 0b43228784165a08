"""Shared pytest configuration: deterministic, single-threaded torch, a headless matplotlib, a private cache."""

import os

import tempfile  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")
# ONNX exports built by the tests go to a private cache, never the user's ~/.cache
os.environ["MONAI_ANGIO_CACHE"] = tempfile.mkdtemp(prefix="monai-angio-test-cache-")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed every test the same way so failures reproduce."""
    torch.manual_seed(0)
    np.random.seed(0)
