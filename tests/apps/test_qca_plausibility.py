"""``qca`` plausibility checks (issue 10): points outside the image, far snaps, catheter sizes, DICOM cross-check."""

from __future__ import annotations

import argparse

import imageio.v3 as iio
import numpy as np
import pytest

from monai_angio.apps import qca as qca_app
from monai_angio.qca.calibration import calibrate
from tests.qca.analytic import label_with_catheter


def _run(argv) -> int:
    p = argparse.ArgumentParser(prog="monai-angio")
    qca_app.register(p.add_subparsers(dest="command"))
    args = p.parse_args(["qca"] + [str(a) for a in argv])
    return int(args.func(args))


@pytest.fixture()
def case(tmp_path):
    lab, truth = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    iio.imwrite(tmp_path / "case.png", np.where(lab > 0, 80, 200).astype(np.uint8))
    iio.imwrite(tmp_path / "case_label.png", lab)
    return tmp_path, truth


def _pt(rc) -> str:
    return f"{rc[0]:.0f},{rc[1]:.0f}"


def test_point_outside_the_image_refused(case, capsys):
    d, truth = case
    base = [d / "case.png", "--mask", d / "case_label.png", "--mm-per-px", "0.3"]
    assert _run(base + ["--start", "9999,9999", "--end", _pt(truth["end_rc"])]) == 1
    err = capsys.readouterr().err
    assert "case.png" in err and "--start point (9999, 9999) is outside the image" in err and "96 x 96 px" in err
    assert _run(base + ["--start", _pt(truth["ostium_rc"]), "--end=-1,10"]) == 1
    assert "--end point (-1, 10)" in capsys.readouterr().err


def test_point_far_from_the_vessel_refused_with_distance(case, capsys):
    d, truth = case
    base = [d / "case.png", "--mask", d / "case_label.png", "--mm-per-px", "0.3", "--method", "mask"]
    assert _run(base + ["--start", _pt(truth["ostium_rc"]), "--end", _pt(truth["end_rc"])]) == 0
    capsys.readouterr()
    assert _run(base + ["--start", "90,5", "--end", _pt(truth["end_rc"])]) == 1  # bottom-left corner: no vessel
    err = capsys.readouterr().err
    assert "--start point (90, 5) is" in err and " mm (" in err and "more than 3 mm" in err and "case.png" in err


def test_check_snap_uncalibrated_uses_pixels():
    with pytest.raises(ValueError, match=r"is 20 px from .* more than 15 px"):
        qca_app.check_snap("end", (0, 20), (0, 0), float("nan"), "x.png")
    qca_app.check_snap("end", (0, 14), (0, 0), float("nan"), "x.png")  # within 15 px


@pytest.mark.parametrize("size", ["0F", "30F", "-6F", "2.5"])
def test_implausible_catheter_sizes_name_the_range(case, capsys, size):
    d, _ = case
    assert _run([d / "case.png", "--mask", d / "case_label.png", f"--catheter={size}"]) == 1
    err = capsys.readouterr().err
    assert "implausible" in err and "3F to 10F" in err and "Traceback" not in err


def test_negative_catheter_with_a_space_gets_the_same_explanation(case, capsys):
    d, _ = case
    from monai_angio.apps.cli import main

    assert main(["qca", str(d / "case.png"), "--mask", str(d / "case_label.png"), "--catheter", "-6F"]) == 1
    err = capsys.readouterr().err
    assert "implausible" in err and "3F to 10F" in err and "expected one argument" not in err


def test_join_dash_values_only_touches_listed_options():
    from monai_angio.apps.cli import join_dash_values

    argv = ["qca", "x.png", "--catheter", "-6F", "--start", "-5,10", "--out", "-o", "--end", "--catheter"]
    assert join_dash_values(argv) == ["qca", "x.png", "--catheter=-6F", "--start=-5,10", "--out", "-o", "--end",
                                      "--catheter"]


def test_mask_0_255_says_255_is_not_a_label(case, capsys):
    d, _ = case
    lab = iio.imread(d / "case_label.png")
    iio.imwrite(d / "bin.png", np.where(lab > 0, 255, 0).astype(np.uint8))
    assert _run([d / "case.png", "--mask", d / "bin.png"]) == 1
    err = capsys.readouterr().err
    assert "bin.png" in err and "255 is not a label" in err and "--mm-per-px" in err


def test_catheter_and_dicom_isocentre_disagreement_warned():
    lab, _ = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    agree = calibrate(label=lab, meta={"isocenter_spacing_mm": [0.31, 0.31]}, french=6)
    assert agree.source == "catheter" and agree.details["dicom_mm_per_px"] == pytest.approx(0.31)
    assert not any("DICOM isocentre" in w for w in agree.details.get("warnings", []))
    off = calibrate(label=lab, meta={"isocenter_spacing_mm": [0.225, 0.225]}, french=6)
    assert off.source == "catheter" and off.mm_per_px == pytest.approx(0.3, rel=0.05)
    msg = [w for w in off.details.get("warnings", []) if "DICOM isocentre" in w]
    assert msg and "more than 10 %" in msg[0] and "0.2250" in msg[0]
    # detector spacing alone (not magnification corrected) is not compared
    det = calibrate(label=lab, meta={"imager_pixel_spacing": [0.4, 0.4]}, french=6)
    assert "dicom_mm_per_px" not in det.details
