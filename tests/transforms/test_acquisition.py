"""Tests of :mod:`monai_angio.transforms.acquisition` (fixed acquisition shifts for robustness measurements)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.transforms import (
    SHIFT_PARAMETERS,
    AcquisitionShift,
    AcquisitionShiftd,
    parse_acquisition_shift,
)


def _ramp_image(lo: float = 10.0, hi: float = 250.0, shape=(32, 64)) -> np.ndarray:
    """Columns from ``lo`` to ``hi``: every value of the range once per row."""
    return np.tile(np.linspace(lo, hi, shape[1], dtype=np.float32), (shape[0], 1))


def test_identity_returns_the_input_and_describes_itself_as_none() -> None:
    img = _ramp_image()
    shift = AcquisitionShift()
    assert shift.is_identity and shift.describe() == "none"
    assert shift(img) is img
    assert parse_acquisition_shift(None).is_identity and parse_acquisition_shift(" none ").is_identity


def test_gamma_is_applied_in_the_image_own_range_and_mapped_back() -> None:
    img = _ramp_image(10.0, 250.0)
    out = AcquisitionShift(gamma=2.0)(img)
    x = (img - 10.0) / 240.0
    np.testing.assert_allclose(out, 10.0 + 240.0 * x**2, rtol=1e-5, atol=1e-3)
    assert out.dtype == np.float32 and out.shape == img.shape
    assert out.min() == pytest.approx(10.0) and out.max() == pytest.approx(250.0)


def test_noise_has_the_given_deviation_is_seeded_and_differs_per_frame() -> None:
    img = np.full((2, 128, 128), 0.5, np.float32)
    img[:, 0, 0], img[:, -1, -1] = 0.0, 1.0  # range [0, 1]
    out = AcquisitionShift(noise=0.05, seed=3)(img)
    diff = out - img
    assert np.std(diff[:, 1:-1, 1:-1]) == pytest.approx(0.05, rel=0.05)
    np.testing.assert_array_equal(out, AcquisitionShift(noise=0.05, seed=3)(img))
    assert not np.allclose(out, AcquisitionShift(noise=0.05, seed=4)(img))
    assert not np.allclose(diff[0], diff[1])  # each frame its own draw


def test_blur_keeps_a_flat_image_and_softens_an_edge_sharpen_overshoots_it() -> None:
    img = np.zeros((32, 32), np.float32)
    img[:, 16:] = 1.0
    blurred = AcquisitionShift(blur=2.0)(img)
    assert 0.0 < blurred[5, 15] < 0.5 < blurred[5, 16] < 1.0
    np.testing.assert_allclose(blurred[:, :4], 0.0, atol=1e-6)
    mid = np.full((32, 32), 0.5, np.float32)
    mid[:, 16:] = 0.7
    mid[0, 0], mid[-1, -1] = 0.0, 1.0  # keep the range [0, 1]
    sharp = AcquisitionShift(sharpen=1.0, sharpen_sigma=2.0)(mid)
    assert sharp[10, 15] < 0.5 - 0.02 and sharp[10, 16] > 0.7 + 0.02  # dark undershoot, bright overshoot
    np.testing.assert_allclose(sharp[10:20, 2:6], 0.5, atol=1e-3)  # flat far from the edge


def test_bits_quantise_and_jpeg_keeps_shape_and_is_close() -> None:
    img = _ramp_image(0.0, 1.0, (16, 256))
    q = AcquisitionShift(bits=2)(img)
    assert len(np.unique(np.round(q, 6))) == 4
    j = AcquisitionShift(jpeg=40)(img)
    assert j.shape == img.shape and 0 < np.abs(j - img).mean() < 0.02


def test_ramp_darkens_the_top_left_and_brightens_the_bottom_right() -> None:
    img = np.full((33, 33), 0.5, np.float32)
    img[16, 16], img[16, 17] = 0.0, 1.0
    out = AcquisitionShift(ramp=0.4)(img)
    assert out[0, 0] == pytest.approx(0.5 * 0.8, abs=1e-5) and out[-1, -1] == pytest.approx(0.5 * 1.2, abs=1e-5)
    assert out[0, -1] == pytest.approx(0.5, abs=1e-5)  # the anti-diagonal is unchanged


def test_tensor_in_tensor_out_and_the_dictionary_twin_leaves_labels_alone() -> None:
    img = torch.from_numpy(_ramp_image())[None]
    out = AcquisitionShift(gamma=1.5)(img)
    assert isinstance(out, torch.Tensor) and out.shape == img.shape and out.dtype == torch.float32
    label = torch.ones_like(img)
    d = AcquisitionShiftd(keys="image", gamma=1.5)({"image": img, "label": label})
    assert torch.equal(d["label"], label) and torch.allclose(d["image"], out)


def test_parse_describe_round_trip_and_clear_errors() -> None:
    shift = parse_acquisition_shift("jpeg=40, gamma=1.6,noise=0.02")
    assert shift.describe() == "noise=0.02,gamma=1.6,jpeg=40"  # chain order
    assert parse_acquisition_shift(shift.describe()).params == shift.params
    for bad, words in (
        ("gama=1.2", "unknown parameter 'gama'"),
        ("gamma", "expected name=value"),
        ("gamma=1.2,gamma=1.3", "given twice"),
        ("bits=six", "bits must be an integer"),
        ("noise=-0.1", "noise must be a number in"),
        ("bits=1", "bits must be 0"),
        ("jpeg=2.5", "jpeg must be an integer"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_acquisition_shift(bad)
    assert set(SHIFT_PARAMETERS) >= {"gamma", "noise", "blur", "sharpen", "bits", "jpeg", "ramp"}


def test_needs_a_2d_image_with_finite_values() -> None:
    with pytest.raises(AngioInputError, match="2D image"):
        AcquisitionShift(gamma=2.0)(np.zeros(5, np.float32))
    with pytest.raises(AngioInputError, match="no finite value"):
        AcquisitionShift(gamma=2.0)(np.full((4, 4), np.nan, np.float32))


def test_random_shift_draws_within_its_ranges_reproducibly_and_leaves_labels_alone() -> None:
    from monai_angio.transforms import RandAcquisitionShiftd

    img = _ramp_image(0.0, 1.0)[None]
    label = np.ones_like(img)
    t = RandAcquisitionShiftd(keys="image", sharpen_prob=1.0, noise_prob=1.0, jpeg_prob=1.0, ramp_prob=1.0,
                              sharpen=(1.5, 1.5), sharpen_sigma=(2.0, 2.0), noise=(0.01, 0.03), jpeg=(30, 30),
                              ramp=(0.2, 0.4))
    t.set_random_state(7)
    d = t({"image": img, "label": label})
    p = t.shift.params
    assert p["sharpen"] == 1.5 and p["sharpen_sigma"] == 2.0 and p["jpeg"] == 30
    assert 0.01 <= p["noise"] <= 0.03 and 0.2 <= p["ramp"] <= 0.4
    np.testing.assert_array_equal(d["label"], label)
    np.testing.assert_allclose(d["image"], AcquisitionShift(**p)(img))
    t.set_random_state(7)
    np.testing.assert_array_equal(t({"image": img})["image"], d["image"])  # seeded: the same draw
    off = RandAcquisitionShiftd(keys="image", prob=0.0)
    assert off({"image": img})["image"] is img
    none_on = RandAcquisitionShiftd(keys="image", sharpen_prob=0, noise_prob=0, jpeg_prob=0, ramp_prob=0)
    none_on({"image": img})
    assert none_on.shift.is_identity
