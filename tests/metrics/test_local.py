"""Tests for monai_angio.metrics.local."""

import numpy as np
import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.metrics import f1, local_f1, local_window


def test_window_centred_and_clipped():
    assert local_window((64, 64), (32, 32), box=16) == (slice(24, 40), slice(24, 40))
    assert local_window((64, 64), (3, 60), box=16) == (slice(0, 11), slice(52, 64))
    assert local_window((64, 64), (31.6, 10.2), box=5) == (slice(30, 35), slice(8, 13))
    # box larger than the image -> whole image
    assert local_window((20, 30), (10, 15), box=128) == (slice(0, 20), slice(0, 30))
    with pytest.raises(AngioInputError, match="outside"):
        local_window((64, 64), (64, 3), box=16)
    with pytest.raises(AngioInputError):
        local_window((64, 64), (3, 3), box=0)


def test_local_f1_only_counts_the_window():
    gt = np.zeros((64, 64), dtype=bool)
    gt[30:34, :] = True  # horizontal vessel
    pred = gt.copy()
    pred[30:34, 0:20] = False  # miss the left part (outside the window around col 48)
    center = (32, 48)
    assert local_f1(pred, gt, center, box=16) == 1.0
    assert f1(pred, gt) < 1.0
    # window on the left half: rows 24..40, cols 0..16 (clipped from -4) -> pred empty there, gt 4x16 px
    assert local_f1(pred, gt, (32, 4), box=16) == 0.0
    # window cols 12..28: gt 4x16 = 64, pred keeps cols 20..27 = 4x8 = 32 -> F1 = 64/96
    assert local_f1(torch.from_numpy(pred), torch.from_numpy(gt), (32, 20), box=16) == pytest.approx(64 / 96)


def test_local_f1_empty_window():
    gt = np.zeros((32, 32), dtype=bool)
    gt[0:2, 0:2] = True
    pred = np.zeros((32, 32), dtype=bool)
    assert local_f1(pred, gt, (25, 25), box=8) == 1.0  # nothing in the window for either
