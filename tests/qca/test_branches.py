"""Clinical relevance filter: branches below 2 mm at their origin are dropped with their sub-trees."""

import numpy as np
import pytest

from monai_angio.errors import AngioInputError
from monai_angio.qca import Calibration, filter_major_branches
from tests.qca.analytic import segment_tube

SP = 0.1  # mm / px: a 3 mm trunk is 30 px wide


def _tree(size=128):
    shape = (size, size)
    trunk = segment_tube(shape, (64.3, -5), (64.3, 133), 3.0 / SP)
    thin = segment_tube(shape, (64.3, 40), (2, 12), 1.5 / SP)  # 1.5 mm side branch, up-left
    thin_child = segment_tube(shape, (20, 20.7), (20, -5), 1.2 / SP)  # sub-branch of the thin one
    major = segment_tube(shape, (64.3, 85), (127, 120), 2.5 / SP)  # 2.5 mm side branch, down-right
    return trunk, thin, thin_child, major


def test_thin_branch_dropped_major_kept():
    trunk, thin, thin_child, major = _tree()
    mask = trunk | thin | thin_child | major
    lab = mask.astype(np.uint8)
    lab[56:73, 0:3] = 2  # catheter stub at the left border marks the ostium
    out, info = filter_major_branches(lab, Calibration(SP, "user"), 2.0, return_info=True)
    only_thin = thin & ~trunk & ~major
    far_thin = only_thin.copy()
    far_thin[40:, :] = False  # away from the trunk's lumen
    assert out[trunk].mean() > 0.97
    assert out[major & ~trunk].mean() > 0.95
    assert out[far_thin].mean() < 0.05
    assert out[thin_child & ~thin].mean() < 0.05
    diams = sorted(b["origin_diameter_mm"] for b in info["branches"] if b["length_px"] > 20)
    assert any(abs(d - 1.5) < 0.25 for d in diams) and any(abs(d - 2.5) < 0.25 for d in diams)
    assert np.hypot(info["root_rc"][0] - 64.3, info["root_rc"][1]) < 20


def test_threshold_and_calibration_scale():
    trunk, thin, _, major = _tree()
    mask = trunk | thin | major
    # at 1.2 mm threshold the 1.5 mm branch is clinically relevant
    out = filter_major_branches(mask, 0.1, min_origin_diameter_mm=1.2)
    assert out[thin & ~trunk].mean() > 0.9
    # twice the mm/px: every vessel is twice as wide in mm, the thin one (3 mm) is kept at 2 mm
    out = filter_major_branches(mask, 0.2, min_origin_diameter_mm=2.0)
    assert out[thin & ~trunk].mean() > 0.9


def test_empty_mask():
    with pytest.raises(AngioInputError, match=r"lab\.png: the artery mask is empty"):
        filter_major_branches(np.zeros((32, 32), np.uint8), 0.2, filename="lab.png")


def test_vessel_continues_through_a_side_branch_junction(monkeypatch):
    """A 3 mm vessel narrowed to 1.6 mm from just after a side branch's junction to its end: it is still the same
    major vessel (judged at its own origin), so it is kept; the 1.2 mm side branch is dropped. Judging the
    continuation again at the junction, as before, drops the rest of the vessel with its lesion."""
    shape = (128, 128)
    trunk = segment_tube(shape, (64.3, -5), (64.3, 133), lambda u: np.where(u < 60, 30.0, 16.0))
    side = segment_tube(shape, (64.3, 40), (2, 12), 1.2 / SP)
    lab = (trunk | side).astype(np.uint8)
    lab[56:73, 0:3] = 2
    distal = trunk.copy()
    distal[:, :75] = False
    far_side = side & ~trunk
    far_side[40:, :] = False
    out = filter_major_branches(lab, Calibration(SP, "user"), 2.0)
    assert out[distal].mean() > 0.95
    assert out[far_side].mean() < 0.05
    import monai_angio.qca.branches as branches

    monkeypatch.setattr(branches, "CONTINUATION_FLOOR", 10.0)  # no continuation: judged again at the junction
    assert filter_major_branches(lab, Calibration(SP, "user"), 2.0)[distal].mean() < 0.05
