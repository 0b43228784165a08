"""Clinical relevance filter: branches below 2 mm at their origin are dropped with their sub-trees."""

import numpy as np
import pytest

from monai_angio.errors import AngioInputError
from monai_angio.qca import Calibration, filter_major_branches
from tests.qca.analytic import segment_tube, tree_image

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


def test_taper_at_start_reads_a_tapering_branch_where_its_window_starts():
    """A branch tapering 0.05 px/px with a 50 % narrowing in the window: the line fit without the narrowing gives the
    diameter at the window start (the upper quartile reads it about a quarter of the way in)."""
    from monai_angio.qca.branches import taper_at_start

    s = np.arange(10.0, 51.0)
    d = 10.0 - 0.05 * s
    d[(s >= 30) & (s <= 36)] *= 0.5
    assert taper_at_start(s, d, 10.0) == pytest.approx(9.5, abs=0.05)
    assert np.percentile(d, 75) < 9.2  # what the upper quartile alone reads
    assert taper_at_start(s, 8.0 + 0.05 * s, 10.0) is None  # widening: nothing to extrapolate
    assert taper_at_start(s[:7], d[:7], 10.0) is None  # too few samples
    steep = 10.0 - 0.5 * s  # capped at 1.25 x the upper quartile
    assert taper_at_start(s, steep, 0.0) == pytest.approx(1.25 * np.percentile(steep, 75))


def test_bifurcation_into_equal_daughters_keeps_both(monkeypatch):
    """A 3 mm trunk splits into two 1.8 / 1.85 mm daughters: both continue the trunk (which one looks wider is
    measurement noise), so both are kept; a 1.0 mm daughter beside a 1.85 mm one is a side branch and is dropped."""
    shape = (128, 128)
    trunk = segment_tube(shape, (64.3, -5), (64.3, 60), 3.0 / SP)
    up = segment_tube(shape, (64.3, 60), (0, 127), 1.8 / SP)
    down = segment_tube(shape, (64.3, 60), (127, 127), 1.85 / SP)
    far = np.zeros(shape, bool)
    far[:, 90:] = True
    lab = (trunk | up | down).astype(np.uint8)
    lab[56:73, 0:3] = 2
    out = filter_major_branches(lab, Calibration(SP, "user"), 2.0)
    assert out[up & far].mean() > 0.95 and out[down & far].mean() > 0.95
    import monai_angio.qca.branches as branches

    with monkeypatch.context() as mp:  # only the widest daughter continues: the other is judged and dropped
        mp.setattr(branches, "BIFURCATION_RATIO", 1.0)
        out = filter_major_branches(lab, Calibration(SP, "user"), 2.0)
        assert out[up & far].mean() < 0.05 and out[down & far].mean() > 0.95
    thin = segment_tube(shape, (64.3, 60), (0, 127), 1.0 / SP)
    lab = (trunk | thin | down).astype(np.uint8)
    lab[56:73, 0:3] = 2
    out = filter_major_branches(lab, Calibration(SP, "user"), 2.0)
    assert out[down & far].mean() > 0.95 and out[thin & far & ~down].mean() < 0.05


def test_the_straight_daughter_continues_the_parent(monkeypatch):
    """A 3 mm vessel goes straight on at 1.7 mm after a wider 2.6 mm branch leaves at 60 degrees: the straight
    daughter is the same vessel (traced through the junction as an angiographer follows it), so it is kept although
    it is below 2 mm and not the widest; judged by width alone it is dropped."""
    shape = (128, 128)
    trunk = segment_tube(shape, (40.3, -5), (40.3, 60), 3.0 / SP)
    straight = segment_tube(shape, (40.3, 60), (40.3, 133), 1.7 / SP)
    side = segment_tube(shape, (40.3, 60), (140, 118), 2.6 / SP)
    lab = (trunk | straight | side).astype(np.uint8)
    lab[32:49, 0:3] = 2
    distal = straight & ~side
    distal[:, :100] = False
    out = filter_major_branches(lab, Calibration(SP, "user"), 2.0)
    assert out[distal].mean() > 0.95 and out[side & ~trunk].mean() > 0.9
    import monai_angio.qca.branches as branches

    monkeypatch.setattr(branches, "STRAIGHT_COSINE", 2.0)  # never aligned enough: only widths decide
    assert filter_major_branches(lab, Calibration(SP, "user"), 2.0)[distal].mean() < 0.05


def test_a_narrow_stretch_on_the_way_to_a_major_vessel_is_kept():
    """Arteries do not widen downstream: a 1.2 mm stretch (an ostial lesion, or a mask thinned by the segmentation)
    that leads to a 2.4 mm vessel belongs to a major vessel, so it and the 2.4 mm vessel are kept; the 1.0 mm
    branch leaving the same junction is still dropped."""
    shape = (256, 200)
    trunk = segment_tube(shape, (220.3, -5), (220.3, 205), 2.5 / SP)
    narrow = segment_tube(shape, (220.3, 60), (80.3, 60), 1.2 / SP)
    wide = segment_tube(shape, (80.3, 60), (-5, 150), 2.4 / SP)
    thin = segment_tube(shape, (80.3, 60), (-5, 0), 1.0 / SP)
    lab = (trunk | narrow | wide | thin).astype(np.uint8)
    lab[212:229, 0:3] = 2
    out, info = filter_major_branches(lab, Calibration(SP, "user"), 2.0, return_info=True)
    far = np.zeros(shape, bool)
    far[:40, :] = True
    stretch = narrow & ~trunk & ~wide
    stretch[:110, :] = False
    stretch[190:, :] = False
    assert min(b["origin_diameter_mm"] for b in info["branches"] if b["origin_rc"] == (220, 60)) < 2.0
    assert out[wide & far].mean() > 0.95 and out[stretch].mean() > 0.95
    assert out[thin & ~wide & far].mean() < 0.05


def test_origin_diameters_from_the_image_when_the_mask_is_drawn_inside_the_lumen():
    """A segmentation traced one pixel inside the lumen edge reads a 2.2 mm branch as 1.9 mm and drops it; with the
    image the mask's width bias against the image borders (+2 px) is added, so the branch is kept at its true width
    and the 1.5 mm branch is still dropped. On the exact lumen mask the bias is about 0, outside the lumen negative."""
    from scipy import ndimage

    sp, size = 0.2, 128
    shape = (size, size)
    tubes = [((64.3, -5), (64.3, 133), 3.0 / sp), ((64.3, 40), (2, 12), 1.5 / sp), ((64.3, 85), (127, 120), 2.2 / sp)]
    image, lumen = tree_image(shape, tubes, spacing_mm=sp)
    inside = ndimage.binary_erosion(lumen)  # drawn one pixel inside the edge
    lab = inside.astype(np.uint8)
    lab[57:72, 0:3] = 2  # catheter stub at the left border marks the ostium
    branch = segment_tube(shape, (64.3, 85), (127, 120), 2.2 / sp) & ~segment_tube(shape, (64.3, -5), (64.3, 133), 20)
    thin = segment_tube(shape, (64.3, 40), (2, 12), 1.5 / sp) & ~segment_tube(shape, (64.3, -5), (64.3, 133), 20)

    without, info0 = filter_major_branches(lab, sp, 2.0, return_info=True)
    with_image, info1 = filter_major_branches(lab, sp, 2.0, return_info=True, image=image[None])
    assert without[branch & inside].mean() < 0.05  # 1.9 mm from the mask
    assert with_image[branch & inside].mean() > 0.95
    assert with_image[thin & inside].mean() < 0.05

    def origin_mm(info, side):  # side branch leaving the trunk right (+1: 2.2 mm) or left (-1: 1.5 mm) of col 62
        long = [b for b in info["branches"] if b["length_px"] > 60]  # the side branches, not the trunk pieces
        return [b["origin_diameter_mm"] for b in long if np.sign(b["origin_rc"][1] - 62) == side]

    assert origin_mm(info0, 1) and all(abs(d - 1.9) < 0.1 for d in origin_mm(info0, 1))
    assert origin_mm(info1, 1) and all(abs(d - 2.2) < 0.1 for d in origin_mm(info1, 1))
    assert origin_mm(info1, -1) and all(abs(d - 1.5) < 0.1 for d in origin_mm(info1, -1))
    assert abs(info1["mask_width_bias_mm"] - 2 * sp) < 0.05 and info0["mask_width_bias_mm"] == 0.0
    with pytest.raises(AngioInputError, match="does not match"):
        filter_major_branches(lab, sp, 2.0, image=image[:64])

    for mask, bias_px in ((lumen, 0.0), (ndimage.binary_dilation(lumen), -2.0)):
        exact = mask.astype(np.uint8)
        exact[57:72, 0:3] = 2
        plain = filter_major_branches(exact, sp, 2.0)
        out, info = filter_major_branches(exact, sp, 2.0, return_info=True, image=image)
        assert abs(info["mask_width_bias_mm"] / sp - bias_px) < 0.35
        if bias_px == 0.0:  # an exact mask keeps the same vessels with or without the image
            assert (out != plain).sum() < 0.01 * plain.sum()
        thin_far = thin & mask
        thin_far[45:] = False  # away from the trunk's lumen
        assert out[branch & mask].mean() > 0.95 and out[thin_far].mean() < 0.05
