"""Cath-lab realism of the synthetic generator: every feature on / off with intact ground truth, preset, sizes."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from monai_angio.data import LABELS, PhantomConfig, generate_cine, generate_phantom
from monai_angio.data import cathlab as cl
from monai_angio.errors import AngioInputError

BASE = PhantomConfig(size=96, n_stenoses=1)

#: features whose ground truth is the geometric label unchanged (label / vessel mask identical to "off")
IMAGE_ONLY = [
    "spine_prob", "diaphragm_prob", "heart_border_prob", "lung_texture_prob", "soft_tissue_prob", "sharp_ribs_prob",
    "guidewire_prob", "sternal_wires_prob", "clips_prob", "ecg_leads_prob", "pacemaker_prob", "filling_prob",
    "exposure_prob", "edge_enhance_prob", "jpeg_prob",
]
#: features that hide part of the image (labels become 0 there)
HIDING = ["collimator_prob", "shutter_prob", "text_prob"]


def _h(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def test_default_output_unchanged():
    """Values computed before the cath-lab features existed (same seed and config -> same arrays)."""
    assert not PhantomConfig().cathlab_active
    p = generate_phantom(0, PhantomConfig(size=128))
    assert _h(p.label) == "9824047116cc85d1" and _h(p.vessel_mask) == "8f20bbee5f45c4e4"
    assert float(p.image.astype(np.float64).sum()) == pytest.approx(11119.378004923463, rel=1e-6)
    np.testing.assert_allclose(p.image[::29, ::31].ravel()[:4], [0.4716666638851166, 0.659333348274231,
                                                                0.8173333406448364, 0.8270000219345093], rtol=1e-5)
    assert p.fov_mask.all() and not p.device_mask.any() and "cathlab" not in p.meta
    q = generate_phantom(3, PhantomConfig(size=96, tree="rca", n_stenoses=2))
    assert _h(q.label) == "f0b857b65a1daab1" and _h(q.vessel_mask) == "5ac364d19b779bc3"
    assert float(q.image.astype(np.float64).sum()) == pytest.approx(6187.381666436791, rel=1e-6)
    c = generate_cine(2, PhantomConfig(size=64), frames=3)
    assert _h(c.labels) == "4f88ff90e4f304d4"
    assert float(c.images.astype(np.float64).sum()) == pytest.approx(8342.928331494331, rel=1e-6)


@pytest.mark.parametrize("name", IMAGE_ONLY)
def test_feature_changes_image_not_labels(name):
    off = generate_phantom(4, BASE)
    cfg = dataclasses.replace(BASE, **{name: 1.0})
    assert cfg.cathlab_active
    on = generate_phantom(4, cfg)
    assert not np.array_equal(on.image, off.image)
    np.testing.assert_array_equal(on.label, off.label)
    np.testing.assert_array_equal(on.vessel_mask, off.vessel_mask)
    assert on.fov_mask.all()
    again = generate_phantom(4, cfg)
    np.testing.assert_array_equal(on.image, again.image)
    assert on.image.dtype == np.float32 and 0.0 <= on.image.min() and on.image.max() <= 1.0


@pytest.mark.parametrize("name", HIDING)
def test_hiding_feature_zeroes_labels(name):
    off = generate_phantom(5, BASE)
    cfg = dataclasses.replace(BASE, **{name: 1.0})
    on = generate_phantom(5, cfg)
    assert not np.array_equal(on.image, off.image)
    diff = (on.label != off.label) | (on.vessel_mask != off.vessel_mask)
    assert (on.label[diff] == 0).all() and not on.vessel_mask[diff].any()  # only hidden, never added
    if name == "text_prob":
        assert on.fov_mask.all()
    else:
        assert 0.2 < on.fov_mask.mean() < 1.0
        assert not diff[on.fov_mask].any()
        assert (on.label[~on.fov_mask] == 0).all() and not on.vessel_mask[~on.fov_mask].any()
    np.testing.assert_array_equal(on.image, generate_phantom(5, cfg).image)


def test_collimator_shapes_border_and_offset():
    for shape in ("circle", "rect"):
        for grey in (0.0, 1.0):
            cfg = dataclasses.replace(BASE, size=128, collimator_prob=1.0, collimator_shapes=(shape,),
                                      border_grey_prob=grey, collimator_offset=0.1, collimator_radius=(0.4, 0.45),
                                      collimator_rect=(0.35, 0.4))
            p = generate_phantom(1, cfg)
            info = p.meta["cathlab"]["field_of_view"]
            assert info["collimator"] == shape
            m = p.fov_mask
            assert m.dtype == bool and m.shape == (128, 128) and 0.3 < m.mean() < 0.9
            assert m[int(info["center_rc"][0]), int(info["center_rc"][1])]
            out = p.image[~m & ~np.roll(m, 6, 0) & ~np.roll(m, -6, 0) & ~np.roll(m, 6, 1) & ~np.roll(m, -6, 1)]
            level = info["border_level"]
            assert abs(float(np.median(out)) - level) < 0.03
            assert (0.1 <= level <= 0.4) if grey else level <= 0.03
            assert (p.label[~m] == 0).all()
    sq = generate_phantom(1, dataclasses.replace(BASE, collimator_prob=1.0, collimator_shapes=("rect",),
                                                 collimator_square_prob=1.0))
    hh, hw = sq.meta["cathlab"]["field_of_view"]["half_size_px"]
    assert hh == hw and sq.meta["cathlab"]["field_of_view"]["square"]
    rows, cols = np.where(sq.fov_mask)
    assert abs((rows.max() - rows.min()) - (cols.max() - cols.min())) <= 1 or sq.fov_mask[[0, -1]].any() \
        or sq.fov_mask[:, [0, -1]].any()


def test_devices_never_labelled_and_darker():
    cfg = dataclasses.replace(BASE, size=128, guidewire_prob=1.0, sternal_wires_prob=1.0, clips_prob=1.0,
                              ecg_leads_prob=1.0, pacemaker_prob=1.0)
    for seed in (0, 1, 2):
        off = generate_phantom(seed, dataclasses.replace(BASE, size=128))
        on = generate_phantom(seed, cfg)
        np.testing.assert_array_equal(on.label, off.label)
        d = on.device_mask
        assert d.sum() > 50
        free = d & ~off.vessel_mask & (off.label == 0)
        assert free.sum() > 20 and (on.label[free] == 0).all()
        assert on.image[free].mean() < off.image[free].mean() - 0.05
        assert set(on.meta["cathlab"]["devices"]) == {"sternal_wires", "clips", "ecg_leads", "pacemaker",
                                                      "guidewire"}


def test_guidewire_runs_inside_an_artery():
    cfg = dataclasses.replace(BASE, size=128, guidewire_prob=1.0, dose=None)
    on = generate_phantom(6, cfg)
    off = generate_phantom(6, dataclasses.replace(BASE, size=128, dose=None))
    d = on.device_mask
    inside = d & (off.vessel_mask | (off.label == 2))
    assert inside.sum() > 0.6 * d.sum()
    assert (on.image[d] < off.image[d]).mean() > 0.9  # darker where the wire lies


def test_catheter_label_and_width_with_preset():
    for seed in (0, 3):
        cfg = PhantomConfig.cathlab(size=256, tree="lca", catheter_french=(6,), collimator_prob=0.0,
                                    shutter_prob=0.0, text_prob=0.0, guidewire_prob=1.0)
        p = generate_phantom(seed, cfg)
        assert (p.label == LABELS["catheter"]).sum() > 50
        cat = p.catheter
        expected = p.catheter_french / 3 / p.spacing_mm
        np.testing.assert_allclose(cat.diameter_px, expected)
        c = cat.centerline_rc
        idx = np.where((c[:, 0] > 8) & (c[:, 0] < 247) & (c[:, 1] > 8) & (c[:, 1] < 247))[0]
        widths = []
        for i in idx[2 : min(len(idx) - 3, 40) : 5]:
            t = c[i + 2] - c[i - 2]
            t = t / np.linalg.norm(t)
            n = np.array([-t[1], t[0]])
            s = np.arange(-3 * expected, 3 * expected, 0.05)
            pts = np.round(c[i][None] + s[:, None] * n[None]).astype(int)
            ok = (pts >= 0).all(1) & (pts < 256).all(1)
            widths.append((p.label[pts[ok, 0], pts[ok, 1]] == 2).sum() * 0.05)
        assert len(widths) >= 3 and np.all(np.abs(np.array(widths) - expected) <= 1.0), (widths, expected)


def test_preset_determinism_and_variety():
    kinds, seen = set(), []
    for seed in range(12):
        p = generate_phantom(seed, PhantomConfig.cathlab(size=64))
        kinds.add(p.meta["cathlab"]["field_of_view"].get("collimator"))
        assert (p.label[~p.fov_mask] == 0).all()
        assert 0.15 - 1e-9 <= p.spacing_mm <= 0.45 + 1e-9
        seen.append(p.image)
    assert {"circle", "rect", None} <= kinds
    assert all(not np.array_equal(seen[0], s) for s in seen[1:])
    a, b = generate_phantom(3, PhantomConfig.cathlab(size=64)), generate_phantom(3, PhantomConfig.cathlab(size=64))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_array_equal(a.fov_mask, b.fov_mask)
    assert PhantomConfig.cathlab(size=64, collimator_prob=0.0).collimator_prob == 0.0
    json.dumps(a.ground_truth())  # the drawn features are recorded, JSON-ready
    assert "field_of_view" in a.ground_truth()["meta"]["cathlab"]


@pytest.mark.parametrize("size", [256, 1024])
def test_sizes_and_spacing(size):
    p = generate_phantom(2, PhantomConfig.cathlab(size=size))
    assert p.image.shape == (size, size) and p.label.shape == (size, size) and p.fov_mask.shape == (size, size)
    assert (p.label == 1).sum() > size and (p.label[~p.fov_mask] == 0).all()
    lo, hi = (0.15, 0.45)
    assert lo - 1e-9 <= p.spacing_mm <= hi + 1e-9 and 64 - 1e-6 <= p.spacing_mm * size <= 232 + 1e-6
    assert p.meta["generation_s"] < 10.0


def test_spacing_range_gives_threefold_vessel_widths():
    kw = dict(size=128, catheter_french=(6,), field_mm=(1.0, 1000.0))
    fine = generate_phantom(0, PhantomConfig(spacing_mm=(0.15, 0.15), **kw))
    coarse = generate_phantom(0, PhantomConfig(spacing_mm=(0.45, 0.45), **kw))
    assert fine.spacing_mm == pytest.approx(0.15) and coarse.spacing_mm == pytest.approx(0.45)
    assert fine.catheter.diameter_px[0] == pytest.approx(3 * coarse.catheter.diameter_px[0])
    for p in (fine, coarse):
        assert (p.label == 2).sum() > 0 and (p.label == 1).sum() > 0
    # the preset narrows the spacing to a plausible field per size; at 512 px it spans the full 3x range
    from monai_angio.data.synthetic import _spacing_range

    assert _spacing_range(PhantomConfig.cathlab(size=512)) == pytest.approx((0.15, 0.45))
    lo, hi = _spacing_range(PhantomConfig.cathlab(size=1024))
    assert lo == pytest.approx(0.15) and hi == pytest.approx(232 / 1024)
    assert 0.25 <= generate_phantom(1, PhantomConfig.cathlab(size=256, collimator_prob=0)).spacing_mm <= 0.45 + 1e-9


def test_cine_static_field_moving_wire():
    cfg = PhantomConfig.cathlab(size=96, collimator_prob=1.0, text_prob=1.0, guidewire_prob=1.0,
                                jpeg_prob=0.0)
    cine = generate_cine(1, cfg, frames=5)
    assert cine.images.shape == (5, 96, 96)
    for f in cine.frames:
        np.testing.assert_array_equal(f.fov_mask, cine.fov_mask)
        assert (f.label[~f.fov_mask] == 0).all()
    assert not cine.fov_mask.all()
    assert not np.array_equal(cine.frames[0].device_mask, cine.frames[2].device_mask)  # the wire moves
    again = generate_cine(1, cfg, frames=5)
    np.testing.assert_array_equal(cine.images, again.images)
    np.testing.assert_array_equal(cine.labels, again.labels)


def test_text_and_jpeg_helpers():
    g = np.random.default_rng(0)
    alpha, value, lines = cl.text_overlay(g, (256, 256), {"positioner_primary_angle_deg": -20.0})
    assert alpha.shape == (256, 256) and alpha.max() > 0.9 and lines
    corner = np.zeros((256, 256), bool)
    corner[:64, :] = corner[-64:, :] = True
    assert (alpha[~corner] == 0).all()  # text stays near the top / bottom corners
    img = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    j = cl.jpeg_roundtrip(img, 30)
    assert j.shape == img.shape and j.dtype == np.float32 and np.abs(j - img).max() < 0.15
    assert np.allclose(j * 255, np.round(j * 255), atol=1e-3)


def test_text_is_burned_in():
    p = generate_phantom(2, dataclasses.replace(BASE, size=128, text_prob=1.0))
    assert p.meta["cathlab"]["text"]
    changed = np.abs(p.image - generate_phantom(2, dataclasses.replace(BASE, size=128)).image) > 0.2
    assert changed.sum() > 20


def test_validation():
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, collimator_prob=1.5))
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, collimator_prob=1.0, collimator_shapes=("hexagon",)))
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, spacing_mm=(0.3, 0.2)))
    with pytest.raises(AngioInputError):
        generate_phantom(0, PhantomConfig(size=64, dose=(3000.0, 100.0)))
