"""Shared pytest configuration: deterministic, single-threaded torch and a headless matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed every test the same way so failures reproduce."""
    torch.manual_seed(0)
    np.random.seed(0)
