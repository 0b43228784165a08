"""Report files (JSON + PNG), atomic and never silently overwritten."""

import json

import numpy as np
import pytest

from monai_angio.qca import analyze_stenosis, write_report
from tests.qca.analytic import label_with_catheter


@pytest.fixture(scope="module")
def case():
    lab, truth = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    img = np.where(lab > 0, 0.3, 0.9).astype(np.float32)
    rep = analyze_stenosis(lab, image=img, french=6, filename="/data/case_001.png")
    return rep, img, lab


def test_write_report_files(tmp_path, case):
    rep, img, lab = case
    paths = write_report(rep, img, lab, tmp_path / "out")
    assert paths["json"].name == "case_001_report.json" and paths["png"].name == "case_001_report.png"
    d = json.loads(paths["json"].read_text())
    for key in (
        "mld_mm",
        "reference_diameter_mm",
        "percent_diameter_stenosis",
        "percent_area_stenosis",
        "lesion_length_mm",
        "mm_per_px",
        "calibration_source",
        "calibration",
        "mld_rc",
        "lesion_start_rc",
        "lesion_end_rc",
        "profile",
    ):
        assert key in d, key
    assert d["calibration_source"] == "catheter" and d["calibration"]["details"]["french"] == 6
    assert d["mld_mm"] == pytest.approx(rep.mld_mm)
    assert len(d["profile"]["arc_length_mm"]) == len(d["profile"]["diameter_mm"]) == len(d["profile"]["reference_mm"])
    png = paths["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left


def test_no_overwrite_without_flag(tmp_path, case):
    rep, img, lab = case
    paths = write_report(rep, img, lab, tmp_path)
    before = paths["json"].read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        write_report(rep, None, None, tmp_path)
    assert paths["json"].read_bytes() == before
    paths2 = write_report(rep, None, lab, tmp_path, overwrite=True, stem="case_001")
    assert paths2 == paths and paths["png"].exists()
