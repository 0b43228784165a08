"""The catheter's profile: a guidewire inside it, and backgrounds it cannot calibrate on."""

import dataclasses

import numpy as np
import pytest

from monai_angio.errors import CalibrationError
from monai_angio.qca import calibrate, calibrate_from_catheter
from monai_angio.qca.pipeline import psf_from_calibration
from monai_angio.qca.catheter_profile import (
    GUIDEWIRE_DIAMETER_MM,
    catheter_profile_model,
    clear_background,
    fit_catheter_profile,
)
from tests.qca.analytic import blurred_tube_image

X = np.arange(-12.0, 12.0 + 1e-9, 0.25)
WIRE_RATIO_6F = GUIDEWIRE_DIAMETER_MM / 2.0  # wire diameter / catheter diameter (mm / mm) of a 6F catheter


def _profile(radius=4.0, mu=0.15, sigma=0.9, wire=0.0, offset=0.0):
    d = catheter_profile_model(X, 0.2, radius, mu, sigma, wire_mu=wire, wire_offset=offset,
                               wire_radius=radius * WIRE_RATIO_6F)
    return (0.8 + 0.004 * X) * (1.0 - d)


def test_plain_cylinder_recovered_by_both_models():
    y = _profile()
    plain = fit_catheter_profile(X, y, 3.6)
    wired = fit_catheter_profile(X, y, 3.6, wire_to_catheter=WIRE_RATIO_6F)
    assert plain.width == pytest.approx(8.0, rel=0.005)
    assert plain.sigma == pytest.approx(0.9, rel=0.05)
    assert wired.width == pytest.approx(8.0, rel=0.01)


@pytest.mark.parametrize("offset", [0.0, 1.5])
def test_guidewire_makes_the_cylinder_read_narrow_and_its_model_recovers_it(offset):
    # a wire as dark at its centre as the catheter (central line integrals 2 r mu equal)
    rw = 4.0 * WIRE_RATIO_6F
    y = _profile(wire=0.15 * 4.0 / rw, offset=offset)
    plain = fit_catheter_profile(X, y, 4.0)
    wired = fit_catheter_profile(X, y, 4.0, wire_to_catheter=WIRE_RATIO_6F)
    assert plain.width < 0.98 * 8.0  # the narrower, denser cylinder of the calibration error
    assert wired.width == pytest.approx(8.0, rel=0.015)
    assert wired.wire_offset == pytest.approx(offset, abs=0.3)
    assert wired.sse < 0.1 * plain.sse


def _catheter_image(shadow=False, clip=None):
    img, mask, _ = blurred_tube_image(size=128, spacing_mm=0.25, diameter_mm=2.0, angle=0.0, mu_per_mm=0.35,
                                      psf_sigma_px=1.0, noise_sd=0.003)
    if shadow:  # a collimator blade along the catheter, 2 px beyond its lower edge, over the right half
        img[70:, 64:] *= 0.1
    if clip is not None:
        img = np.minimum(img, clip)
    return img, mask


def test_clear_background_flags_collimator_edges_and_saturation():
    pts = np.stack([np.full(60, 63.6), np.arange(30.0, 90.0)], axis=1)
    tang = np.tile([0.0, 1.0], (60, 1))
    img, _ = _catheter_image()
    ok, info = clear_background(img, pts, tang, 8.0)
    assert ok.all() and info == {"clipped": 0, "uneven": 0, "points": 60}
    img, _ = _catheter_image(shadow=True)
    ok, info = clear_background(img, pts, tang, 8.0)
    assert ok[pts[:, 1] < 60].all() and not ok[pts[:, 1] > 66].any()
    assert info["uneven"] == int((~ok).sum())
    img, _ = _catheter_image(clip=0.6)  # over-exposed: the background and the catheter's rim clip at 0.6
    ok, info = clear_background(img, pts, tang, 8.0)
    assert not ok.any() and info["clipped"] == 60


@pytest.mark.parametrize("spacing", [0.2, 0.3, 0.4])
def test_calibration_with_a_guidewire_in_the_catheter(spacing):
    kw = dict(size=128, spacing_mm=spacing, diameter_mm=2.0, mu_per_mm=0.35, psf_sigma_px=1.0, noise_sd=0.004)
    img, mask, _ = blurred_tube_image(wire_mm=GUIDEWIRE_DIAMETER_MM, wire_mu_per_mm=1.5, wire_offset_mm=0.2, **kw)
    lab = mask.astype(np.uint8) * 2
    cal = calibrate_from_catheter(lab, french=6, image=img)
    assert cal.details["width_source"] == "image+guidewire"
    assert cal.details["guidewire"]["detected"]
    assert "guidewire" in cal.details["warnings"][0]  # the CLI prints it: check the scale against the DICOM
    assert abs(cal.mm_per_px / spacing - 1) < 0.02
    assert cal.details["guidewire"]["psf_sigma_px"] == pytest.approx(1.0, rel=0.15)
    assert psf_from_calibration(cal) is None  # the vessels' fits measure their own PSF (the plain fits' is biased)
    # the same catheter without the wire: no wire found, the cylinder fit as before
    img0, _, _ = blurred_tube_image(**kw)
    cal0 = calibrate_from_catheter(lab, french=6, image=img0)
    assert cal0.details["width_source"] == "image" and not cal0.details["guidewire"]["detected"]
    assert abs(cal0.mm_per_px / spacing - 1) < 0.01
    off = calibrate_from_catheter(lab, french=6, image=img, guidewire_mm=None)
    assert "guidewire" not in off.details
    # what the wire did before: a narrow catheter (a scale too large), or fits too poor to use (the mask instead)
    assert off.details["width_source"] == "mask" or off.mm_per_px > 1.04 * spacing


def test_catheter_along_a_collimator_edge_cannot_calibrate():
    img, mask = _catheter_image()
    img[68:, :] *= 0.1  # the blade runs along the whole catheter
    with pytest.raises(CalibrationError, match="even, unclipped background") as e:
        calibrate_from_catheter(mask.astype(np.uint8) * 2, french=6, image=img, filename="run_3.dcm")
    assert "run_3.dcm" in str(e.value)
    # the QCA pipeline's calibrate() falls back to the DICOM geometry and says why
    meta = {"isocenter_spacing_mm": [0.25, 0.25]}
    cal = calibrate(mask.astype(np.uint8) * 2, meta, french=6, image=img)
    assert cal.source == "dicom-isocenter" and "even, unclipped background" in cal.details["warnings"][-1]
    # without the image the mask still calibrates (it does not see the blade)
    assert calibrate_from_catheter(mask.astype(np.uint8) * 2, french=6).mm_per_px == pytest.approx(0.25, rel=0.03)


def test_catheter_narrower_than_two_pixels_is_refused():
    lab = np.zeros((64, 64), np.uint8)
    lab[30, 5:60] = 2
    with pytest.raises(CalibrationError, match="px wide"):
        calibrate_from_catheter(lab, french=6, filename="tiny.png")


def test_cathlab_phantom_with_a_guidewire():
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    cfg = PhantomConfig.cathlab(size=512, n_stenoses=(1, 2), stenosis_percent=(20.0, 85.0), catheter_french=(5, 6, 7))
    ph = generate_phantom(711018, dataclasses.replace(cfg, guidewire_prob=1.0))
    assert "guidewire" in ph.meta["cathlab"]["devices"]
    image = np.asarray(ph.image, np.float64)
    cal = calibrate_from_catheter(ph.label, french=ph.catheter_french, image=image)
    old = calibrate_from_catheter(ph.label, french=ph.catheter_french, image=image, guidewire_mm=None)
    assert cal.details["width_source"] == "image+guidewire"
    assert abs(cal.mm_per_px / ph.spacing_mm - 1) < 0.03
    assert old.mm_per_px / ph.spacing_mm - 1 > 0.2  # the cylinder alone: the scale 20 % and more too large


def test_a_profile_that_is_no_xray_finds_no_guidewire():
    from tests.qca.analytic import label_with_catheter

    lab, _ = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    img = np.where(lab > 0, 80.0, 200.0)  # a flat box across the catheter: no blur, no cylinder
    cal = calibrate_from_catheter(lab, french=6, image=img)
    assert not cal.details["guidewire"]["detected"]
    assert cal.details["guidewire"]["misfit_rms_of_depth"] > 0.03
    assert abs(cal.mm_per_px / 0.3 - 1) < 0.03
