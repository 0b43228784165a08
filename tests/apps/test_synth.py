"""``monai-angio synth``: files, datalists, DICOM, refusal to overwrite."""

from __future__ import annotations

import argparse
import json

import nibabel as nib
import numpy as np
import pydicom
from PIL import Image

from monai_angio.apps import synth


def _run(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    synth.register(sub)
    args = parser.parse_args(["synth", *argv])
    return args.func(args)


def test_synth_stills(tmp_path, capsys):
    out = tmp_path / "ds"
    rc = _run(["--n", "4", "--size", "64", "--out", str(out), "--seed", "3", "--val-fraction", "0.25",
               "--test-fraction", "0.25"])
    assert rc == 0
    dl = json.loads((out / "datalist.json").read_text())
    assert set(dl) == {"training", "validation", "test"}
    assert len(dl["training"]) == 2 and len(dl["validation"]) == 1 and len(dl["test"]) == 1
    for e in dl["training"] + dl["validation"] + dl["test"]:
        for k in ("image", "label", "label_vessel", "ground_truth"):
            assert not e[k].startswith("/") and (out / e[k]).is_file()
        assert e["catheter_french"] in (5, 6, 7) and e["spacing_mm"] > 0
        lab = np.asarray(Image.open(out / e["label"]))
        vessel = np.asarray(Image.open(out / e["label_vessel"]))
        assert set(np.unique(lab)) <= {0, 1, 2} and set(np.unique(vessel)) <= {0, 1}
        assert np.all(vessel[lab == 1] == 1) and np.all(vessel[lab == 2] == 0)
        assert np.asarray(Image.open(out / e["image"])).dtype == np.uint16
        gt = json.loads((out / e["ground_truth"]).read_text())
        assert gt["catheter_french"] == e["catheter_french"] and gt["files"]["image"] == e["image"]
        if gt["stenoses"]:
            worst = max(gt["stenoses"], key=lambda s: s["percent_diameter"])
            assert e["stenosis_rc"] == [round(v, 3) for v in worst["center_rc"]]
        else:
            assert e["stenosis_rc"] is None
    assert not (out / "cines").exists() and not (out / "dicom").exists()
    # refuses to overwrite, leaves files untouched; --overwrite regenerates identically (same seed)
    before = (out / "images" / "case_000.png").read_bytes()
    assert _run(["--n", "4", "--size", "64", "--out", str(out), "--seed", "3"]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert _run(["--n", "4", "--size", "64", "--out", str(out), "--seed", "3", "--overwrite"]) == 0
    assert (out / "images" / "case_000.png").read_bytes() == before


def test_synth_cines_dicom(tmp_path):
    out = tmp_path / "cine"
    rc = _run(["--n", "2", "--frames", "5", "--size", "48", "--out", str(out), "--dicom", "--frame-time-ms", "80",
               "--min-concentration", "0.0", "--val-fraction", "0", "--test-fraction", "0"])
    assert rc == 0
    for i in range(2):
        img = nib.load(out / "cines" / f"case_00{i}.nii.gz")
        assert img.shape == (48, 48, 5) and img.header.get_zooms()[2] == np.float32(80.0)
        assert nib.load(out / "cine_labels" / f"case_00{i}.nii.gz").get_data_dtype() == np.uint8
        ds = pydicom.dcmread(out / "dicom" / f"case_00{i}.dcm")
        assert int(ds.NumberOfFrames) == 5 and float(ds.FrameTime) == 80.0
        gt = json.loads((out / "ground_truth" / f"case_00{i}.json").read_text())
        assert gt["num_frames"] == 5 and len(gt["frames"]) == 5 and gt["files"]["dicom"] == f"dicom/case_00{i}.dcm"
    dl = json.loads((out / "datalist_cine.json").read_text())
    entries = dl["training"]
    assert len(entries) == 10 and sorted({e["frame"] for e in entries}) == [0, 1, 2, 3, 4]
    for e in entries:
        assert (out / e["image"]).is_file() and (out / e["label"]).is_file() and (out / e["label_vessel"]).is_file()
    stills = json.loads((out / "datalist.json").read_text())["training"]
    assert len(stills) == 2 and all(e["image"].endswith(".png") for e in stills)


def test_synth_bad_arguments(tmp_path):
    assert _run(["--n", "0", "--out", str(tmp_path / "x")]) == 2
    assert synth.case_seed(0, 1) != synth.case_seed(0, 2) and synth.case_seed(5, 1) == synth.case_seed(5, 1)
