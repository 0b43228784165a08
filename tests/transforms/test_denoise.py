"""Tests of :mod:`monai_angio.transforms.denoise` (noise-adaptive smoothing)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from scipy.ndimage import gaussian_filter

from monai_angio.transforms import (
    NoiseAdaptiveSmooth,
    NoiseAdaptiveSmoothd,
    estimate_noise_sigma,
    gaussian_noise_gain,
    smoothing_sigma_for,
)


def _scene(size: int = 128) -> np.ndarray:
    """A ramp with a dark vessel-like bar and a hard step: structure the estimator must ignore."""
    img = np.tile(np.linspace(0.3, 0.9, size, dtype=np.float32), (size, 1))
    img[40:46, 10:120] = 0.1
    img[:, 100:] -= 0.2
    return img


def test_noise_estimate_ignores_ramps_and_edges_and_measures_inside_the_mask() -> None:
    rng = np.random.default_rng(0)
    clean = _scene()
    assert estimate_noise_sigma(clean) < 0.002
    noisy = clean + rng.normal(0, 0.04, clean.shape).astype(np.float32)
    assert estimate_noise_sigma(noisy) == pytest.approx(0.04, rel=0.08)
    half = clean.copy()
    half[:, 64:] = noisy[:, 64:]
    mask = np.zeros(clean.shape, bool)
    mask[:, :60] = True
    assert estimate_noise_sigma(half, mask) < 0.002 and estimate_noise_sigma(half, ~mask) == pytest.approx(0.04, rel=0.1)
    assert estimate_noise_sigma(np.zeros((2, 2), np.float32)) == 0.0


def test_gain_matches_white_noise_through_the_filter_and_the_sigma_solves_it() -> None:
    noise = np.random.default_rng(1).normal(0, 1, (512, 512))
    for s in (0.6, 1.0, 1.7):
        assert gaussian_filter(noise, s, mode="nearest")[20:-20, 20:-20].std() == pytest.approx(
            gaussian_noise_gain(s), rel=0.05
        )
    assert gaussian_noise_gain(0) == 1.0 and gaussian_noise_gain(1.0) == pytest.approx(1 / (2 * np.sqrt(np.pi)), 1e-3)
    s = smoothing_sigma_for(0.06, 0.03)
    assert gaussian_noise_gain(s) == pytest.approx(0.5, rel=1e-6)
    assert smoothing_sigma_for(0.03, 0.03) == 0.0 and smoothing_sigma_for(0.01, 0.03) == 0.0
    assert smoothing_sigma_for(1.0, 0.03, max_sigma=2.0) == 2.0


def test_clean_frames_pass_unchanged_noisy_frames_come_down_to_the_target() -> None:
    rng = np.random.default_rng(2)
    clean = _scene(192)
    noisy = clean + rng.normal(0, 0.06, clean.shape).astype(np.float32)
    op = NoiseAdaptiveSmooth(threshold_sigma=0.04, target_sigma=0.03)
    stack = np.stack([clean, noisy])
    out = op(stack)
    np.testing.assert_array_equal(out[0], clean)
    (n0, s0), (n1, s1) = op.last_sigmas
    assert s0 == 0.0 and n1 == pytest.approx(0.06, rel=0.08) and s1 > 0.5
    residual = out[1] - gaussian_filter(clean, s1, mode="nearest")
    assert residual[10:-10, 10:-10].std() == pytest.approx(0.03, rel=0.1)
    assert op(clean) is clean  # nothing to do: the very input comes back
    mild = clean + rng.normal(0, 0.035, clean.shape).astype(np.float32)  # above the target, below the trigger
    assert op(mild) is mild and NoiseAdaptiveSmooth(threshold_sigma=0.03, target_sigma=0.03)(mild) is not mild
    off = NoiseAdaptiveSmooth(threshold_sigma=None)
    assert off(stack) is stack and off.last_sigmas == []  # switched off: nothing measured, nothing changed


def test_metatensor_keeps_its_metadata_and_the_dictionary_version_measures_in_the_fov() -> None:
    rng = np.random.default_rng(3)
    img = _scene()
    img[:, :64] += rng.normal(0, 0.08, (128, 64)).astype(np.float32)  # noise only outside the field of view
    fov = np.zeros((1, 128, 128), bool)
    fov[:, :, 64:] = True
    t = MetaTensor(torch.from_numpy(img)[None], meta={"filename_or_obj": "a.png"})
    d = NoiseAdaptiveSmoothd(keys="image", fov_key="fov")({"image": t, "fov": fov})
    assert d["image"] is t  # the field of view is clean
    noisy = MetaTensor(torch.from_numpy(_scene() + rng.normal(0, 0.08, (128, 128)).astype(np.float32))[None],
                       meta={"filename_or_obj": "b.png"})
    d = NoiseAdaptiveSmoothd(keys="image", fov_key="absent")({"image": noisy})  # no mask: the whole frame
    assert isinstance(d["image"], MetaTensor) and d["image"].meta["filename_or_obj"] == "b.png"
    assert d["image"].std() < 0.9 * noisy.std()
    for bad in ({"target_sigma": 0}, {"target_sigma": 0.05, "threshold_sigma": 0.04}):
        with pytest.raises(ValueError, match="target_sigma <= threshold_sigma"):
            NoiseAdaptiveSmooth(**bad)


def test_noise_key_reports_the_noise_also_while_the_smoothing_is_off() -> None:
    from monai_angio.transforms import frame_noise

    rng = np.random.default_rng(4)
    img = (_scene() + rng.normal(0, 0.05, (128, 128)).astype(np.float32))[None]
    off = NoiseAdaptiveSmoothd(keys="image", threshold_sigma=None, noise_key="noise_sigma")({"image": img})
    assert off["image"] is img and off["noise_sigma"] == pytest.approx(0.05, rel=0.1)
    assert off["noise_sigma"] == frame_noise(img)
    plain = NoiseAdaptiveSmoothd(keys="image")({"image": img})
    assert "noise_sigma" not in plain  # no key asked for, none added


def test_total_variation_keeps_a_thin_wire_thin_where_the_gaussian_widens_it() -> None:
    """``method="tv"``: a noisy frame comes down to the target noise (measured), the clean frame passes unchanged,
    and a one-pixel dark wire keeps more of its depth and less of a spread than under the Gaussian of the same
    noise reduction."""
    rng = np.random.default_rng(4)
    clean = np.full((128, 128), 0.7, np.float32)
    clean[:, 64] = 0.3  # a 1 px wire
    noisy = clean + rng.normal(0, 0.06, clean.shape).astype(np.float32)
    tv = NoiseAdaptiveSmooth(threshold_sigma=0.04, target_sigma=0.025, method="tv")
    gauss = NoiseAdaptiveSmooth(threshold_sigma=0.04, target_sigma=0.025)
    out_tv, out_g = tv(np.stack([clean, noisy])), gauss(noisy)
    np.testing.assert_array_equal(out_tv[0], clean)
    (_n0, w0), (n1, w1) = tv.last_sigmas
    assert w0 == 0.0 and w1 > 0 and estimate_noise_sigma(out_tv[1]) <= 0.025 < n1
    profile_tv, profile_g = out_tv[1].mean(0), out_g.mean(0)
    depth_tv, depth_g = 0.7 - profile_tv[64], 0.7 - profile_g[64]
    assert depth_tv > 1.5 * depth_g  # the wire keeps its contrast
    assert (0.7 - profile_tv[62]) < (0.7 - profile_g[62])  # and spreads less to its neighbours
    with pytest.raises(ValueError, match="method"):
        NoiseAdaptiveSmooth(method="median")
