"""A corpus of odd inputs and options, built on the fly (issue 10): each gets a clear answer, nothing is lost.

For every case: the exit status, a message naming the file and the problem, the batch going on past the bad
file (a good file is in every ``segment`` batch), no traceback, the inputs unchanged and no partial output left.
Runs in-process through :func:`monai_angio.apps.cli.main` on the shipped flagship bundle (torch runtime).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Callable, Dict

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from monai_angio.apps.cli import main

REPO = Path(__file__).resolve().parents[2]
FLAGSHIP = "xca_artery_catheter_efficientunetpp"
needs_flagship = pytest.mark.skipif(
    not (REPO / "bundles" / FLAGSHIP / "models" / "model.pt").is_file(), reason="flagship weights not in this checkout"
)
GOOD_OUTPUTS = {"good_labels.nii.gz", "good_overlay.png", "good_summary.json"}


# ------------------------------------------------------------------------------------------------ builders


def _png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


def _good(d: Path) -> Path:
    rng = np.random.default_rng(0)
    img = np.full((64, 64), 200, np.uint8)
    img[30:34, 5:-5] = 60
    return _png(d / "good.png", (img + rng.integers(0, 10, img.shape)).astype(np.uint8))


def _truncated_png(p: Path) -> Path:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8)).save(buf, format="PNG")
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return p


def _dicom_without_pixels(p: Path) -> Path:
    import pydicom

    from tests.apps.test_segment import write_multiframe_dicom

    write_multiframe_dicom(p, frames=1, rows=32, cols=32)
    ds = pydicom.dcmread(str(p))
    del ds.PixelData
    ds.save_as(str(p))
    return p


def _nifti(p: Path, arr: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(arr, np.eye(4)), str(p))
    return p


def _loop(p: Path) -> Path:
    p.symlink_to(p)
    return p


def _dangling(p: Path) -> Path:
    p.symlink_to(p.parent / "nowhere.png")
    return p


def _folder(p: Path) -> Path:
    p.mkdir()
    (p / "readme.txt").write_text("not an image")
    return p


def _unreadable(p: Path) -> Path:
    _png(p, np.random.default_rng(2).integers(0, 255, (32, 32), dtype=np.uint8))
    p.chmod(0)
    return p


def _rand(n: int) -> bytes:
    return np.random.default_rng(3).integers(0, 256, n, dtype=np.uint8).tobytes()


#: case id -> (file name, builder(path) -> path, words the message must hold)
SEGMENT_CASES: Dict[str, tuple] = {
    "empty_file": ("empty.png", lambda p: (p.write_bytes(b""), p)[1], ["empty"]),
    "truncated_png": ("truncated.png", _truncated_png, ["truncated"]),
    "random_bytes_dcm": ("random.dcm", lambda p: (p.write_bytes(_rand(600)), p)[1], ["not a DICOM"]),
    "dicom_preamble_garbage": ("garbage.dcm", lambda p: (p.write_bytes(b"\0" * 128 + b"DICM" + _rand(64)), p)[1],
                               []),
    "dicom_without_pixels": ("nopixels.dcm", _dicom_without_pixels, ["no pixel data"]),
    "random_bytes_png": ("noise.png", lambda p: (p.write_bytes(_rand(300)), p)[1], ["cannot read"]),
    "zero_byte_video": ("zero.mp4", lambda p: (p.write_bytes(b""), p)[1], ["empty"]),
    "corrupt_video": ("corrupt.avi", lambda p: (p.write_bytes(b"RIFF" + _rand(300)), p)[1], ["no frame"]),
    "zero_frame_video": ("noframes.mp4", lambda p: (p.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100), p)[1],
                         ["no frame"]),
    "all_black": ("black.png", lambda p: _png(p, np.zeros((64, 64), np.uint8)), ["no contrast"]),
    "all_white": ("white.png", lambda p: _png(p, np.full((64, 64), 255, np.uint8)), ["no contrast"]),
    "constant_grey": ("grey.png", lambda p: _png(p, np.full((64, 64), 120, np.uint8)), ["no contrast"]),
    "constant_16bit": ("grey16.png", lambda p: _png(p, np.full((64, 64), 30000, np.uint16)), ["no contrast"]),
    "one_pixel": ("one.png", lambda p: _png(p, np.full((1, 1), 99, np.uint8)), ["1x1", "at least 16x16"]),
    "eight_pixels": ("eight.png", lambda p: _png(p, np.arange(64, dtype=np.uint8).reshape(8, 8)), ["8x8"]),
    "strip_40x2000": ("strip.png", lambda p: _png(p, np.random.default_rng(4).integers(0, 255, (40, 2000),
                                                                                        dtype=np.uint8)),
                      ["40x2000", "8:1"]),
    "oversized": ("huge.png", lambda p: _png(p, np.zeros((4200, 4200), np.uint8)), ["4200x4200", "megapixels"]),
    "nan_nifti": ("nan.nii.gz", lambda p: _nifti(p, np.full((32, 32), np.nan, np.float32)), ["NaN"]),
    "inf_nifti": ("inf.nii.gz", lambda p: _nifti(p, np.where(np.eye(32) > 0, np.inf, 1.0).astype(np.float32)),
                  ["Inf"]),
    "constant_nifti_cine": ("flat.nii.gz", lambda p: _nifti(p, np.zeros((32, 32, 3), np.float32)), ["no contrast"]),
    "symlink_loop": ("loop.png", _loop, ["loop"]),
    "dangling_symlink": ("dangling.png", _dangling, ["broken link"]),
    "folder_named_like_an_image": ("folder.png", _folder, ["folder", "no supported input"]),
    "missing_file": ("missing.png", lambda p: p, ["no such file"]),
    "unsupported_type": ("notes.txt", lambda p: (p.write_text("hello"), p)[1], ["unsupported file type"]),
    "unreadable_permissions": ("secret.png", _unreadable, ["ermission"]),
}


def _snapshot(d: Path) -> Dict[str, str]:
    snap = {}
    for f in sorted(d.rglob("*")):
        if f.is_file() and not f.is_symlink() and os.access(f, os.R_OK):
            snap[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return snap


@pytest.fixture(scope="module")
def flagship_cache():
    """Nothing to set up: ``tests/conftest.py`` already points MONAI_ANGIO_CACHE to a private folder."""
    return FLAGSHIP


@needs_flagship
@pytest.mark.parametrize("case", sorted(SEGMENT_CASES))
def test_segment_bad_input_in_a_batch(case, tmp_path, capsys):
    name, build, words = SEGMENT_CASES[case]
    if case == "unreadable_permissions" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    d = tmp_path / "in"
    d.mkdir()
    good = _good(d)
    bad = build(d / name)
    before = _snapshot(d)
    out = tmp_path / "out"
    rc = main(["segment", str(bad), str(good), "--bundle", FLAGSHIP, "--out", str(out), "--runtime", "torch"])
    cap = capsys.readouterr()
    text = cap.out + cap.err
    assert rc == 1, text
    fail = [ln for ln in cap.err.splitlines() if ln.startswith("FAIL")]
    assert len(fail) == 1 and str(bad) in fail[0], text  # the file named ...
    for w in words:  # ... and the problem
        assert w in fail[0], fail[0]
    assert len(fail[0]) < 400 and "ffmpeg version" not in text  # one line, not a decoder's log
    assert f"ok    {good} ->" in cap.out  # the batch went on
    assert "Traceback" not in text
    assert _snapshot(d) == before  # inputs unchanged
    assert {p.name for p in out.iterdir()} == GOOD_OUTPUTS  # nothing of the bad file, no temporary file


@needs_flagship
def test_out_is_a_file_refused_before_work(tmp_path, capsys):
    good = _good(tmp_path)
    out = tmp_path / "results.txt"
    out.write_text("keep me")
    rc = main(["segment", str(good), "--bundle", FLAGSHIP, "--out", str(out), "--runtime", "torch"])
    err = capsys.readouterr().err
    assert rc == 2 and "results.txt" in err and "existing file" in err and "Traceback" not in err
    assert out.read_text() == "keep me"


@needs_flagship
def test_corrupt_weights_file(tmp_path, capsys):
    good = _good(tmp_path)
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"PK\x03\x04" + _rand(200))
    rc = main(["segment", str(good), "--bundle", FLAGSHIP, "--out", str(tmp_path / "o"), "--runtime", "torch",
               "--weights", str(weights)])
    err = capsys.readouterr().err
    assert rc == 2 and str(weights) in err and "Traceback" not in err
    assert "weights_only=False" not in err and "weights_only` set to `False" not in err  # never the unsafe advice
    assert not (tmp_path / "o").exists()


@needs_flagship
def test_frame_out_of_range(tmp_path, capsys):
    good = _good(tmp_path)
    rc = main(["segment", str(good), "--bundle", FLAGSHIP, "--out", str(tmp_path / "o"), "--runtime", "torch",
               "--frames", "99"])
    err = capsys.readouterr().err
    assert rc == 1 and "good.png" in err and "frame(s) [99]" in err and "1 frame(s)" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


@needs_flagship
def test_failed_write_names_the_output_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """A disk full while writing the overlay: the message names the output; the label map written before is gone."""
    from monai_angio.apps import overlay

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(overlay, "save_overlay_png", full)
    good = _good(tmp_path)
    out = tmp_path / "o"
    rc = main(["segment", str(good), "--bundle", FLAGSHIP, "--out", str(out), "--runtime", "torch"])
    err = capsys.readouterr().err
    assert rc == 1 and f"cannot write {out / 'good_overlay.png'}" in err and "No space left" in err
    assert list(out.iterdir()) == []


# ------------------------------------------------------------------------------------------------ qca


def _qca_files(d: Path) -> Dict[str, Path]:
    from tests.qca.analytic import label_with_catheter

    lab, _ = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    files = {"image": _png(d / "case.png", np.where(lab > 0, 80, 200).astype(np.uint8)),
             "mask": _png(d / "case_label.png", lab)}
    files["mask255"] = _png(d / "mask255.png", np.where(lab > 0, 255, 0).astype(np.uint8))
    files["nocath"] = _png(d / "nocath.png", np.where(lab == 2, 0, lab).astype(np.uint8))
    files["values"] = _png(d / "values.png", (np.arange(96 * 96) % 7).reshape(96, 96).astype(np.uint8))
    files["small"] = _png(d / "small.png", lab[:48, :48])
    return files


QCA_CASES: Dict[str, tuple] = {  # id -> (argv builder(files), file named, words)
    "mask_0_255": (lambda f: [f["image"], "--mask", f["mask255"]], "mask255.png", ["255 is not a label"]),
    "mask_without_catheter": (lambda f: [f["image"], "--mask", f["nocath"]], "nocath.png", ["no catheter"]),
    "mask_not_labels": (lambda f: [f["image"], "--mask", f["values"]], "values.png", ["0/1/2 label map"]),
    "mask_shape_mismatch": (lambda f: [f["image"], "--mask", f["small"]], "small.png", ["differs"]),
    "mask_missing": (lambda f: [f["image"], "--mask", f["image"].parent / "nope.png"], "nope.png", ["not found"]),
    "image_missing": (lambda f: [f["image"].parent / "gone.png", "--mask", f["mask"]], "gone.png", ["not found"]),
    "catheter_0F": (lambda f: [f["image"], "--mask", f["mask"], "--catheter", "0F"], None, ["'0F'", "3F to 10F"]),
    "catheter_30F": (lambda f: [f["image"], "--mask", f["mask"], "--catheter", "30F"], None, ["'30F'", "3F to 10F"]),
    "catheter_minus_6F": (lambda f: [f["image"], "--mask", f["mask"], "--catheter=-6F"], None, ["'-6F'", "3F to 10F"]),
    "catheter_words": (lambda f: [f["image"], "--mask", f["mask"], "--catheter", "big"], None, ["'6F' or '6'"]),
    "point_outside": (lambda f: [f["image"], "--mask", f["mask"], "--start", "9999,9999", "--end", "90,90"],
                      "case.png", ["(9999, 9999) is outside the image", "96 x 96"]),
    "point_far_from_vessel": (lambda f: [f["image"], "--mask", f["mask"], "--mm-per-px", "0.3", "--method", "mask",
                                         "--start", "90,5", "--end", "90,90"], "case.png", ["more than 3 mm"]),
    "one_point_only": (lambda f: [f["image"], "--mask", f["mask"], "--start", "10,10"], None, ["both --start"]),
}


@pytest.mark.parametrize("case", sorted(QCA_CASES))
def test_qca_bad_input(case, tmp_path, capsys):
    argv, named, words = QCA_CASES[case]
    files = _qca_files(tmp_path)
    before = _snapshot(tmp_path)
    out = tmp_path / "out"
    rc = main(["qca"] + [str(a) for a in argv(files)] + ["--out", str(out)])
    cap = capsys.readouterr()
    text = cap.out + cap.err
    assert rc == 1, text
    assert "Traceback" not in text and cap.err.startswith("error: "), text
    if named:
        assert named in cap.err, cap.err
    for w in words:
        assert w in cap.err, cap.err
    assert _snapshot(tmp_path) == before
    assert not out.exists() or not list(out.iterdir())  # no report for a refused input
