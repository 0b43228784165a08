"""Image polarity: are the vessels darker than their surroundings, and inverting an image that shows them bright."""

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.transforms import VesselPolarity, VesselPolarityd, vessel_polarity


def _tubes(size: int = 256, dark: bool = True) -> np.ndarray:
    """Thin tubes (2-5 px) on a bright background that falls off to one side, with a broad dark band (a 'spine')."""
    rr, cc = np.mgrid[:size, :size].astype(np.float32) / size
    img = 0.8 - 0.2 * cc - 0.25 * np.exp(-(((cc - 0.5) / 0.08) ** 2))  # smooth anatomy: no narrow structure
    for k, (a, b, w) in enumerate([(0.2, 0.1, 0.008), (0.5, -0.3, 0.012), (0.7, 0.4, 0.018), (0.35, 0.8, 0.01)]):
        d = np.abs(rr - (a + b * (cc - 0.5) + 0.05 * np.sin(6 * cc + k)))
        img = img - 0.3 * np.exp(-((d / w) ** 2))
    img = np.clip(img, 0.0, 1.0)
    return img if dark else 1.0 - img


def test_dark_tubes_read_positive_and_bright_ones_negative():
    assert vessel_polarity(_tubes()) > 0.3
    assert vessel_polarity(_tubes(dark=False)) < -0.3
    # the broad band and the intensity ramp alone do not vote
    rr, cc = np.mgrid[:256, :256].astype(np.float32) / 256
    assert np.isnan(vessel_polarity(0.8 - 0.2 * cc)) or abs(vessel_polarity(0.8 - 0.2 * cc)) < 0.3


def test_polarity_of_a_phantom_and_its_inversion_at_several_sizes():
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    for size in (256, 640):
        ph = generate_phantom(5, PhantomConfig(size=size))
        img = np.asarray(ph.image, np.float32)
        fov = np.ones(img.shape, bool)
        assert vessel_polarity(img, fov) > 0.5 > -0.5 > vessel_polarity(img.max() - img, fov)


def test_flat_or_tiny_inputs_give_nan_and_3d_is_refused():
    assert np.isnan(vessel_polarity(np.full((64, 64), 0.5, np.float32)))
    assert np.isnan(vessel_polarity(_tubes(), fov=np.zeros((256, 256), bool)))  # nothing inside the field
    with pytest.raises(ValueError, match="2D frame"):
        vessel_polarity(np.zeros((2, 32, 32)))


def test_measure_only_leaves_the_image_untouched():
    img = MetaTensor(torch.from_numpy(_tubes(dark=False)[None]), meta={"filename_or_obj": "x.png"})
    d = VesselPolarityd(keys="image", fov_key="fov")({"image": img})
    assert d["image"] is img and d["vessel_polarity"] < 0 and d["vessel_polarity_inverted"] == 0.0


@pytest.mark.parametrize("invert,dark,flipped", [(True, True, True), ("auto", False, True), ("auto", True, False)])
def test_invert_always_or_when_the_vessels_are_bright(invert, dark, flipped):
    x = _tubes(dark=dark)[None]
    img = MetaTensor(torch.from_numpy(x.copy()), meta={"filename_or_obj": "x.png"})
    img.push_applied_operation({"class": "ToRowMajor"})  # what a bundle's Invertd needs to map the prediction back
    fov = np.ones(x.shape[1:], bool)
    d = VesselPolarityd(keys=["image", "other"], invert=invert)({"image": img, "other": x.copy(), "fov": fov})
    expected = 1.0 - x if flipped else x
    np.testing.assert_allclose(np.asarray(d["image"]), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(d["other"]), expected, atol=1e-6)  # the other keys follow the first one
    assert d["vessel_polarity_inverted"] == float(flipped)
    assert isinstance(d["image"], MetaTensor) and d["image"].meta["filename_or_obj"] == "x.png"
    assert [op["class"] for op in d["image"].applied_operations] == ["ToRowMajor"]


def test_invert_setting_is_checked():
    with pytest.raises(ValueError, match="invert must be one of"):
        VesselPolarity(invert="yes")
