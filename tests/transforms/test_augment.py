"""RandAngioAugmentd: label values kept, never a mirror image, parameter ranges respected, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.errors import AngioInputError
from monai_angio.transforms import RandAngioAugmentd

SIZE = 96
# three landmarks (row, col) around the image centre, in counter-clockwise order as seen on screen
LANDMARKS = {"a": (30.0, 34.0), "b": (36.0, 64.0), "c": (66.0, 44.0)}


def _disk(center: tuple[float, float], r: float = 4.0) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    return ((yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= r * r).astype(np.float32)


def _sample() -> dict:
    d = {k: MetaTensor(torch.from_numpy(_disk(c))[None]) for k, c in LANDMARKS.items()}
    img = 1.0 - 0.5 * sum(_disk(c) for c in LANDMARKS.values())  # dark blobs on bright background
    d["image"] = MetaTensor(torch.from_numpy(img.astype(np.float32))[None])
    return d


def _centroid(mask: torch.Tensor) -> np.ndarray:
    rc = np.argwhere(mask.numpy()[0] > 0.5)
    assert len(rc) > 0, "landmark pushed out of the image"
    return rc.mean(axis=0)


def _geometry(points: dict) -> tuple[float, float, np.ndarray, float]:
    """Signed orientation (cross product), mean rotation (deg), centroid, mean edge length of the triangle."""
    a, b, c = (np.asarray(points[k], float) for k in "abc")
    ab, ac = b - a, c - a
    cross = ab[0] * ac[1] - ab[1] * ac[0]
    angles = [np.arctan2(v[0], v[1]) for v in (ab, ac)]
    length = (np.linalg.norm(ab) + np.linalg.norm(ac) + np.linalg.norm(c - b)) / 3
    return float(cross), np.degrees(angles), (a + b + c) / 3, float(length)


def _augment(seed: int, **kwargs) -> tuple[RandAngioAugmentd, dict]:
    t = RandAngioAugmentd(keys="image", label_keys=list(LANDMARKS), **kwargs)
    t.set_random_state(seed)
    return t, t(_sample())


def test_never_mirrors_and_respects_ranges():
    cross0, ang0, cen0, len0 = _geometry(LANDMARKS)
    # sanity of the detector itself: a left/right mirror flips the orientation sign
    mirrored = {k: (r, SIZE - 1 - c) for k, (r, c) in LANDMARKS.items()}
    assert np.sign(_geometry(mirrored)[0]) == -np.sign(cross0)

    rotations, shifts, zooms = [], [], []
    for seed in range(25):
        t, out = _augment(seed, prob=1.0, intensity_prob=0.0, padding_mode="zeros")
        pts = {k: _centroid(out[k]) for k in LANDMARKS}
        cross, ang, cen, length = _geometry(pts)
        assert np.sign(cross) == np.sign(cross0), f"seed {seed}: the image was mirrored"
        rot = (ang - ang0 + 180) % 360 - 180
        assert abs(rot[0] - rot[1]) < 4  # one rigid rotation for the whole image
        rotations.append(rot.mean())
        zooms.append(length / len0)
        shifts.append(np.abs(cen - cen0))
        p = t.last_params
        assert abs(p["rotate_deg"]) <= 20 and 0.9 <= p["zoom"] <= 1.1
        assert all(abs(s) <= 0.1 * SIZE for s in p["translate_px"])
    rotations, zooms, shifts = np.array(rotations), np.array(zooms), np.array(shifts)
    assert np.abs(rotations).max() <= 20 + 3  # +-20 degrees (+ centroid noise of the nearest resampling)
    assert np.abs(rotations).max() > 10  # ... and it really rotates
    assert zooms.min() >= 1 / 1.1 - 0.04 and zooms.max() <= 1 / 0.9 + 0.04  # +-10 % zoom
    assert zooms.max() - zooms.min() > 0.08
    # +-10 % shift (the triangle's centre sits close to the image centre, so rotation/zoom barely move it)
    assert shifts.max() <= 0.1 * SIZE * 1.12 + 2.5
    assert shifts.max() > 4


def test_label_values_kept_image_interpolated():
    rng = np.random.default_rng(0)
    lab = np.zeros((1, 64, 64), np.float32)
    lab[0, 10:40, 20:26] = 1
    lab[0, 30:34, 5:60] = 2
    img = rng.uniform(0, 1, (1, 64, 64)).astype(np.float32)
    t = RandAngioAugmentd("image", label_keys="label", prob=1.0)
    for seed in range(8):
        t.set_random_state(seed)
        out = t({"image": MetaTensor(torch.from_numpy(img)), "label": MetaTensor(torch.from_numpy(lab))})
        assert set(torch.unique(out["label"]).tolist()) <= {0.0, 1.0, 2.0}
        assert {1.0, 2.0} <= set(torch.unique(out["label"]).tolist())
        assert out["label"].shape == (1, 64, 64) and out["image"].shape == (1, 64, 64)
    # images are resampled bilinearly: a binary image gets intermediate values
    t.set_random_state(3)
    out = t({"image": torch.from_numpy(lab / 2), "label": torch.from_numpy(lab)})
    vals = out["image"].numpy()
    assert np.logical_and(vals > 0.05, vals < 0.45).any()
    # integer labels keep their dtype
    t.set_random_state(3)
    out = t({"image": torch.from_numpy(img), "label": torch.from_numpy(lab.astype(np.uint8))})
    assert out["label"].dtype == torch.uint8


def test_brightness_range_only_on_images():
    img = torch.ones(1, 16, 16)
    lab = torch.ones(1, 16, 16)
    factors = []
    t = RandAngioAugmentd(
        "image", label_keys="label", prob=1.0, rotate_range_deg=0, translate_range=0, scale_range=0
    )
    for seed in range(40):
        t.set_random_state(seed)
        out = t({"image": img.clone(), "label": lab.clone()})
        f = out["image"].unique()
        assert len(f) == 1  # multiplicative: a flat image stays flat
        factors.append(float(f))
        assert float(f) == pytest.approx(t.last_params["brightness_factor"], rel=1e-5)
        assert torch.equal(torch.as_tensor(out["label"]), lab)
    assert min(factors) >= 0.6 - 1e-6 and max(factors) <= 1.4 + 1e-6
    assert min(factors) < 0.75 and max(factors) > 1.25


def test_deterministic_prob_zero_and_cine():
    _, o1 = _augment(7, prob=1.0)
    _, o2 = _augment(7, prob=1.0)
    _, o3 = _augment(8, prob=1.0)
    assert torch.equal(o1["image"], o2["image"]) and not torch.equal(o1["image"], o3["image"])
    _, o0 = _augment(7, prob=0.0)
    assert torch.equal(torch.as_tensor(o0["image"]), torch.as_tensor(_sample()["image"]))
    # every frame of a cine moves with the same transform
    frame = _sample()["image"][0]
    cine = MetaTensor(torch.stack([frame, frame, frame]))
    t = RandAngioAugmentd("image", prob=1.0)
    t.set_random_state(1)
    out = t({"image": cine})["image"]
    assert out.shape == (3, SIZE, SIZE) and torch.equal(out[0], out[2])
    with pytest.raises(AngioInputError, match="2D images"):
        t({"image": torch.zeros(1, 3, 8, 8)})
