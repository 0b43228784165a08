"""Diameter profiles: sub-pixel perpendicular profiles and the bias-corrected EDT."""

import numpy as np
import pytest
from scipy import ndimage

from monai_angio.qca import EDT_CENTRELINE_BIAS_PX, diameter_profile, smooth_path, vessel_graph
from tests.qca.analytic import strip, tube_with_stenosis


def _central(x):
    n = len(x)
    return x[n // 4 : 3 * n // 4]


def test_strip_widths_profile_and_edt():
    rng = np.random.default_rng(3)
    err_prof, err_edt = [], []
    for _ in range(24):
        w = rng.uniform(2.5, 14.0)
        m = strip(w, angle=rng.uniform(0.05, np.pi / 2 - 0.05), offset=rng.uniform(-0.5, 0.5), size=72)
        prof = diameter_profile(m, vessel_graph(m).longest_path())
        err_prof.append(np.median(_central(prof.raw_diameter_px)) - w)
        err_edt.append(np.median(_central(prof.edt_diameter_px)) - w)
    err_prof, err_edt = np.array(err_prof), np.array(err_edt)
    assert abs(err_prof.mean()) < 0.1 and err_prof.std() < 0.2
    assert np.abs(err_prof).max() < 0.4
    assert abs(err_edt.mean()) < 0.3 and np.abs(err_edt).max() < 1.2  # coarse but unbiased after correction
    assert EDT_CENTRELINE_BIAS_PX < 0.5


def test_uncorrected_edt_maximum_overestimates():
    # the documented bias: max(2 EDT) of a pixel-centred strip is about one pixel wider than the strip
    m = strip(9.0, angle=0.3, size=64)
    assert 0.5 < 2 * ndimage.distance_transform_edt(m).max() - 9.0 < 2.0


def test_straight_tube_3mm():
    m, truth = tube_with_stenosis(size=96, spacing_mm=0.2, diameter_mm=3.0, angle=0.5)
    g = vessel_graph(m)
    prof = diameter_profile(m, g.longest_path(), calibration=0.2)
    d = _central(prof.diameter_mm)
    assert abs(np.mean(d) - 3.0) < 0.1
    assert np.all(np.abs(d - 3.0) < 0.25)
    assert prof.arc_length_mm[-1] == pytest.approx(prof.arc_length_px[-1] * 0.2)
    # edges are about one radius either side of the centreline
    half = np.hypot(*(prof.edge_left_rc - prof.path_rc).T)
    assert abs(np.median(half) - 7.5) < 0.5


def test_image_edges():
    m = strip(8.0, angle=0.4, size=64)
    img = 1.0 - 0.6 * ndimage.gaussian_filter(m.astype(float), 0.7)  # dark vessel, slight blur
    path = vessel_graph(m).longest_path()
    prof = diameter_profile(m, path, image=img, method="image")
    assert prof.method == "image"
    assert abs(np.median(_central(prof.raw_diameter_px)) - 8.0) < 0.5
    with pytest.raises(ValueError):
        diameter_profile(m, path, method="image")


def test_smooth_path_resamples():
    pts, s, t = smooth_path(np.array([[0, 0], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5]]), step=0.5, sigma=0)
    assert np.allclose(np.diff(s), 0.5)
    assert np.allclose(np.linalg.norm(t, axis=1), 1.0)
