"""Tests for monai_angio.metrics.components."""

import numpy as np
import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.metrics import connected_component_count, mask_separation_error


def test_counts_with_connectivity():
    m = np.zeros((16, 16), dtype=np.uint8)
    m[1:4, 1:4] = 1
    m[4, 4] = 1  # touches the square only diagonally
    m[10:12, 8:15] = 1
    assert connected_component_count(m, connectivity=2) == 2
    assert connected_component_count(m, connectivity=1) == 3
    assert connected_component_count(np.zeros((8, 8))) == 0
    assert connected_component_count(torch.from_numpy(m)[None]) == 2
    with pytest.raises(AngioInputError):
        connected_component_count(m, connectivity=3)


def test_fragmentation_error():
    gt = np.zeros((32, 32), dtype=bool)
    gt[15:17, 2:30] = True  # one vessel
    pred = gt.copy()
    pred[:, 10] = False
    pred[:, 20] = False  # broken in three pieces
    assert mask_separation_error(pred, gt) == 2
    assert mask_separation_error(pred, gt, signed=True) == 2
    assert mask_separation_error(gt, pred, signed=True) == -2
    assert mask_separation_error(gt, gt) == 0
    with pytest.raises(AngioInputError):
        mask_separation_error(gt, gt[:16])
