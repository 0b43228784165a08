"""Tests of the Frangi vesselness baseline on synthetic dark tubes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from scipy import ndimage as ndi

from monai_angio.errors import AngioInputError
from monai_angio.metrics import dice
from monai_angio.transforms import (
    FrangiVesselness,
    FrangiVesselnessd,
    default_sigmas,
    frangi_segment,
    frangi_vesselness,
)

SIZE = 128


def _tube_image(size: int = SIZE, width: float = 6.0, seed: int = 0):
    """A bright background with a dark curved tube of ``width`` px; returns ``(image, tube_mask)``."""
    rr, cc = np.mgrid[0:size, 0:size].astype(np.float64)
    centre_r = size / 2 + 0.18 * size * np.sin(2 * np.pi * cc / size)
    tube = np.abs(rr - centre_r) <= width / 2
    img = np.full((size, size), 0.85)
    img[tube] = 0.45
    img = ndi.gaussian_filter(img, 1.0)
    img += np.random.default_rng(seed).normal(0, 0.01, img.shape)
    return img.astype(np.float32), tube


def test_default_sigmas_scale_with_size():
    np.testing.assert_allclose(default_sigmas((256, 256)), np.linspace(1, 6, 6))
    np.testing.assert_allclose(default_sigmas((1, 512, 600)), np.linspace(2, 12, 6))
    small = default_sigmas((64, 64))
    assert small.min() == 1.0 and np.all(np.diff(small) > 0)  # never below 1 px, no duplicates


def test_dark_tube_is_found():
    img, tube = _tube_image()
    lab = frangi_segment(img)
    assert lab.dtype == np.uint8 and set(np.unique(lab)) <= {0, 1}
    assert dice(lab, tube) > 0.7
    v = frangi_vesselness(img)
    assert v[tube].mean() > 5 * v[~tube].mean()


def test_bright_tube_is_not_a_vessel():
    img, tube = _tube_image()
    lab = frangi_segment(1.0 - img)  # a bright ridge: black_ridges=True must not answer on it
    assert (lab.astype(bool) & tube).sum() < 0.2 * tube.sum()


def test_nothing_outside_a_dark_collimator_disc():
    img, tube = _tube_image()
    rr, cc = np.mgrid[0:SIZE, 0:SIZE]
    disc = (rr - SIZE / 2) ** 2 + (cc - SIZE / 2) ** 2 <= (0.4 * SIZE) ** 2
    shadow = np.where(disc, img, 0.05).astype(np.float32)
    shadow = ndi.gaussian_filter(shadow, 1.0) + np.random.default_rng(1).normal(0, 0.003, img.shape)
    lab = frangi_segment(shadow.astype(np.float32))
    assert not lab[~disc].any()
    inside = tube & ndi.binary_erosion(disc, iterations=8)
    assert (lab.astype(bool) & inside).sum() > 0.7 * inside.sum()
    # a given FOV is honoured exactly
    half = np.zeros_like(disc)
    half[:, : SIZE // 2] = True
    lab_half = frangi_segment(img, fov=half)
    assert not lab_half[:, SIZE // 2 :].any() and lab_half[:, : SIZE // 2].any()


def test_array_and_dict_transforms():
    img, tube = _tube_image()
    ref = frangi_segment(img)
    meta_img = MetaTensor(torch.from_numpy(np.stack([img, img])), meta={"filename_or_obj": "tube.png"})
    out = FrangiVesselness()(meta_img)
    assert isinstance(out, MetaTensor) and out.shape == (2, SIZE, SIZE)
    assert out.meta["filename_or_obj"] == "tube.png"
    np.testing.assert_array_equal(out[0].numpy(), ref)
    np.testing.assert_array_equal(FrangiVesselness()(img), ref)  # (H, W) in, (H, W) out, numpy stays numpy
    v = FrangiVesselness(return_vesselness=True)(img[None])
    assert v.dtype == np.float32 and v.shape == (1, SIZE, SIZE)

    d = FrangiVesselnessd(keys="image", output_keys="frangi")({"image": img[None]})
    np.testing.assert_array_equal(d["frangi"][0], ref)
    np.testing.assert_array_equal(d["image"][0], img)  # image kept
    fov = np.zeros((1, SIZE, SIZE), bool)
    fov[:, :, :40] = True
    d = FrangiVesselnessd(keys="image", output_keys="frangi")({"image": img[None], "fov": fov})
    assert not d["frangi"][0][:, 40:].any()


def test_bad_input():
    with pytest.raises(AngioInputError):
        frangi_segment(np.zeros((3, 8, 8)))
    with pytest.raises(AngioInputError):
        frangi_segment(np.full((8, 8), np.nan))
    with pytest.raises(AngioInputError, match="does not match"):
        frangi_segment(np.zeros((16, 16)), fov=np.ones((8, 8), bool))
    bad = MetaTensor(torch.full((1, 8, 8), float("nan")), meta={"filename_or_obj": "bad.png"})
    with pytest.raises(AngioInputError, match="bad.png"):
        FrangiVesselness()(bad)
    assert not frangi_segment(np.full((32, 32), 0.5, np.float32)).any()  # flat image: nothing
