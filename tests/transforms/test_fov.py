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


@pytest.mark.parametrize("method", ["basic", "robust"])
def test_no_collimator_and_dark_anatomy_kept(method: str) -> None:
    rng = np.random.default_rng(1)
    img = 0.6 + 0.02 * rng.standard_normal((160, 160))
    assert field_of_view_mask(img, method=method).all()
    # a dark, textured region touching the border (diaphragm, heart) is anatomy, not a collimator
    yy, xx = np.mgrid[:160, :160]
    dark = img.copy()
    dark[100:] = 0.2 + 0.15 * np.sin(xx[100:] / 3.0) * np.cos(yy[100:] / 4.0)
    assert field_of_view_mask(dark, method=method).all()
    assert field_of_view_mask(dark, border_reference=True, method=method).all()
    assert field_of_view_mask(np.zeros((64, 64)), method=method).all()  # constant image: nothing blanked


def _textured(size: int = 200, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    img = 0.6 + 0.1 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 0.02 * rng.standard_normal((size, size))
    img[size // 2 - 4 : size // 2 + 4, :] = 0.2  # a dark vessel crossing the whole image
    return img.astype(np.float32)


def test_robust_finds_thin_frame_strips() -> None:
    """A 4 px black frame border and a 3 px one: thinner than the opening that parts shadows from vessels, so
    only the robust method's strip search finds them; the vessel that reaches both other sides is kept."""
    img = _textured()
    img[:4] = 0.02
    img[:, -3:] = 0.02
    assert field_of_view_mask(img).all()  # basic: missed
    fov = field_of_view_mask(img, method="robust")
    assert not fov[:4].any() and not fov[:, -3:].any()
    assert fov[10:, :-10].all()  # beyond the strips and the margin nothing is cut
    assert fov[96:104, 0].all()  # the vessel leaving the left side is no strip


def test_robust_finds_a_dim_grey_border_brighter_than_dark_anatomy() -> None:
    """A grey collimator border (0.4) brighter than a dark structure in the field (0.1): the basic method's dark
    level is the structure's, so it misses the border; the robust one takes the level a quarter of the border
    ring shares."""
    img, disc = _collimated(border=0.4)
    xx = np.mgrid[:200, :200][1]
    block = (slice(120, 150), slice(60, 140))
    img[block] = np.where(disc[block], 0.1 + 0.03 * np.sin(xx[block] / 2.0), img[block])
    assert field_of_view_mask(img).all()
    fov = field_of_view_mask(img, method="robust")
    assert (fov & ~disc).sum() < 0.01 * (~disc).sum()  # the soft edge's outermost pixels at most
    assert (fov & disc).sum() > 0.95 * disc.sum()


def test_robust_parts_a_black_shadow_from_dark_anatomy_it_touches() -> None:
    """Dark, textured anatomy (0.2) touching the black shadow merges with it at the first dark level, and the
    merged region is not flat, so the basic method keeps everything; the second, darker level parts them."""
    img, disc = _collimated()
    yy, xx = np.mgrid[:200, :200]
    anatomy = (yy > 140) & disc
    img[anatomy] = 0.2 + 0.03 * np.sin(xx[anatomy] / 2.0) * np.cos(yy[anatomy] / 3.0)
    assert field_of_view_mask(img).all()
    fov = field_of_view_mask(img, method="robust")
    assert not (fov & ~disc).any()
    assert (fov & anatomy).sum() > 0.85 * anatomy.sum()  # the anatomy stays, but for the margin along the edge
    assert (fov & disc).sum() > 0.95 * disc.sum()


def test_robust_method_on_cathlab_phantoms() -> None:
    """Against the generator's true field of view on nine 256 px cath-lab phantoms with a collimator or shutters
    (burned-in text, grey borders, dark anatomy at the edge): the basic method misses all of the shadow on
    five of them, the robust one finds nearly all of it and cuts nothing of the field beyond the margin."""
    from scipy import ndimage as ndi

    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    missed = {"basic": [], "robust": []}
    for seed in (700005, 700010, 700015, 700025, 700030, 700035, 700040, 700045, 700065):
        ph = generate_phantom(seed, PhantomConfig.cathlab(size=256))
        shadow = ~ph.fov_mask
        assert shadow.mean() > 0.1
        core = ndi.binary_erosion(ph.fov_mask, iterations=7, border_value=1)  # the field beyond the 4 px margin
        for method in missed:
            fov = field_of_view_mask(ph.image, border_reference=True, method=method)
            missed[method].append((fov & shadow).sum() / shadow.sum())
            if method == "robust":
                assert (~fov & core).sum() <= 0.02 * core.sum(), seed
    assert np.mean(missed["basic"]) > 0.5
    assert np.mean(missed["robust"]) < 0.05 and max(missed["robust"]) < 0.1


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        field_of_view_mask(np.zeros((32, 32)), method="magic")
    with pytest.raises(ValueError, match="method"):
        FieldOfViewd(keys="image", method="magic")


def test_dictionary_transform_applies_the_method_to_both_masks() -> None:
    img, disc = _collimated(border=0.4)
    d = FieldOfViewd(keys="image", border_fov_key="label_fov", method="robust")({"image": img[None]})
    np.testing.assert_array_equal(np.asarray(d["fov"])[0], field_of_view_mask(img, method="robust"))
    np.testing.assert_array_equal(
        np.asarray(d["label_fov"])[0], field_of_view_mask(img, border_reference=True, method="robust")
    )


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


def test_robust_finds_a_black_border_under_strong_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    """Noise of 0.08 on a field at 0.6, clipped at black (as a detector does), widens a black border's spread past
    the flatness budget; the robust test allows for the frame's measured noise, and only for such a noisy frame."""
    from monai_angio.transforms import fov as fov_module

    rng = np.random.default_rng(5)
    img = _textured(seed=5)
    inside = np.zeros(img.shape, bool)
    inside[14:-14, 14:-14] = True
    img[~inside] = 0.0
    noisy = np.clip(img + 0.08 * rng.standard_normal(img.shape), 0.0, None).astype(np.float32)
    fov = field_of_view_mask(noisy, method="robust")
    assert not (fov & ~inside).any() and (fov & inside).sum() > 0.9 * inside.sum()
    monkeypatch.setattr(fov_module, "_noise_allowance", lambda *a: 0.0)
    assert field_of_view_mask(noisy, method="robust").all()  # without the allowance the border stays in
    monkeypatch.undo()
    span = float(np.median(img[50:150, 50:150]))
    allowance = fov_module._noise_allowance
    assert allowance(fov_module._noise_spread(img), span, 0.06) == 0.0  # the clean frame: the test as it always was
    assert allowance(fov_module._noise_spread(noisy), span, 0.06) > 0.75 * 0.06 * span
