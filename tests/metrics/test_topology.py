"""Analytic tests of clDice (centreline Dice) and the width excess along the centreline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.metrics import centerline_precision_sensitivity, cldice, dice, skeleton, width_excess_px


def _line(shape=(32, 48), row=10, c0=0, c1=40, width=1) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    m[row - width // 2 : row - width // 2 + width, c0:c1] = True
    return m


def test_identical_masks_score_one():
    tube = _line(width=5)
    tube[5:25, 20:25] = True  # a T-shaped "tree"
    assert cldice(tube, tube) == pytest.approx(1.0)
    assert cldice(torch.from_numpy(tube.astype(np.uint8))[None], tube) == pytest.approx(1.0)


def test_disjoint_masks_score_zero():
    a = _line(row=5, width=3)
    b = _line(row=25, width=3)
    assert cldice(a, b) == 0.0
    parts = centerline_precision_sensitivity(a, b)
    assert parts["tprec"] == 0.0 and parts["tsens"] == 0.0


def test_empty_conventions():
    z = np.zeros((16, 16), bool)
    assert cldice(z, z) == 1.0
    assert cldice(z, _line((16, 16), row=8, c1=10)) == 0.0
    assert cldice(_line((16, 16), row=8, c1=10), z) == 0.0


def test_half_covered_line_is_two_thirds():
    # one-pixel lines are their own skeletons: Tprec = 1 (the prediction lies in the truth), Tsens = 20/40
    gt = _line(c0=0, c1=40)
    pred = _line(c0=0, c1=20)
    np.testing.assert_array_equal(skeleton(gt), gt)
    parts = centerline_precision_sensitivity(pred, gt)
    assert parts["tprec"] == pytest.approx(1.0)
    assert parts["tsens"] == pytest.approx(0.5)
    assert parts["cldice"] == pytest.approx(2 / 3)
    assert parts["skeleton_gt_px"] == 40 and parts["skeleton_pred_px"] == 20


def test_spurious_vessel_halves_precision():
    gt = _line(row=10)
    pred = gt | _line(row=25)  # a second, false vessel of the same length
    parts = centerline_precision_sensitivity(pred, gt)
    assert parts["tprec"] == pytest.approx(0.5) and parts["tsens"] == pytest.approx(1.0)
    assert cldice(pred, gt) == pytest.approx(2 / 3)
    # symmetric roles: swapping the masks swaps precision and sensitivity
    assert cldice(gt, pred) == pytest.approx(2 / 3)


def test_thickness_does_not_matter():
    # a thick prediction around a thin truth: the true centreline is fully covered and the predicted one lies in
    # the truth but for the short corner spurs of a rectangle's skeleton; plain Dice punishes the width instead
    gt = _line(row=10, c0=4, c1=44, width=1)
    pred = _line(row=10, c0=4, c1=44, width=7)
    parts = centerline_precision_sensitivity(pred, gt)
    assert parts["tsens"] == 1.0 and parts["tprec"] > 0.9
    assert cldice(pred, gt) > 0.95 > 0.3 > dice(pred, gt)


def test_bad_input():
    with pytest.raises(AngioInputError):
        cldice(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(AngioInputError):
        cldice(np.full((4, 4), 0.5), np.zeros((4, 4)))


def test_width_excess_reads_wider_narrower_and_shifted_vessels() -> None:
    g = np.zeros((40, 60), bool)
    g[18:23, 5:55] = True  # a 5 px wide vessel
    assert width_excess_px(g, g) == 0.0
    wider = np.zeros_like(g)
    wider[17:24, 5:55] = True  # one pixel more on each side
    assert abs(width_excess_px(wider, g) - 2.0) < 0.2
    shifted = np.zeros_like(g)
    shifted[19:24, 5:55] = True  # same width, one pixel lower
    assert width_excess_px(shifted, g) == 0.0
    narrow_half = np.zeros_like(g)
    narrow_half[19:22, 5:30] = True  # 3 px wide, and only the left half: the missed half does not count
    assert abs(width_excess_px(narrow_half, g) + 2.0) < 0.3
    yy, xx = np.mgrid[:80, :80]
    dist = np.abs(yy - 0.6 * xx - 10) / np.hypot(1.0, 0.6)  # an oblique vessel
    assert abs(width_excess_px(dist <= 3.7, dist <= 3.0) - 1.4) < 0.25
    assert np.isnan(width_excess_px(np.zeros_like(g), g))
