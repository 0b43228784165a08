"""Tests for monai_angio.metrics.distance (boundary distances in mm)."""

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_erosion
from scipy.spatial.distance import cdist

from monai_angio.errors import AngioInputError
from monai_angio.metrics import average_surface_distance_mm, hausdorff_distance_mm, normalize_spacing


def _square(r, c, n=10, size=32):
    m = np.zeros((size, size), dtype=bool)
    m[r : r + n, c : c + n] = True
    return m


def _brute_force_asd(a, b, spacing):
    """Symmetric pooled ASD from boundary pixels (mask minus its erosion), independent of MONAI."""
    ea = np.argwhere(a & ~binary_erosion(a)) * np.asarray(spacing)
    eb = np.argwhere(b & ~binary_erosion(b)) * np.asarray(spacing)
    d = cdist(ea, eb)
    return np.concatenate([d.min(1), d.min(0)]).mean()


def test_hausdorff_shifted_squares_isotropic_and_anisotropic():
    a, b = _square(5, 5), _square(5, 8)  # shift 3 columns
    assert hausdorff_distance_mm(a, b, 0.5) == pytest.approx(1.5)
    assert hausdorff_distance_mm(a, b, (0.5, 2.0)) == pytest.approx(6.0)  # column spacing 2 mm
    c = _square(8, 5)  # shift 3 rows
    assert hausdorff_distance_mm(a, c, (0.5, 2.0)) == pytest.approx(1.5)
    assert hausdorff_distance_mm(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(3.0)  # default 1 mm
    assert hausdorff_distance_mm(a, a, 0.3) == 0.0


def test_hd95_and_directed():
    a = _square(5, 5)
    b = a.copy()
    b[20, 25] = True  # a single far outlier pixel in the prediction
    full = hausdorff_distance_mm(b, a, 1.0)
    assert full == pytest.approx(math.hypot(20 - 14, 25 - 14))
    assert hausdorff_distance_mm(b, a, 1.0, percentile=95) < 2.0
    # directed gt-side only: the gt is inside pred, so pred->gt is large and gt->pred is 0
    assert hausdorff_distance_mm(a, b, 1.0, directed=True) == 0.0


def test_average_surface_distance_by_hand_and_brute_force():
    a, b = _square(5, 5), _square(5, 8)
    # per direction: 54 px of distance over 36 boundary pixels = 1.5 px
    assert average_surface_distance_mm(a, b, 0.5) == pytest.approx(0.75)
    assert average_surface_distance_mm(a, b, 0.5, symmetric=False) == pytest.approx(0.75)
    sp = (0.5, 2.0)
    c = _square(9, 7, n=12)
    assert average_surface_distance_mm(a, c, sp) == pytest.approx(_brute_force_asd(a, c, sp), rel=1e-5)


def test_empty_masks_documented_values():
    e = np.zeros((16, 16), dtype=bool)
    s = _square(2, 2, n=4, size=16)
    assert math.isnan(hausdorff_distance_mm(e, e, 1.0))
    assert math.isinf(hausdorff_distance_mm(s, e, 1.0)) and math.isinf(hausdorff_distance_mm(e, s, 1.0))
    assert math.isnan(average_surface_distance_mm(e, e, 1.0))
    assert math.isinf(average_surface_distance_mm(e, s, 1.0))


def test_bad_input():
    a = _square(2, 2, size=16)
    with pytest.raises(AngioInputError, match="spacing"):
        hausdorff_distance_mm(a, a, (1.0, 0.0))
    with pytest.raises(AngioInputError, match="spacing"):
        hausdorff_distance_mm(a, a, (1.0, 1.0, 1.0))
    with pytest.raises(AngioInputError, match="2D"):
        hausdorff_distance_mm(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(AngioInputError):
        average_surface_distance_mm(a, a[:8])
    assert normalize_spacing(0.25) == (0.25, 0.25)
    assert normalize_spacing(torch.tensor([0.2, 0.3])) == pytest.approx((0.2, 0.3))
