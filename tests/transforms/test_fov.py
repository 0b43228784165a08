"""Field-of-view detection, normalisation inside it and masking outside it (:mod:`monai_angio.transforms.fov`)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.transforms import (
    FieldOfView,
    FieldOfViewd,
    FOVNormalize,
    FOVNormalized,
    MaskOutsideFOVd,
    field_of_view_mask,
    fov_normalize,
)


def _collimated(
    size: int = 200, radius: int = 80, border: float = 0.03, seed: int = 0, centre_col: Optional[float] = None
) -> tuple:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    cc = size / 2 if centre_col is None else centre_col
    disc = (yy - size / 2) ** 2 + (xx - cc) ** 2 < radius**2
    img = 0.6 + 0.1 * np.sin(xx / 9.0) + 0.02 * rng.standard_normal((size, size))
    img[size // 2 - 3 : size // 2 + 3, :] = 0.2  # a dark vessel crossing the whole image, also the shadow
    img = np.where(disc, img, border + 0.005 * rng.standard_normal((size, size)))
    return img.astype(np.float32), disc


def test_circular_collimator_found() -> None:
    img, disc = _collimated()
    fov = field_of_view_mask(img)
    assert fov.shape == disc.shape and fov.dtype == bool
    assert not (fov & ~disc).any()  # nothing outside the collimator
    assert (fov & disc).sum() > 0.9 * disc.sum()  # only a thin penumbra margin is lost


def test_small_corner_shadows_found_with_the_border_reference() -> None:
    """A round collimator wider than the frame, off centre, leaves two dark corners of 0.44 % of the image each: 0.9 %
    in all, below the image's 1st percentile (the default reference misses them) but a good share of the border."""
    img, disc = _collimated(size=200, radius=140, centre_col=84)
    corners = ~disc
    assert 0.005 < corners.mean() < 0.01 and not corners[:, :100].any()
    assert field_of_view_mask(img).all()  # the default: no shadow found
    fov = field_of_view_mask(img, border_reference=True)
    assert (corners & ~fov).sum() > 0.8 * corners.sum()  # thin tips along the border may stay
    assert (fov & disc).sum() > 0.99 * disc.sum()
    # the same through the dictionary transform, as the flagship's label mask
    d = FieldOfViewd(keys="image", border_fov_key="label_fov")({"image": img[None]})
    np.testing.assert_array_equal(np.asarray(d["label_fov"])[0], fov)
    np.testing.assert_array_equal(np.asarray(d["fov"])[0], field_of_view_mask(img))  # and the default one


def test_dim_border_and_off_centre_found() -> None:
    img, _ = _collimated(border=0.25)
    shifted = np.roll(img, 30, axis=1)
    fov = field_of_view_mask(shifted)
    assert 0.45 < fov.mean() < 0.55  # about the disc's area (pi 80^2 / 200^2 = 0.50), shrunk by the margin
    assert not fov[:, :20].any()


def test_no_collimator_and_dark_anatomy_kept() -> None:
    rng = np.random.default_rng(1)
    img = 0.6 + 0.02 * rng.standard_normal((160, 160))
    assert field_of_view_mask(img).all()
    # a dark, textured region touching the border (diaphragm, heart) is anatomy, not a collimator
    yy, xx = np.mgrid[:160, :160]
    dark = img.copy()
    dark[100:] = 0.2 + 0.15 * np.sin(xx[100:] / 3.0) * np.cos(yy[100:] / 4.0)
    assert field_of_view_mask(dark).all()
    assert field_of_view_mask(np.zeros((64, 64))).all()  # constant image: no detection, nothing blanked


def test_normalisation_inside_fov_and_fill() -> None:
    img, disc = _collimated()
    fov = field_of_view_mask(img)
    out = fov_normalize(img, fov)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    inside = out[fov]
    assert np.percentile(inside, 0.5) == pytest.approx(0.0, abs=1e-3)
    assert np.percentile(inside, 99.5) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(out[~fov], np.median(out[fov]), rtol=1e-6)  # the shadow's edge is gone
    assert np.all(fov_normalize(np.full((8, 8), 3.0)) == 0)


def test_dictionary_chain_keeps_meta_and_masks_labels() -> None:
    img, disc = _collimated()
    mt = MetaTensor(torch.as_tensor(img)[None], meta={"filename_or_obj": "x.png"})
    d = FOVNormalized(keys="image")(FieldOfViewd(keys="image")({"image": mt}))
    assert d["fov"].shape == (1, 200, 200) and isinstance(d["image"], MetaTensor)
    assert d["image"].meta["filename_or_obj"] == "x.png"
    np.testing.assert_allclose(np.asarray(d["image"]), np.asarray(FOVNormalize()(mt)), atol=1e-6)
    d["pred"] = torch.ones(1, 200, 200, dtype=torch.uint8)
    masked = MaskOutsideFOVd(keys="pred")(d)["pred"]
    assert int(masked.sum()) == int(d["fov"].sum())
    with pytest.raises(ValueError, match="does not match"):
        MaskOutsideFOVd(keys="pred")({"pred": torch.ones(1, 10, 10), "fov": d["fov"]})
    assert MaskOutsideFOVd(keys="pred")({"pred": 5})["pred"] == 5  # no mask stored: unchanged


def test_normalisation_of_an_integer_frame_is_float32() -> None:
    """An integer frame (a uint16 cine loaded in its stored type) normalises to the same float32 values."""
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 4096, (1, 64, 64)).astype(np.uint16)
    out = FOVNormalize()(MetaTensor(torch.from_numpy(frame)))
    ref = FOVNormalize()(MetaTensor(torch.from_numpy(frame.astype(np.float32))))
    assert out.dtype == torch.float32 and float(out.max()) == pytest.approx(1.0)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    mask = FieldOfView()(torch.from_numpy(np.repeat(frame, 3, 0)))
    assert mask.shape == (1, 64, 64)
