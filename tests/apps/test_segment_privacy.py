"""``segment``: privacy options, --include/--exclude, and reruns after an interrupted run (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from monai_angio.apps.segment import segment_files
from tests.apps.test_segment import main, make_tiny_bundle, write_multiframe_dicom, write_png


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny_bundle")


def _patient_dicom(path: Path, burned_in: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_multiframe_dicom(path, frames=1, rows=32, cols=32)
    ds = pydicom.dcmread(str(path))
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "PID-4711", "19500101"
    ds.AccessionNumber, ds.StudyDescription = "ACC-99", "coronary angio Jane"
    if burned_in:
        ds.BurnedInAnnotation = "YES"
    ds.save_as(str(path), enforce_file_format=True)
    return path


def test_default_outputs_carry_no_patient_data_nor_input_path(tiny_bundle, tmp_path, capsys):
    src = _patient_dicom(tmp_path / "in" / "Doe_Jane.dcm")
    out = tmp_path / "out"
    assert main(["segment", str(src), "--bundle", str(tiny_bundle), "--out", str(out), "--runtime", "torch"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "Doe_Jane_labels.nii.gz", "Doe_Jane_overlay.png", "Doe_Jane_seg.dcm", "Doe_Jane_summary.json"]
    summary = json.loads((out / "Doe_Jane_summary.json").read_text())
    assert summary["file"] == "Doe_Jane.dcm"  # the name, not the path
    assert str(tmp_path / "in") not in (out / "Doe_Jane_summary.json").read_text()
    seg = pydicom.dcmread(str(out / "Doe_Jane_seg.dcm"))
    assert seg.PatientIdentityRemoved == "YES" and "Doe" not in str(seg.get("PatientName", ""))
    assert seg.get("PatientID", "") != "PID-4711" and seg.get("PatientBirthDate", "") == ""
    assert seg.get("AccessionNumber", "") != "ACC-99" and "Jane" not in str(seg.get("StudyDescription", ""))
    # --keep-patient-data and --record-input-path: asked for, kept
    out2 = tmp_path / "out2"
    assert main(["segment", str(src), "--bundle", str(tiny_bundle), "--out", str(out2), "--runtime", "torch",
                 "--keep-patient-data", "--record-input-path"]) == 0
    seg = pydicom.dcmread(str(out2 / "Doe_Jane_seg.dcm"))
    assert str(seg.PatientName) == "Doe^Jane" and seg.PatientID == "PID-4711"
    assert json.loads((out2 / "Doe_Jane_summary.json").read_text())["file"] == str(src)


def test_anonymous_names_and_name_map(tiny_bundle, tmp_path, capsys, monkeypatch):
    from monai_angio.apps import overlay

    titles = []
    real_png = overlay.save_overlay_png
    monkeypatch.setattr(overlay, "save_overlay_png", lambda *a, **k: titles.append(k["title"]) or real_png(*a, **k))
    d = tmp_path / "in"
    d.mkdir()
    write_png(d / "Smith_John.png", 32)
    _patient_dicom(d / "Doe_Jane.dcm")
    out, mapping = tmp_path / "out", tmp_path / "private" / "map.json"
    mapping.parent.mkdir()
    rc = main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(out), "--runtime", "torch",
               "--anonymous-names", "--name-map", str(mapping)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Doe_Jane.dcm -> " in text and "case0001_labels.nii.gz" in text  # the mapping, printed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["case0001_labels.nii.gz", "case0001_overlay.png", "case0001_seg.dcm", "case0001_summary.json",
                     "case0002_labels.nii.gz", "case0002_overlay.png", "case0002_summary.json"]
    for f in out.iterdir():  # no input name in any output, binary ones included
        data = f.read_bytes()
        assert b"Doe" not in data and b"Smith" not in data and b"Jane" not in data, f.name
    assert json.loads((out / "case0001_summary.json").read_text())["file"] == "case0001"
    assert titles == ["case0001 - tiny_bundle", "case0002 - tiny_bundle"]  # the PNG titles name no input
    assert json.loads(mapping.read_text()) == {"case0001": str(d / "Doe_Jane.dcm"), "case0002": str(d / "Smith_John.png")}
    assert main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(tmp_path / "o3"),
                 "--name-map", str(tmp_path / "m.json")]) == 2  # --name-map alone: refused, nothing written
    assert not (tmp_path / "o3").exists() and not (tmp_path / "m.json").exists()


def test_burned_in_annotation_warns_and_no_overlays(tiny_bundle, tmp_path, capsys):
    src = _patient_dicom(tmp_path / "burned.dcm", burned_in=True)
    out = tmp_path / "out"
    assert main(["segment", str(src), "--bundle", str(tiny_bundle), "--out", str(out), "--runtime", "torch"]) == 0
    err = capsys.readouterr().err
    assert "BurnedInAnnotation YES" in err and "--no-overlays" in err and err.count("BurnedInAnnotation") == 1
    warnings = json.loads((out / "burned_summary.json").read_text())["warnings"]
    assert any("BurnedInAnnotation YES" in w for w in warnings)
    out2 = tmp_path / "out2"
    assert main(["segment", str(src), "--bundle", str(tiny_bundle), "--out", str(out2), "--runtime", "torch",
                 "--no-overlays"]) == 0
    assert sorted(p.name for p in out2.iterdir()) == ["burned_labels.nii.gz", "burned_seg.dcm", "burned_summary.json"]


def test_cli_include_exclude(tiny_bundle, tmp_path, capsys):
    d = tmp_path / "data"
    (d / "labels").mkdir(parents=True)
    write_png(d / "case_000.png", 32)
    write_png(d / "case_000_label.png", 32)
    write_png(d / "labels" / "case_001.png", 32)
    out = tmp_path / "out"
    rc = main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(out), "--runtime", "torch",
               "--exclude", "*_label.png", "--exclude", "labels/*"])
    assert rc == 0 and sorted(p.name for p in out.glob("*_summary.json")) == ["case_000_summary.json"]
    out2 = tmp_path / "out2"
    assert main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(out2), "--runtime", "torch",
                 "--include", "labels/*"]) == 0
    assert sorted(p.name for p in out2.glob("*_summary.json")) == ["case_001_summary.json"]
    assert main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(tmp_path / "o3"),
                 "--include", "*.dcm"]) == 1
    assert "folder holds no supported input file matching --include/--exclude" in capsys.readouterr().err


def test_rerun_redoes_exactly_the_interrupted_input(tiny_bundle, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        write_png(d / name, 32)
    out = tmp_path / "out"
    assert all(r.ok for r in segment_files(d, tiny_bundle, out, progress=False))
    done = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # what a run killed while writing b's outputs leaves: its label map, no overlay, no summary (the record)
    (out / "b_summary.json").unlink()
    (out / "b_overlay.png").unlink()
    (out / "b_labels.nii.gz").write_bytes(b"half a file")
    capsys.readouterr()
    assert main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(out), "--runtime", "torch"]) == 1
    cap = capsys.readouterr()
    assert "note" in cap.err and "interrupted run" in cap.err and "b_labels.nii.gz" in cap.err
    assert cap.err.count("FAIL") == 2 and "a.png" in cap.err and "c.png" in cap.err  # the complete ones: refused
    assert "ok    " + str(d / "b.png") in cap.out
    now = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert set(now) == set(done)
    assert {n for n in now if now[n] != done[n]} == {"b_labels.nii.gz", "b_overlay.png", "b_summary.json"}
    import nibabel as nib

    assert nib.load(str(out / "b_labels.nii.gz")).shape[:2] == (32, 32)
    assert json.loads((out / "b_summary.json").read_text())["file"] == "b.png"


def test_out_file_refused_before_any_work(tiny_bundle, tmp_path):
    write_png(tmp_path / "ok.png", 32)
    (tmp_path / "out.txt").write_text("keep")
    with pytest.raises(NotADirectoryError, match="out.txt"):
        segment_files(tmp_path / "ok.png", str(tmp_path / "no_bundle_needed"), tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == "keep"


def test_same_stem_inputs_get_a_note(tiny_bundle, tmp_path, capsys):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        write_png(tmp_path / sub / "x.png", 32)
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "a"), str(tmp_path / "b"), "--bundle", str(tiny_bundle), "--out", str(out),
                 "--runtime", "torch"]) == 0
    err = capsys.readouterr().err
    assert f"note  {tmp_path / 'b' / 'x.png'}: another input is also named x: outputs named x_2_*" in err
    assert (out / "x_summary.json").is_file() and (out / "x_2_summary.json").is_file()
