"""Synthetic phantom generator: determinism, label/geometry consistency, stenosis ground truth, physics, cines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monai_angio.data import LABELS, PhantomConfig, generate_cine, generate_phantom, straight_tube_phantom
from monai_angio.data.synthetic import gamma_variate, render_overview
from monai_angio.errors import AngioInputError

CFG = PhantomConfig(size=128, n_stenoses=2)


def _dense(seg, step=0.2):
    """Densely resampled centreline (row, col) and projected radius (px) of a segment."""
    c = seg.centerline_rc
    r = seg.diameter_px / 2
    seglen = np.linalg.norm(np.diff(c, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seglen)])
    t = np.arange(0, s[-1] + step / 2, step)
    return np.stack([np.interp(t, s, c[:, 0]), np.interp(t, s, c[:, 1])], 1), np.interp(t, s, r)


def _excess(points_rc, segments):
    """min over the segments' dense centrelines of (distance - radius) for each pixel (N, 2)."""
    best = np.full(len(points_rc), np.inf)
    for seg in segments:
        c, r = _dense(seg)
        for k in range(0, len(points_rc), 256):
            p = points_rc[k : k + 256]
            d = np.sqrt(((p[:, None, :] - c[None, :, :]) ** 2).sum(-1)) - r[None, :]
            best[k : k + 256] = np.minimum(best[k : k + 256], d.min(1))
    return best


@pytest.mark.parametrize("tree", ["lca", "rca"])
def test_determinism(tree):
    cfg = PhantomConfig(size=96, tree=tree)
    a, b = generate_phantom(7, cfg), generate_phantom(7, cfg)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.label, b.label)
    assert [s.name for s in a.segments] == [s.name for s in b.segments]
    c = generate_phantom(8, cfg)
    assert not np.array_equal(a.image, c.image)
    assert not np.array_equal(a.label, c.label)


@pytest.mark.parametrize("seed,tree", [(0, "lca"), (1, "rca"), (2, "lca"), (3, "rca")])
def test_phantom_fields_and_labels(seed, tree):
    p = generate_phantom(seed, PhantomConfig(size=128, tree=tree, n_stenoses=2))
    assert p.image.shape == (128, 128) and p.image.dtype == np.float32
    assert 0.0 <= p.image.min() and p.image.max() <= 1.0
    assert p.label.dtype == np.uint8 and set(np.unique(p.label)) <= {0, 1, 2}
    assert p.vessel_mask.dtype == bool
    assert (p.label == LABELS["artery"]).sum() > 50 and (p.label == LABELS["catheter"]).sum() > 10
    assert p.catheter_french in (5, 6, 7) and p.catheter_diameter_mm == pytest.approx(p.catheter_french / 3)
    g = p.meta["geometry"]
    assert p.spacing_mm == pytest.approx(g["imager_spacing_mm"] * g["sod_mm"] / g["sid_mm"])
    assert 1000 <= g["sid_mm"] <= 1200 and 700 <= g["sod_mm"] <= 800 and p.meta["seed"] == seed
    # labelled arteries are drawn arteries
    assert np.all(p.vessel_mask[p.label == 1])
    majors = [s for s in p.segments if s.is_major]
    minors = [s for s in p.segments if not s.is_major and not s.is_catheter]
    assert majors and minors
    for s in p.segments:
        assert s.centerline_rc.shape == (len(s.diameter_mm), 2)
        if not s.is_catheter:
            assert s.is_major == (s.reference_diameter_mm[0] >= 2.0)
            assert not 1.85 < s.reference_diameter_mm[0] < 2.15  # unambiguous w.r.t. the 2 mm criterion
    # every labelled artery pixel lies within radius + 1 px of a major centreline
    art = np.argwhere(p.label == 1).astype(float)
    assert _excess(art, majors).max() <= 1.0
    cat = np.argwhere(p.label == 2).astype(float)
    assert _excess(cat, [p.catheter]).max() <= 1.0
    # thin branches are drawn but not labelled: their core pixels away from major arteries and the catheter
    core = []
    for s in minors:
        c, r = _dense(s, 0.5)
        inside = (c[:, 0] >= 0) & (c[:, 0] <= 127) & (c[:, 1] >= 0) & (c[:, 1] <= 127) & (r >= 0.5)
        core.append(np.unique(np.round(c[inside]).astype(int), axis=0))
    core = np.unique(np.concatenate(core), axis=0).astype(float)
    far = _excess(core, majors + [p.catheter]) > 1.5
    assert far.sum() > 5
    rc = core[far].astype(int)
    assert np.all(p.label[rc[:, 0], rc[:, 1]] == 0)
    assert p.vessel_mask[rc[:, 0], rc[:, 1]].mean() > 0.6


def test_catheter_width_perpendicular_to_straight_part():
    p = generate_phantom(5, PhantomConfig(size=256, tree="lca", catheter_french=(7,)))
    cat = p.catheter
    expected = p.catheter_french / 3 / p.spacing_mm
    c = cat.centerline_rc
    inside = np.where((c[:, 0] > 8) & (c[:, 0] < 247) & (c[:, 1] > 8) & (c[:, 1] < 247))[0]
    widths = []
    for i in inside[: min(len(inside) - 3, 40) : 5]:  # the straight part enters from the image edge
        t = c[i + 2] - c[i - 2] if i >= 2 else c[i + 2] - c[i]
        t = t / np.linalg.norm(t)
        n = np.array([-t[1], t[0]])
        s = np.arange(-3 * expected, 3 * expected, 0.05)
        pts = np.round(c[i][None] + s[:, None] * n[None]).astype(int)
        ok = (pts >= 0).all(1) & (pts < 256).all(1)
        widths.append((p.label[pts[ok, 0], pts[ok, 1]] == 2).sum() * 0.05)
    assert len(widths) >= 3
    assert np.all(np.abs(np.array(widths) - expected) <= 1.0), (widths, expected)


def test_catheter_width_straight_tube():
    for french, spacing in [(5, 0.2), (6, 0.25), (7, 0.3)]:
        p = straight_tube_phantom(3.0, spacing, size=96, catheter_french=french)
        cols = (p.label == 2).sum(0)[10:-10]
        expected = french / 3 / spacing
        assert np.all(np.abs(cols - expected) <= 1.0), (cols, expected)
        assert p.catheter.is_catheter and p.catheter_french == french


def test_stenosis_ground_truth():
    n = 0
    for seed in range(4):
        p = generate_phantom(seed, PhantomConfig(size=128, n_stenoses=2, stenosis_percent=(30, 80)))
        for st in p.stenoses:
            n += 1
            seg = p.segment(st.segment)
            assert seg.is_major
            assert 30 <= st.percent_diameter <= 80
            assert st.mld_mm == pytest.approx(st.reference_diameter_mm * (1 - st.percent_diameter / 100))
            assert seg.diameter_mm[st.center_index] == pytest.approx(st.mld_mm, rel=1e-9)
            assert seg.reference_diameter_mm[st.center_index] == pytest.approx(st.reference_diameter_mm)
            lesion = seg.diameter_mm[st.start_index : st.end_index + 1]
            assert lesion.min() == pytest.approx(st.mld_mm, rel=0.01)
            np.testing.assert_allclose(st.center_rc, seg.centerline_rc[st.center_index])
            assert 0 <= st.center_rc[0] < 128 and 0 <= st.center_rc[1] < 128
            assert st.percent_area == pytest.approx(100 * (1 - (1 - st.percent_diameter / 100) ** 2))
            # outside the lesion the lumen equals the reference
            outside = np.ones(len(seg.diameter_mm), bool)
            outside[st.start_index - 1 : st.end_index + 2] = False
            others = [o for o in p.stenoses if o.segment == st.segment and o is not st]
            for o in others:
                outside[o.start_index - 1 : o.end_index + 2] = False
            np.testing.assert_allclose(seg.diameter_mm[outside], seg.reference_diameter_mm[outside], rtol=1e-6)
    assert n >= 4


def test_murray_bifurcation():
    p = generate_phantom(11, PhantomConfig(size=128, tree="lca", n_stenoses=0))
    lm, lad, lcx = p.segment("LM"), p.segment("LAD"), p.segment("LCx")
    d = lm.reference_diameter_mm[-1]
    murray = (lad.reference_diameter_mm[0] ** 3 + lcx.reference_diameter_mm[0] ** 3) ** (1 / 3)
    assert murray == pytest.approx(d, rel=0.05)
    assert lad.reference_diameter_mm[0] > lad.reference_diameter_mm[-1]  # tapering
    assert 3.8 <= lm.reference_diameter_mm[0] <= 4.7


def test_straight_tube_analytic():
    sp = 0.25
    p = straight_tube_phantom(3.0, sp, size=96, blur_sigma_px=0.0)
    v = p.segment("vessel")
    assert v.is_major and np.allclose(v.diameter_mm, 3.0) and np.allclose(v.diameter_px, 3.0 / sp)
    widths = (p.label == 1).sum(0)
    assert np.all(np.abs(widths - 12) <= 1)
    # pixel-centre rule, exactly: |row - axis| <= radius
    axis = 47.5
    expected = (np.abs(np.arange(96) - axis) <= 1.5 / sp).sum()
    assert np.all(widths == expected)
    assert p.stenoses == [] and p.catheter is None and p.catheter_french == 0

    st = straight_tube_phantom(3.0, sp, size=96, stenosis_percent=50, stenosis_length_mm=8.0)
    s = st.stenoses[0]
    assert s.mld_mm == pytest.approx(1.5) and s.reference_diameter_mm == pytest.approx(3.0)
    assert s.center_rc[0] == pytest.approx(47.5) and s.center_rc[1] == pytest.approx(47.5, abs=0.2)
    w = (st.label == 1).sum(0)
    assert abs(w[47] - 1.5 / sp) <= 1 and abs(w[5] - 3.0 / sp) <= 1
    assert st.segment("vessel").diameter_mm.min() == pytest.approx(1.5, rel=1e-3)
    # a thin tube is drawn but not labelled
    thin = straight_tube_phantom(1.5, sp, size=64)
    assert (thin.label == 1).sum() == 0 and thin.vessel_mask.sum() > 0
    with pytest.raises(AngioInputError):
        straight_tube_phantom(-1.0, sp)


def test_beer_lambert_and_contrast():
    sp, mu = 0.25, 0.15
    p = straight_tube_phantom(3.0, sp, size=64, blur_sigma_px=0.0, supersample=1, contrast_mu_per_mm=mu)
    r = 1.5
    d = 0.5 * sp  # the axis lies between two pixel rows
    expected = math.exp(-mu * 2 * math.sqrt(r * r - d * d))
    np.testing.assert_allclose(p.image[31, 5:-5], expected, rtol=1e-5)
    assert p.image[0].max() == pytest.approx(1.0)
    # vessel darker than its surroundings, larger / denser vessels darker (with noise and background)
    kw = dict(size=64, noise=True, background=True, seed=3)
    means = {}
    for dia in (2.0, 4.0):
        q = straight_tube_phantom(dia, sp, **kw)
        means[dia] = q.image[q.label == 1].mean()
        dist = np.abs(np.arange(64) - 31.5)[:, None]
        ring = np.broadcast_to((dist > dia / 2 / sp + 2) & (dist < dia / 2 / sp + 10), q.image.shape)
        assert means[dia] < q.image[ring].mean() - 0.05
    assert means[4.0] < means[2.0]
    lo = straight_tube_phantom(3.0, sp, contrast_mu_per_mm=0.08, **kw)
    hi = straight_tube_phantom(3.0, sp, contrast_mu_per_mm=0.2, **kw)
    assert hi.image[hi.label == 1].mean() < lo.image[lo.label == 1].mean() - 0.05


def test_generated_vessels_darker_than_surroundings():
    from scipy.ndimage import binary_dilation

    p = generate_phantom(4, PhantomConfig(size=128))
    art = p.label == 1
    ring = binary_dilation(p.vessel_mask | (p.label == 2), iterations=4) & ~binary_dilation(
        p.vessel_mask | (p.label == 2), iterations=1)
    assert p.image[art].mean() < p.image[ring].mean() - 0.05
    assert p.image[p.label == 2].mean() < p.image[ring].mean() - 0.05


def test_cine_motion_and_washin():
    T = 8
    cine = generate_cine(2, PhantomConfig(size=96, frame_time_ms=100.0), frames=T)
    assert cine.images.shape == (T, 96, 96) and cine.labels.shape == (T, 96, 96)
    assert cine.images.dtype == np.float32 and cine.labels.dtype == np.uint8
    assert len(cine.frames) == T and cine.vessel_masks.shape == (T, 96, 96)
    assert cine.frame_time_ms == 100.0 and cine.concentration.shape == (T,)
    # motion: frames and labels differ, ground-truth centrelines move, diameters do not
    assert not np.array_equal(cine.labels[0], cine.labels[T // 2])
    lad0, ladk = cine.frames[0].segments[0], cine.frames[T // 2].segments[0]
    shift = np.abs(lad0.centerline_rc - ladk.centerline_rc).max()
    assert 0.1 < shift < 15
    np.testing.assert_array_equal(lad0.diameter_mm, ladk.diameter_mm)
    # labels every frame: arteries and catheter
    assert all((lab == 1).any() and (lab == 2).any() for lab in cine.labels)
    # wash-in / wash-out: vessel contrast follows the concentration
    c = cine.concentration
    assert c.max() == pytest.approx(1.0, abs=0.05) and c.min() < 0.5
    contrast = []
    for f in cine.frames:
        art = f.label == 1
        contrast.append(np.median(f.image[~f.vessel_mask & (f.label == 0)]) - f.image[art].mean())
    contrast = np.array(contrast)
    assert contrast[np.argmax(c)] > contrast[np.argmin(c)] + 0.03
    assert np.corrcoef(contrast, c)[0, 1] > 0.8
    # same seed -> same cine
    again = generate_cine(2, PhantomConfig(size=96, frame_time_ms=100.0), frames=T)
    np.testing.assert_array_equal(again.images, cine.images)
    gt = cine.ground_truth()
    assert gt["num_frames"] == T and len(gt["frames"]) == T and gt["key_frame"] == cine.key_frame


def test_gamma_variate():
    t = np.linspace(0, 2000, 201)
    c = gamma_variate(t, 200, 800, 3.0)
    assert c[t < 200].max() == 0.0
    assert t[np.argmax(c)] == pytest.approx(800, abs=10) and c.max() == pytest.approx(1.0, abs=1e-3)
    assert c[-1] < 0.5


def test_config_validation_and_overview():
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, tree="lad"))
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, supersample=2))
    with pytest.raises(AngioInputError):
        generate_cine(0, PhantomConfig(size=64), frames=0)
    p = generate_phantom(0, PhantomConfig(size=64, n_stenoses=1))
    fig = render_overview(p, title="case")
    assert len(fig.axes) == 2
    assert fig.axes[0].images[0].get_array().shape == (64, 64)


def test_fov_and_imager_spacing():
    p = generate_phantom(1, PhantomConfig(size=64, imager_spacing_mm=0.4))
    g = p.meta["geometry"]
    assert g["imager_spacing_mm"] == pytest.approx(0.4)
    assert p.spacing_mm == pytest.approx(0.4 * g["sod_mm"] / g["sid_mm"])


def test_planar_tree_has_exact_projected_widths():
    p = generate_phantom(6, PhantomConfig(size=64, depth_mm=0.0))
    for s in p.segments:
        np.testing.assert_allclose(s.diameter_px, s.diameter_mm / p.spacing_mm, rtol=1e-9)
    q = generate_phantom(6, PhantomConfig(size=64, depth_mm=10.0))
    ratio = np.concatenate([s.diameter_px * q.spacing_mm / s.diameter_mm for s in q.segments])
    assert 0.95 < ratio.min() <= ratio.max() < 1.05  # out-of-plane magnification stays within a few %
    np.testing.assert_allclose(q.catheter.diameter_px, q.catheter_french / 3 / q.spacing_mm)
