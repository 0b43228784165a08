"""Projection geometry and exact tube rasterisation."""

from __future__ import annotations

import numpy as np
import pytest

from monai_angio.data.render import ProjectionGeometry, anatomical_background, detector_response, rasterize_tube


def test_projection_magnification():
    g = ProjectionGeometry(1100.0, 750.0, 0.3, (101, 101))
    assert g.spacing_mm == pytest.approx(0.3 * 750 / 1100) and g.magnification == pytest.approx(1100 / 750)
    rc, scale = g.project(np.array([[0.0, 0.0, 0.0], [10.0, -5.0, 0.0], [10.0, 0.0, 50.0]]))
    np.testing.assert_allclose(rc[0], [50, 50])
    np.testing.assert_allclose(rc[1], [50 - 5 / g.spacing_mm, 50 + 10 / g.spacing_mm])
    assert scale[0] == pytest.approx(1 / g.spacing_mm)
    assert scale[2] == pytest.approx(1100 / 800 / 0.3)  # farther from the source -> less magnified


def test_rasterize_matches_brute_force():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 30)
    rc = np.stack([10 + 30 * t + 5 * np.sin(4 * t), 8 + 40 * t], 1)
    rpx = 3.0 - 1.5 * t
    rmm = rpx * 0.2
    (rs, cs), inside, chord = rasterize_tube(rc, rpx, rmm, (64, 64))
    # brute force over a dense resampling of the axis
    rr, cc = np.mgrid[rs, cs]
    p = np.stack([rr.ravel(), cc.ravel()], 1).astype(float)
    s = np.linspace(0, 1, 3000)
    ax = np.stack([np.interp(s, t, rc[:, 0]), np.interp(s, t, rc[:, 1])], 1)
    rad = np.interp(s, t, rpx)
    d = np.sqrt(((p[:, None] - ax[None]) ** 2).sum(-1))
    q = (1 - d**2 / rad[None] ** 2).max(1).reshape(inside.shape)
    margin = np.abs(q) > 0.02  # ignore pixels on the boundary within resampling tolerance
    np.testing.assert_array_equal(inside[margin], (q >= 0)[margin])
    assert chord.max() == pytest.approx(2 * rmm.max(), rel=0.02)
    assert np.all(chord[~inside] == 0)
    assert rasterize_tube(rc + 500, rpx, rmm, (64, 64)) is None
    del rng


def test_background_and_detector():
    rng = np.random.default_rng(1)
    bg = anatomical_background(rng, (64, 64), strength=1.0)
    assert bg.shape == (64, 64) and bg.min() >= 0 and 0.2 < bg.max() < 2.0
    assert np.all(anatomical_background(rng, (32, 32), strength=0.0) == 0)
    flat = np.full((64, 64), 0.5, np.float32)
    clean = detector_response(flat, rng, dose=None, blur_sigma_px=0, vignetting=0)
    np.testing.assert_allclose(clean, 0.5)
    noisy = detector_response(flat, rng, dose=1000.0, blur_sigma_px=0, vignetting=0)
    assert noisy.std() == pytest.approx(np.sqrt(0.5 / 1000), rel=0.1)  # Poisson: var = I / dose
    vig = detector_response(flat, rng, dose=None, blur_sigma_px=0, vignetting=0.2)
    assert vig[32, 32] > vig[0, 0]
