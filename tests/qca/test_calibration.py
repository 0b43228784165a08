"""Catheter and DICOM calibration."""

import numpy as np
import pytest

from monai_angio.errors import AngioInputError, CalibrationError
from monai_angio.qca import (
    Calibration,
    calibrate,
    calibrate_from_catheter,
    calibrate_from_dicom,
    catheter_width_px,
    parse_french,
)
from tests.qca.analytic import label_with_catheter, segment_tube


@pytest.mark.parametrize("width", [4.0, 6.5, 8.0, 10.0, 13.3])
@pytest.mark.parametrize("angle", [0.0, 0.4, 1.1])
def test_catheter_width_of_analytic_strips(width, angle):
    size = 128
    c = np.array([63.7, 64.2])
    t = np.array([np.sin(angle), np.cos(angle)])
    mask = segment_tube((size, size), c - 100 * t, c + 100 * t, width, flat_ends=True)  # crosses the image
    res = catheter_width_px(mask)
    # an axis-aligned pixel-centred mask can only hold whole pixels across; oblique ones average out
    expected = float(mask[:, 64].sum()) if angle == 0.0 else width
    assert abs(res["width_px"] - expected) < 0.25
    assert abs(res["width_edt_px"] - width) < 1.0  # the coarse cross-check
    assert res["straight_length_px"] > 30


@pytest.mark.parametrize("french,spacing", [(6, 0.25), (5, 0.2), (7, 0.3)])
def test_catheter_calibration_error_below_3_percent(french, spacing):
    lab, truth = label_with_catheter(spacing_mm=spacing, french=french)
    cal = calibrate_from_catheter(lab, french=f"{french}F")
    assert cal.source == "catheter"
    err = abs(cal.mm_per_px - spacing) / spacing * 100
    assert err < 3.0, (cal.mm_per_px, spacing)
    assert cal.details["french"] == french
    assert cal.details["catheter_diameter_mm"] == pytest.approx(french / 3)


@pytest.mark.parametrize("width,warned", [(3.2, True), (3.9, True), (4.2, False), (8.0, False)])
def test_a_catheter_a_few_pixels_wide_calibrates_with_a_warning(width, warned):
    mask = segment_tube((128, 128), (20.3, -10.0), (100.7, 140.0), width, flat_ends=True)
    cal = calibrate_from_catheter(mask, french=6, catheter_label=None)
    assert cal.mm_per_px == pytest.approx(2.0 / width, rel=0.08)
    notes = [w for w in cal.details.get("warnings", []) if "px wide" in w]
    assert bool(notes) == warned == cal.details["narrow_catheter"]
    if warned:  # the measured width and what to do about it
        assert f"{cal.details['width_px']:.1f} px wide" in notes[0] and "DICOM" in notes[0]


def test_curved_catheter_uses_straight_part():
    size = 128
    lab = np.zeros((size, size), np.uint8)
    # straight shaft from the left border, then a tight hook (the tip) ending near the ostium
    w = 8.0
    lab[segment_tube((size, size), (40.5, -10), (40.5, 90), w, flat_ends=True)] = 2
    rr, cc = np.mgrid[:size, :size]
    ring = np.abs(np.hypot(rr - 58.5, cc - 90.0) - 18.0) < w / 2
    lab[ring & (cc > 90) & (rr <= 76)] = 2
    cal = calibrate_from_catheter(lab, french=6)
    assert abs(cal.details["width_px"] - w) < 0.3
    # the measured points lie on the straight shaft
    for key in ("segment_start_rc", "segment_end_rc"):
        assert abs(cal.details[key][0] - 40) < 1.5 and cal.details[key][1] < 92


def test_no_catheter_pixels_names_file():
    lab, _ = label_with_catheter(catheter=False)
    with pytest.raises(CalibrationError, match=r"case_7\.png: no catheter pixels"):
        calibrate_from_catheter(lab, french=6, filename="case_7.png")


def test_too_short_catheter():
    lab = np.zeros((64, 64), np.uint8)
    lab[30:36, 30:40] = 2
    with pytest.raises(CalibrationError, match="too short|no straight"):
        calibrate_from_catheter(lab, french=6, filename="x.png")


def test_parse_french():
    assert parse_french("6F") == 6 and parse_french("6") == 6 and parse_french(6) == 6
    assert parse_french("5 Fr") == 5 and parse_french("7f") == 7
    with pytest.raises(ValueError):
        parse_french("six")
    with pytest.raises(ValueError):
        parse_french(-1)
    for implausible in ("30F", "0F", "0.5", "12 Fr"):
        with pytest.raises(ValueError, match="implausible.*3F to 10F"):
            parse_french(implausible)


def test_calibrate_from_dicom_order():
    meta = {"imager_pixel_spacing": [0.3, 0.3], "distance_source_to_detector": 1000.0}
    meta["distance_source_to_patient"] = 750.0
    cal = calibrate_from_dicom(meta)
    assert cal.source == "dicom-isocenter" and cal.mm_per_px == pytest.approx(0.225)
    assert cal.details["magnification"] == pytest.approx(1000 / 750)
    cal = calibrate_from_dicom({"ImagerPixelSpacing": [0.3, 0.3], "EstimatedRadiographicMagnificationFactor": 1.5})
    assert cal.source == "dicom-isocenter" and cal.mm_per_px == pytest.approx(0.2)
    cal = calibrate_from_dicom({"isocenter_spacing_mm": [0.21, 0.21], "imager_pixel_spacing": [0.3, 0.3]})
    assert cal.mm_per_px == pytest.approx(0.21)
    cal = calibrate_from_dicom({"imager_pixel_spacing": [0.3, 0.3]})
    assert cal.source == "dicom-imager" and cal.mm_per_px == pytest.approx(0.3)
    assert "magnification" in cal.details["warnings"][0]
    cal = calibrate_from_dicom({"pixel_spacing": [0.25, 0.25]})
    assert cal.source == "dicom-imager" and cal.details["warnings"]
    with pytest.raises(CalibrationError, match="run.dcm"):
        calibrate_from_dicom({"filename_or_obj": "run.dcm", "modality": "XA"})


def test_calibrate_picks_sources():
    lab, _ = label_with_catheter(spacing_mm=0.25)
    meta = {"imager_pixel_spacing": [0.3, 0.3], "distance_source_to_detector": 1000.0}
    meta["distance_source_to_patient"] = 750.0
    assert calibrate(lab, meta, french=6).source == "catheter"
    assert calibrate(lab, meta, french=6, user_mm_per_px=0.1).source == "user"
    assert calibrate(lab, meta).source == "dicom-isocenter"  # no French size
    no_cath, _ = label_with_catheter(catheter=False)
    cal = calibrate(no_cath, meta, french=6)
    assert cal.source == "dicom-isocenter" and "no catheter pixels" in cal.details["catheter_error"]
    assert cal.details["warnings"][-1].endswith("calibrated from the DICOM geometry")
    with pytest.raises(CalibrationError, match="a.png: no calibration available"):
        calibrate(no_cath, None, french=6, filename="a.png")


def test_calibration_validates():
    with pytest.raises(ValueError):
        Calibration(0.2, "guess")
    with pytest.raises(CalibrationError):
        Calibration(-1.0, "user")
    assert issubclass(CalibrationError, AngioInputError)
    assert Calibration(0.2, "user").to_dict() == {"mm_per_px": 0.2, "source": "user", "details": {}}


def test_artery_width_prior_reads_the_widest_vessel():
    from monai_angio.qca import WIDEST_ARTERY_MM, calibrate_from_artery_width
    from tests.qca.analytic import segment_tube

    shape = (200, 300)
    wide = segment_tube(shape, (100.3, -5), (100.3, 305), 20.0)  # 20 px: the left main
    thin = segment_tube(shape, (100.3, 150), (5, 120), 8.0)
    cal = calibrate_from_artery_width(wide | thin)
    assert cal.source == "artery-width" and cal.details["warnings"]
    assert cal.details["widest_artery_px"] == pytest.approx(20.0, abs=1.5)
    assert cal.mm_per_px == pytest.approx(WIDEST_ARTERY_MM / 20.0, rel=0.08)
    # a 0/1/2 label map: the artery (1) is measured, not the wider catheter (2)
    lab = np.where(wide | thin, 1, 0).astype(np.uint8)
    lab[segment_tube(shape, (175.3, -5), (175.3, 305), 30.0)] = 2
    assert calibrate_from_artery_width(lab, widest_mm=3.0).mm_per_px == pytest.approx(3.0 / 20.0, rel=0.08)


def test_artery_width_prior_refuses_too_little_artery():
    from monai_angio.qca import calibrate_from_artery_width

    with pytest.raises(CalibrationError, match="empty artery mask"):
        calibrate_from_artery_width(np.zeros((50, 50), bool), filename="a.png")
    speck = np.zeros((50, 50), bool)
    speck[20:26, 10:30] = True
    with pytest.raises(CalibrationError, match="too little artery"):
        calibrate_from_artery_width(speck)
    with pytest.raises(CalibrationError, match="widest_mm"):
        calibrate_from_artery_width(speck, widest_mm=-1)


def test_calibrate_does_not_use_the_artery_width_prior_unless_asked():
    # an artery the prior could scale, but no catheter and no DICOM geometry: QCA's calibration refuses
    lab = segment_tube((200, 300), (100.3, -5), (100.3, 305), 20.0).astype(np.uint8)
    with pytest.raises(CalibrationError):
        calibrate(lab, meta=None, french=6)


def test_calibrate_uses_the_artery_width_prior_only_when_asked():
    lab = segment_tube((200, 300), (100.3, -5), (100.3, 305), 20.0).astype(np.uint8)
    cal = calibrate(lab, meta=None, french=6, widest_artery_mm=4.0, filename="x.png")
    assert cal.source == "artery-width" and cal.mm_per_px == pytest.approx(4.0 / 20.0, rel=0.08)
    assert "no catheter pixels" in cal.details["catheter_error"]
    # the catheter still wins when it calibrates
    lab2, _ = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    assert calibrate(lab2, french=6, widest_artery_mm=4.0).source == "catheter"
    with pytest.raises(CalibrationError, match="artery width: no artery"):
        calibrate(np.zeros((64, 64), np.uint8), french=6, widest_artery_mm=4.0)
