"""The ``monai-angio qca`` command, through its own module's parser (and the dispatcher when importable)."""

import argparse
import json

import imageio.v3 as iio
import numpy as np
import pytest

from monai_angio.apps import qca as qca_app
from tests.qca.analytic import label_with_catheter


def _parser():
    p = argparse.ArgumentParser(prog="monai-angio")
    qca_app.register(p.add_subparsers(dest="command"))
    return p


@pytest.fixture()
def files(tmp_path):
    lab, truth = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    img = np.where(lab > 0, 80, 200).astype(np.uint8)
    iio.imwrite(tmp_path / "case.png", img)
    iio.imwrite(tmp_path / "case_label.png", lab)
    no_cath = lab.copy()
    no_cath[no_cath == 2] = 0
    iio.imwrite(tmp_path / "nocath_label.png", no_cath)
    return tmp_path, truth


def test_qca_cli_writes_report(files, capsys):
    d, truth = files
    argv = ["qca", str(d / "case.png"), "--mask", str(d / "case_label.png")]
    argv += ["--catheter", "6F", "--out", str(d / "out")]
    args = _parser().parse_args(argv)
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "catheter" in out and "MLD" in out and "stenosis" in out
    rep = json.loads((d / "out" / "case_report.json").read_text())
    assert abs(rep["mm_per_px"] - 0.3) / 0.3 < 0.03
    assert abs(rep["percent_diameter_stenosis"] - 50) < 7
    assert (d / "out" / "case_report.png").exists()
    # refuses to overwrite, then accepts --overwrite; "6" works like "6F"
    args = _parser().parse_args(argv[:-4] + ["--catheter", "6", "--out", str(d / "out")])
    assert args.func(args) == 3
    assert "overwrite" in capsys.readouterr().err
    args = _parser().parse_args(argv[:-4] + ["--catheter", "6", "--out", str(d / "out"), "--overwrite"])
    assert args.func(args) == 0


def test_qca_cli_points_and_user_calibration(files, capsys):
    d, truth = files
    start = ",".join(str(round(v)) for v in truth["ostium_rc"])
    end = ",".join(str(round(v)) for v in truth["end_rc"])
    args = _parser().parse_args(
        ["qca", str(d / "case.png"), "--mask", str(d / "case_label.png")]
        + ["--start", start, "--end", end, "--mm-per-px", "0.3"]
    )
    assert args.func(args) == 0
    assert "(user)" in capsys.readouterr().out


def test_qca_cli_bad_inputs(files, capsys):
    d, _ = files
    args = _parser().parse_args(["qca", str(d / "case.png"), "--mask", str(d / "nocath_label.png")])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "nocath_label.png" in err and "no catheter pixels" in err
    args = _parser().parse_args(["qca", str(d / "case.png"), "--mask", str(d / "missing.png")])
    assert args.func(args) == 1
    assert "missing.png" in capsys.readouterr().err
    iio.imwrite(d / "empty.png", np.zeros((64, 64), np.uint8))
    args = _parser().parse_args(["qca", str(d / "case.png"), "--mask", str(d / "empty.png"), "--mm-per-px", "0.3"])
    assert args.func(args) == 1
    assert "empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["qca", "x.png", "--mask", "m.png", "--start", "1;2"])


def test_dispatcher_knows_qca():
    from monai_angio.apps import cli

    parser = cli.build_parser()
    args = parser.parse_args(["qca", "a.png", "--mask", "b.png"])
    assert args.func is qca_app.run


def test_qca_cli_bridges_a_mask_gap(tmp_path, capsys):
    """A label map interrupted at the lesion: bridged through the image by default, an error with --max-gap-mm 0."""
    from scipy import ndimage

    from tests.qca.analytic import tube_with_stenosis

    m, truth = tube_with_stenosis(size=96, spacing_mm=0.25, diameter_mm=3.0, angle=0.3, stenosis_percent=50,
                                  stenosis_length_mm=6.0)
    rr, cc = np.mgrid[:96, :96]
    c = np.array(truth["center_rc"])
    t = np.array([np.sin(0.3), np.cos(0.3)])
    gapped = m & (np.abs((rr - c[0]) * t[0] + (cc - c[1]) * t[1]) > 3.0)
    img = np.clip(200 - 120 * ndimage.gaussian_filter(m.astype(float), 1.0), 0, 255).astype(np.uint8)
    iio.imwrite(tmp_path / "gap.png", img)
    iio.imwrite(tmp_path / "gap_label.png", gapped.astype(np.uint8))
    p0, p1 = np.array(truth["p0"]), np.array(truth["p1"])
    a, b = p0 + 0.15 * (p1 - p0), p0 + 0.85 * (p1 - p0)
    argv = ["qca", str(tmp_path / "gap.png"), "--mask", str(tmp_path / "gap_label.png"), "--mm-per-px", "0.25"]
    argv += ["--start", f"{a[0]:.1f},{a[1]:.1f}", "--end", f"{b[0]:.1f},{b[1]:.1f}", "--out", str(tmp_path / "out")]
    args = _parser().parse_args(argv)
    assert args.func(args) == 0
    rep = json.loads((tmp_path / "out" / "gap_report.json").read_text())
    assert abs(rep["percent_diameter_stenosis"] - 50) < 10
    assert any(w.startswith("mask interrupted") for w in rep["warnings"])
    assert len(rep["details"]["gap_bridging"]["bridges"]) == 1 and any(rep["profile"]["bridged"])
    capsys.readouterr()
    args = _parser().parse_args(argv[:-2] + ["--max-gap-mm", "0"])
    assert args.func(args) == 1
    assert "disconnected" in capsys.readouterr().err


def test_qca_report_keeps_the_file_name_only_unless_asked(files, capsys):
    d, _ = files
    base = ["qca", str(d / "case.png"), "--mask", str(d / "case_label.png")]
    args = _parser().parse_args(base + ["--out", str(d / "a")])
    assert args.func(args) == 0
    rep = (d / "a" / "case_report.json").read_text()
    assert json.loads(rep)["filename"] == "case.png" and str(d) not in rep
    args = _parser().parse_args(base + ["--out", str(d / "b"), "--record-input-path"])
    assert args.func(args) == 0
    assert json.loads((d / "b" / "case_report.json").read_text())["filename"] == str(d / "case.png")


def test_qca_anonymous_name_leaves_no_input_name(files, capsys):
    d, _ = files
    base = ["qca", str(d / "case.png"), "--mask", str(d / "case_label.png"), "--out", str(d / "o")]
    args = _parser().parse_args(base + ["--anonymous-name", "case0007"])
    assert args.func(args) == 0
    assert sorted(p.name for p in (d / "o").iterdir()) == ["case0007_report.json", "case0007_report.png"]
    rep = (d / "o" / "case0007_report.json").read_text()
    assert json.loads(rep)["filename"] is None and "case.png" not in rep and "case_label" not in rep
    args = _parser().parse_args(base + ["--anonymous-name", "../x", "--overwrite"])
    assert args.func(args) == 1
    assert "plain file stem" in capsys.readouterr().err


def test_report_json_carries_the_calibration_warnings(tmp_path, capsys):
    """A 6F catheter at 0.6 mm/px is 3.3 px wide: the calibration warns, and the warning reaches the report's own
    ``warnings`` (what a script reads) and stderr, once."""
    from scipy import ndimage

    lab, _ = label_with_catheter(size=160, spacing_mm=0.6, stenosis_percent=50)
    # a blurred, noisy X-ray-like image (a flat 200 background would read as saturated and refuse the catheter)
    dark = ndimage.gaussian_filter((lab > 0).astype(float), 0.8)
    noise = np.random.default_rng(0).normal(0, 2.0, lab.shape)
    iio.imwrite(tmp_path / "small.png", np.clip(190 - 100 * dark + noise, 0, 255).astype(np.uint8))
    iio.imwrite(tmp_path / "small_label.png", lab)
    args = _parser().parse_args(["qca", str(tmp_path / "small.png"), "--mask", str(tmp_path / "small_label.png"),
                                 "--catheter", "6F", "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    rep = json.loads((tmp_path / "out" / "small_report.json").read_text())
    narrow = [w for w in rep["warnings"] if w.startswith("calibration: the catheter is only")]
    assert len(narrow) == 1 and rep["calibration"]["details"]["narrow_catheter"]
    assert capsys.readouterr().err.count("the catheter is only") == 1


def test_inverted_image_is_refused_with_its_reason(files, capsys):
    d, _ = files
    img = iio.imread(d / "case.png")
    iio.imwrite(d / "inverted.png", (255 - img).astype(np.uint8))
    args = _parser().parse_args(["qca", str(d / "inverted.png"), "--mask", str(d / "case_label.png"), "--catheter", "6F",
                                 "--out", str(d / "out_inv")])
    assert args.func(args) != 0
    err = capsys.readouterr().err
    assert "inverted.png: the masked vessels are not darker" in err and "looks inverted" in err
    assert not (d / "out_inv").exists()  # nothing written


def test_approximate_scale_only_when_asked(files, capsys):
    """Without a catheter or DICOM geometry the command refuses and names both ways out; ``--approximate-scale``
    takes the widest artery (here the 3 mm reference, so 4.2 / 3 x the true pixel size) and says so everywhere."""
    d, truth = files
    argv = ["qca", str(d / "case.png"), "--mask", str(d / "nocath_label.png"), "--out", str(d / "out")]
    args = _parser().parse_args(argv)
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "--mm-per-px" in err and "--approximate-scale" in err and not (d / "out").exists()
    args = _parser().parse_args(argv + ["--approximate-scale"])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert "(artery-width)" in captured.out and "millimetres are approximate" in captured.err
    rep = json.loads((d / "out" / "case_report.json").read_text())
    assert rep["calibration_source"] == "artery-width"
    assert rep["mm_per_px"] == pytest.approx(truth["spacing_mm"] * 4.2 / truth["reference_mm"], rel=0.15)
    assert abs(rep["percent_diameter_stenosis"] - 50) < 7  # %DS does not depend on the scale
    assert any("do not depend on the scale" in w for w in rep["warnings"])
