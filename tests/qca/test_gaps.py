"""Mask gaps at a stenosis bridged through the image (a segmentation that calls the narrow lumen background)."""

import numpy as np
import pytest
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.qca import Calibration, analyze_stenosis
from monai_angio.qca.gaps import BRIDGE_WARNING, bridge_mask_gaps, find_gap_bridges
from tests.qca.analytic import segment_tube, tube_with_stenosis

CAL = Calibration(0.2, "user")


def _angiogram(mask: np.ndarray) -> np.ndarray:
    """Dark vessels on a bright background, blurred like an X-ray image."""
    return 1.0 - 0.6 * ndimage.gaussian_filter(mask.astype(float), 1.0)


def _gapped(angle: float, percent: float, half_gap_px: float = 4.0):
    m, truth = tube_with_stenosis(size=128, diameter_mm=3.0, angle=angle, stenosis_percent=percent, stenosis_length_mm=6.0)
    rr, cc = np.mgrid[:128, :128]
    c = np.array(truth["center_rc"])
    t = np.array([np.sin(angle), np.cos(angle)])
    gapped = m & (np.abs((rr - c[0]) * t[0] + (cc - c[1]) * t[1]) > half_gap_px)  # the lesion is "background"
    p0, p1 = np.array(truth["p0"]), np.array(truth["p1"])
    return m, gapped, truth, p0 + 0.15 * (p1 - p0), p0 + 0.85 * (p1 - p0)


@pytest.mark.parametrize("angle,percent", [(0.0, 50.0), (0.35, 65.0), (1.0, 30.0)])
def test_guided_qca_bridges_a_mask_gap_at_the_lesion(angle, percent):
    full, gapped, truth, a, b = _gapped(angle, percent)
    assert ndimage.label(gapped, np.ones((3, 3)))[1] == 2
    img = _angiogram(full)  # the image still shows the narrowed lumen
    with pytest.raises(AngioInputError, match="disconnected"):
        analyze_stenosis(gapped, calibration=CAL, start_rc=a, end_rc=b)  # no image: nothing to bridge through
    r = analyze_stenosis(gapped, image=img, calibration=CAL, start_rc=a, end_rc=b)
    assert abs(r.percent_diameter_stenosis - percent) < 10.0
    assert abs(r.mld_mm - truth["mld_mm"]) < 0.2
    assert abs(r.reference_diameter_mm - 3.0) < 0.15
    # the MLD is in the bridged gap, and the clinician is told
    assert np.hypot(*(np.array(r.mld_rc) - truth["center_rc"])) * 0.2 < 1.0
    assert any(w.startswith(BRIDGE_WARNING) and "image edges" in w for w in r.warnings)
    gb = r.details["gap_bridging"]
    assert len(gb["bridges"]) == 1 and gb["bridges"][0]["gap_mm"] < 5.0
    bridged = np.asarray(r.profile.bridged)
    assert bridged.any() and not bridged.all()
    i = int(np.argmin(np.abs(r.profile.arc_length_mm - r.mld_position_mm)))
    assert bridged[i]
    d = r.to_dict()
    assert len(d["profile"]["bridged"]) == len(r.profile)
    # without a gap nothing is bridged and the result is unchanged by passing the image
    r_full = analyze_stenosis(full, image=img, calibration=CAL, start_rc=a, end_rc=b)
    assert not r_full.details["gap_bridging"]["bridges"]
    assert not any(w.startswith(BRIDGE_WARNING) for w in r_full.warnings)


def test_distant_vessels_are_not_bridged():
    """Two vessels in line but 8 mm apart (> the 5 mm limit), with a dark gap between them: no bridge."""
    shape = (96, 128)
    v1 = segment_tube(shape, (48, 5), (48, 45), 14.0, flat_ends=True)
    v2 = segment_tube(shape, (48, 85), (48, 122), 14.0, flat_ends=True)
    mask = v1 | v2
    img = _angiogram(segment_tube(shape, (48, 5), (48, 122), 14.0, flat_ends=True))  # dark all the way
    assert find_gap_bridges(mask, img, max_gap_px=5.0 / 0.2) == []
    with pytest.raises(AngioInputError, match="disconnected"):
        analyze_stenosis(mask, image=img, calibration=CAL, start_rc=(48, 15), end_rc=(48, 110))
    # the same gap with a 10 mm limit is bridged
    bm, drawn, bridges = bridge_mask_gaps(mask, img, max_gap_px=10.0 / 0.2)
    assert len(bridges) == 1 and drawn.any() and ndimage.label(bm, np.ones((3, 3)))[1] == 1


def test_bright_gap_and_side_by_side_vessels_are_not_bridged():
    shape = (96, 128)
    v1 = segment_tube(shape, (48, 5), (48, 55), 14.0, flat_ends=True)
    v2 = segment_tube(shape, (48, 65), (48, 122), 14.0, flat_ends=True)
    mask = v1 | v2
    # the image shows two separate vessels (bright gap): no lumen to follow
    assert find_gap_bridges(mask, _angiogram(mask), max_gap_px=25.0) == []
    # parallel neighbours (not end to end) are never joined, even when close
    p1 = segment_tube(shape, (30, 10), (30, 118), 10.0, flat_ends=True)
    p2 = segment_tube(shape, (50, 10), (50, 118), 10.0, flat_ends=True)
    both = p1 | p2
    dark = _angiogram(both | segment_tube(shape, (30, 60), (50, 60), 10.0, flat_ends=True))
    assert find_gap_bridges(both, dark, max_gap_px=25.0) == []


@pytest.mark.parametrize("percent", [85.0, 90.0])
def test_the_faint_gap_of_a_tight_lesion_is_bridged(percent):
    """A tight lesion's lumen is nearly invisible (its X-ray path is short and the blur spreads it): a mask cut
    there still gets its bridge; a gap that shows no lumen does not."""
    from tests.qca.analytic import blurred_tube_image

    img, m, truth = blurred_tube_image(
        size=128, spacing_mm=0.25, diameter_mm=3.0, angle=0.35, stenosis_percent=percent, stenosis_length_mm=6.0
    )
    rr, cc = np.mgrid[:128, :128]
    c, t = np.array(truth["center_rc"]), np.array([np.sin(0.35), np.cos(0.35)])
    gapped = m & (np.abs((rr - c[0]) * t[0] + (cc - c[1]) * t[1]) > 3.0)
    assert ndimage.label(gapped, np.ones((3, 3)))[1] == 2
    (bridge,) = find_gap_bridges(gapped, img, max_gap_px=5.0 / 0.25)
    assert 0.1 <= bridge.contrast < 0.2  # what the earlier threshold of 0.2 refused
    assert np.hypot(*(np.mean(bridge.path_rc, axis=0) - c)) < 2.0
    # two ends with no lumen between them, 8 px apart (the blur of the ends no longer darkens the path): no bridge
    cut = m & (np.abs((rr - c[0]) * t[0] + (cc - c[1]) * t[1]) > 4.0)
    assert find_gap_bridges(cut, _angiogram(cut), max_gap_px=5.0 / 0.25) == []


def test_a_broken_vessel_whose_parts_join_elsewhere_is_bridged():
    """A vessel cut at its 50 % lesion whose two sides are still one connected part of the mask, joined far away
    by a loop (a branch crossing back in projection): the gap is bridged like one between two parts; the same
    two ends joined by a short way round are not."""
    full, gapped, truth, a, b = _gapped(0.0, 50.0)
    r = int(round(truth["center_rc"][0]))
    loop = np.zeros_like(full)
    for p, q in (((r, 15), (115, 15)), ((115, 15), (115, 113)), ((115, 113), (r, 113))):
        loop |= segment_tube(full.shape, p, q, 10.0)
    mask = gapped | loop
    assert ndimage.label(mask, np.ones((3, 3)))[1] == 1
    img = _angiogram(full | loop)
    (bridge,) = find_gap_bridges(mask, img, max_gap_px=5.0 / 0.2)
    assert np.hypot(*(np.mean(bridge.path_rc, axis=0) - truth["center_rc"])) < 2.0
    rep = analyze_stenosis(mask, image=img, calibration=CAL, start_rc=a, end_rc=b)
    assert abs(rep.percent_diameter_stenosis - 50.0) < 10.0
    # the two ends of a mask with a short way round between them (a notch, not a broken vessel): no bridge
    notch = gapped | segment_tube(full.shape, (r + 12, 50), (r + 12, 78), 6.0)
    notch |= segment_tube(full.shape, (r, 52), (r + 12, 52), 6.0) | segment_tube(full.shape, (r, 76), (r + 12, 76), 6.0)
    assert ndimage.label(notch, np.ones((3, 3)))[1] == 1
    assert find_gap_bridges(notch, _angiogram(full | notch), max_gap_px=5.0 / 0.2) == []
