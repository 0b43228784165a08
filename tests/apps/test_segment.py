"""Tests for ``monai-angio segment`` and :func:`monai_angio.apps.segment.segment_files`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from scipy import ndimage

from monai_angio.apps import segment as segment_cmd
from monai_angio.apps.segment import (
    expand_inputs,
    load_bundle,
    output_paths,
    parse_frames,
    segment_files,
)
from monai_angio.errors import AngioInputError

REPO = Path(__file__).resolve().parents[2]
FLAGSHIP = "xca_artery_catheter_efficientunetpp"


# ------------------------------------------------------------------------------------------------ fixtures


def main(argv: list) -> int:
    """``monai-angio segment ...`` through the sub-command's own parser (independent of the other commands)."""
    import argparse

    parser = argparse.ArgumentParser(prog="monai-angio")
    segment_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def make_tiny_bundle(root: Path, temporal: bool = False, weights: bool = True) -> Path:
    """Write a minimal bundle (tiny MONAI UNet, or a 3-frame Conv3d for the temporal case) with random weights."""
    (root / "configs").mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    if temporal:
        net = {"_target_": "torch.nn.Conv3d", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3, 3],
               "padding": [0, 1, 1]}
        chans = {"0": "background", "1": "vessel"}
    else:
        net = {"_target_": "monai.networks.nets.UNet", "spatial_dims": 2, "in_channels": 1, "out_channels": 3,
               "channels": [4, 8], "strides": [2], "num_res_units": 0}
        chans = {"0": "background", "1": "artery", "2": "catheter"}
    cfg = {
        "bundle_root": ".",
        "device": "$torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
        "network_def": net,
        "network": "$@network_def.to(@device)",
        "preprocessing": {"_target_": "Compose", "transforms": (
            [{"_target_": "monai_angio.transforms.io.LoadAngiogramd", "keys": "image"},
             {"_target_": "ScaleIntensityd", "keys": "image", "minv": 0.0, "maxv": 1.0},
             {"_target_": "monai_angio.transforms.temporal.TemporalWindowd", "keys": "image", "num_neighbors": 1}]
            if temporal else
            [{"_target_": "monai_angio.transforms.io.LoadAngiogramd", "keys": "image"},
             {"_target_": "monai_angio.transforms.SelectFramed", "keys": "image"},
             {"_target_": "ScaleIntensityd", "keys": "image", "minv": 0.0, "maxv": 1.0},
             {"_target_": "DivisiblePadd", "keys": "image", "k": 32, "mode": "edge"}])},
        "inferer": {"_target_": "SimpleInferer"},
        "postprocessing": {"_target_": "Compose", "transforms": (
            [] if temporal else
            [{"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image"}]
        ) + [{"_target_": "AsDiscreted", "keys": "pred", "argmax": True}]},
        "checkpoint": "$@bundle_root + '/models/model.pt'",
    }
    (root / "configs" / "inference.json").write_text(json.dumps(cfg, indent=1))
    meta = {"version": "0.0.1", "network_data_format": {
        "inputs": {"image": {"num_channels": 1, "channel_def": {"0": "image"}}},
        "outputs": {"pred": {"num_channels": len(chans), "channel_def": chans}}}}
    (root / "configs" / "metadata.json").write_text(json.dumps(meta))
    if weights:
        from monai.bundle import ConfigParser

        parser = ConfigParser(cfg)
        torch.manual_seed(0)
        torch.save(parser.get_parsed_content("network_def").state_dict(), root / "models" / "model.pt")
    return root


def write_png(path: Path, size: int = 64) -> np.ndarray:
    from PIL import Image

    rng = np.random.default_rng(0)
    img = np.full((size, size), 200, np.uint8)
    img[size // 2 - 2 : size // 2 + 2, 5:-5] = 60  # a dark horizontal "vessel"
    img = np.clip(img + rng.integers(0, 10, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
    return img


def write_multiframe_dicom(path: Path, frames: int = 4, rows: int = 48, cols: int = 64) -> np.ndarray:
    """Anonymous multi-frame 8-bit XA with calibration geometry, written with pydicom."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    xa = "1.2.840.10008.5.1.4.1.1.12.1"
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = xa
    fm.MediaStorageSOPInstanceUID = generate_uid()
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=fm, preamble=b"\0" * 128)
    ds.SOPClassUID = xa
    ds.SOPInstanceUID = fm.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = "XA"
    ds.PatientName, ds.PatientID = "ANONYMOUS^", "0"
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "20200101", "000000", "", "", "1"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.Manufacturer = "test"
    ds.ImagerPixelSpacing = [0.3, 0.3]
    ds.DistanceSourceToDetector = 1000.0
    ds.DistanceSourceToPatient = 750.0
    ds.EstimatedRadiographicMagnificationFactor = 1000.0 / 750.0
    ds.FrameTime = 66.7
    ds.CineRate = 15
    rng = np.random.default_rng(1)
    arr = np.full((frames, rows, cols), 180, np.uint8)
    for t in range(frames):
        arr[t, rows // 2 - 2 + t % 2 : rows // 2 + 2, 4:-4] = 50
    arr = np.clip(arr + rng.integers(0, 8, arr.shape), 0, 255).astype(np.uint8)
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = (0x0018, 0x1063)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = arr.tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return arr


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny_bundle")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("inputs")
    png, dcm, bad = d / "still.png", d / "cine.dcm", d / "broken.dcm"
    png_arr, dcm_arr = write_png(png), write_multiframe_dicom(dcm)
    write_multiframe_dicom(d / "xa_still.dcm", frames=1)
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"garbage" * 10)  # a DICOM preamble followed by nonsense
    return {"png": png, "png_arr": png_arr, "dcm": dcm, "dcm_arr": dcm_arr, "bad": bad, "dir": d}


# ------------------------------------------------------------------------------------------------ unit tests


def test_parse_frames():
    assert parse_frames("all", 3) == [0, 1, 2]
    assert parse_frames(None, 2) == [0, 1]
    assert parse_frames("2", 5) == [2]
    assert parse_frames("0,3-4,3", 6) == [0, 3, 4]
    with pytest.raises(AngioInputError, match="5 frame"):
        parse_frames("7", 5)
    with pytest.raises(AngioInputError):
        parse_frames("x-y", 5)


def test_expand_inputs_skips_output_folder(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a_overlay.png").write_bytes(b"")
    files = expand_inputs([tmp_path], exclude=tmp_path / "out")
    assert [f.name for f in files] == ["a.png"]


def test_output_paths_strip_nii_gz(tmp_path):
    outs = output_paths(tmp_path / "x.nii.gz", tmp_path / "o")
    assert outs["labels"].name == "x_labels.nii.gz" and outs["summary"].name == "x_summary.json"


def test_missing_weights_message(tmp_path):
    root = make_tiny_bundle(tmp_path / "noweights", weights=False)
    with pytest.raises(FileNotFoundError, match="monai-angio train"):
        load_bundle(root)
    with pytest.warns(UserWarning, match="RANDOM"):
        assert load_bundle(root, allow_random_weights=True).weights is None


def test_load_bundle_facts(tiny_bundle, tmp_path):
    b = load_bundle(tiny_bundle)
    assert b.num_neighbors is None and b.class_names == {0: "background", 1: "artery", 2: "catheter"}
    t = load_bundle(make_tiny_bundle(tmp_path / "temporal", temporal=True))
    assert t.num_neighbors == 1 and t.class_names[1] == "vessel"
    # odd sizes are padded to a multiple of 32 and cropped back
    frames = np.random.default_rng(0).random((5, 37, 45)).astype(np.float32)
    assert t.predict(frames, [0, 4]).shape == (2, 37, 45)
    labels = b.predict(frames)
    assert labels.shape == (5, 37, 45) and labels.dtype == np.uint8 and set(np.unique(labels)) <= {0, 1, 2}
    with pytest.raises(AngioInputError, match="NaN"):
        b.predict(np.full((1, 8, 8), np.nan, np.float32))


def test_segment_matches_network(tiny_bundle, inputs, tmp_path):
    """The label map equals the argmax of the network on the image scaled as the bundle's config says."""
    res = segment_files([inputs["png"]], tiny_bundle, tmp_path / "o", progress=False)[0]
    assert res.ok, res.error
    model = load_bundle(tiny_bundle)
    x = inputs["png_arr"].astype(np.float32)
    x = (x - x.min()) / (x.max() - x.min())
    with torch.no_grad():
        ref = model.network(torch.as_tensor(x)[None, None]).argmax(1)[0].numpy()
    np.testing.assert_array_equal(res.labels[0], ref)


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_segment_batch(tiny_bundle, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [str(inputs["png"]), str(inputs["dcm"]), str(inputs["bad"]), str(inputs["dir"] / "xa_still.dcm"), "--bundle", str(tiny_bundle), "--out", str(out)]
    assert main(["segment"] + argv) == 1  # the corrupt file fails, the others succeed
    err = capsys.readouterr().err
    assert "broken.dcm" in err and "FAIL" in err
    # stderr is not a terminal here (a log file): one progress line per input file, then a final one
    assert f"files 1/4: {inputs['png']}" in err and "files 4/4 done in " in err

    # still PNG: (W, H, 1) on disk, x first
    lab = nib.load(str(out / "still_labels.nii.gz"))
    assert lab.shape == (64, 64, 1) and lab.get_data_dtype() == np.uint8
    assert set(np.unique(np.asarray(lab.dataobj))) <= {0, 1, 2}
    assert (out / "still_overlay.png").is_file() and not (out / "still_seg.dcm").exists()
    # DICOM cine (48 rows x 64 columns): (W, H, T) on disk, spacing = isocentre-free imager spacing or better,
    # frame time kept
    lab = nib.load(str(out / "cine_labels.nii.gz"))
    assert lab.shape == (64, 48, 4)
    zooms = lab.header.get_zooms()
    assert zooms[0] == pytest.approx(zooms[1]) and zooms[0] < 0.3 + 1e-6 and zooms[2] == pytest.approx(66.7, rel=1e-3)
    assert (out / "cine_overlay.png").is_file() and (out / "cine_overlay.gif").is_file()
    summary = json.loads((out / "cine_summary.json").read_text())
    assert summary["frames"] == [0, 1, 2, 3] and summary["input_shape"] == [4, 48, 64]
    assert summary["labels_nifti_axes"] == "column,row,frame"
    assert summary["classes"] == {"background": 0, "artery": 1, "catheter": 2}
    data = np.asarray(lab.dataobj)
    assert summary["pixel_counts"]["artery"] == int((data == 1).sum())
    assert summary["calibration"]["mm_per_px"] == pytest.approx(0.3 * 750 / 1000, rel=1e-3)
    assert summary["random_weights"] is False
    # DICOM SEG: written for the single-frame XA and for the cine (one binary frame per segment and source
    # frame, each referencing its source frame; docs/dicom_output.md)
    import pydicom

    seg = pydicom.dcmread(str(out / "xa_still_seg.dcm"))
    assert seg.Modality == "SEG" and len(seg.SegmentSequence) == 2
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["artery", "catheter"]
    still = np.asarray(nib.load(str(out / "xa_still_labels.nii.gz")).dataobj)[..., 0].T  # (W, H) on disk -> rows first
    seg_px = seg.pixel_array  # one binary frame per segment
    np.testing.assert_array_equal(seg_px[0] > 0, still == 1)
    np.testing.assert_array_equal(seg_px[1] > 0, still == 2)
    cine_seg = pydicom.dcmread(str(out / "cine_seg.dcm"))
    assert int(cine_seg.NumberOfFrames) == 2 * 4 and not any("DICOM SEG" in w for w in summary["warnings"])
    assert cine_seg.PatientIdentityRemoved == "YES"
    assert not (out / "broken_labels.nii.gz").exists()

    # re-run without --overwrite: refused for every file; outputs untouched
    before = (out / "still_labels.nii.gz").stat().st_mtime_ns
    assert main(["segment", str(inputs["png"]), "--bundle", str(tiny_bundle), "--out", str(out)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (out / "still_labels.nii.gz").stat().st_mtime_ns == before
    # with --overwrite: replaced, exit 0; --frames selects one frame
    assert main(["segment", str(inputs["dcm"]), "--bundle", str(tiny_bundle), "--out", str(out),
                 "--overwrite", "--frames", "2", "--no-seg"]) == 0
    assert nib.load(str(out / "cine_labels.nii.gz")).shape == (64, 48, 1)  # (W, H, 1)
    assert json.loads((out / "cine_summary.json").read_text())["frames"] == [2]
    assert not list(out.glob(".*tmp*"))  # no temporary leftovers


def test_cli_directory_and_inputs_protected(tiny_bundle, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    write_png(d / "a.png", 40)
    assert main(["segment", str(d), "--bundle", str(tiny_bundle), "--out", str(d)]) == 0
    assert (d / "a_labels.nii.gz").is_file() and (d / "a_overlay.png").is_file()
    # re-running on the folder does not take its own outputs as inputs (a_overlay.png is skipped)
    assert [f.name for f in expand_inputs([d], exclude=d)] == ["a.png"]
    sub = d / "out"
    sub.mkdir()
    (sub / "z.png").write_bytes((d / "a.png").read_bytes())
    names = [f.name for f in expand_inputs([d], exclude=sub)]
    assert "z.png" not in names and "a_overlay.png" in names
    # an input whose name equals an output of another input: refused even with --overwrite
    write_png(d / "b_overlay.png", 40)
    (d / "b.png").write_bytes((d / "a.png").read_bytes())
    before = (d / "b_overlay.png").read_bytes()
    rc = main(["segment", str(d / "b.png"), str(d / "b_overlay.png"), "--bundle", str(tiny_bundle),
               "--out", str(d), "--overwrite"])
    assert rc == 1
    assert (d / "b_overlay.png").read_bytes() == before
    assert not (d / "b_labels.nii.gz").exists() and (d / "b_overlay_labels.nii.gz").is_file()


def test_nan_and_unsupported_reported(tiny_bundle, tmp_path):
    nan = np.random.default_rng(0).random((32, 32, 2)).astype(np.float32)
    nan[3, 4, 1] = np.nan
    nib.save(nib.Nifti1Image(nan, np.eye(4)), str(tmp_path / "nan.nii.gz"))
    (tmp_path / "notes.txt").write_text("not an image")
    write_png(tmp_path / "ok.png", 32)
    res = segment_files([tmp_path / "nan.nii.gz", tmp_path / "notes.txt", tmp_path / "ok.png", tmp_path / "gone.png"],
                        tiny_bundle, tmp_path / "o", progress=False)
    assert [r.ok for r in res] == [False, False, True, False]
    assert "nan.nii.gz" in res[0].error and "NaN" in res[0].error
    assert "unsupported" in res[1].error and "no such file" in res[3].error
    assert not (tmp_path / "o" / "nan_labels.nii.gz").exists()


def test_cli_missing_weights_exit_2(tmp_path, capsys):
    root = make_tiny_bundle(tmp_path / "nw", weights=False)
    png = tmp_path / "x.png"
    write_png(png, 32)
    assert main(["segment", str(png), "--bundle", str(root), "--out", str(tmp_path / "o")]) == 2
    assert "model.pt" in capsys.readouterr().err
    assert main(["segment", str(png), "--bundle", str(root), "--out", str(tmp_path / "o"), "--random-weights"]) == 0
    summary = json.loads((tmp_path / "o" / "x_summary.json").read_text())
    assert summary["random_weights"] is True


def test_temporal_bundle_on_cine(tmp_path, inputs):
    root = make_tiny_bundle(tmp_path / "temporal", temporal=True)
    res = segment_files(inputs["dcm"], root, tmp_path / "o", progress=False, min_component_size=3)[0]
    assert res.ok, res.error
    assert res.labels.shape == (4, 48, 64) and set(np.unique(res.labels)) <= {0, 1}
    assert res.summary["temporal_neighbors"] == 1 and res.summary["classes"] == {"background": 0, "vessel": 1}


@pytest.mark.parametrize("name", [FLAGSHIP, "xca_temporal_cenet"])
def test_real_bundle_random_weights(name, tmp_path, inputs):
    """A real bundle's inference config runs through segment (random weights if none are committed)."""
    if not (REPO / "bundles" / name / "configs" / "inference.json").is_file():
        pytest.skip(f"{name} not in this checkout")
    root = tmp_path / name
    shutil.copytree(REPO / "bundles" / name, root, ignore=shutil.ignore_patterns("*.pt", "*.ts", "eval", "runs"))
    src = REPO / "bundles" / name / "models" / "model.pt"
    (root / "models").mkdir(exist_ok=True)
    if src.is_file():
        shutil.copy(src, root / "models" / "model.pt")
    else:
        from monai.bundle import ConfigParser

        parser = ConfigParser()
        parser.read_config(str(root / "configs" / "inference.json"))
        parser["bundle_root"] = str(root)
        torch.save(parser.get_parsed_content("network_def").state_dict(), root / "models" / "model.pt")
    model = load_bundle(root)
    temporal = "temporal" in name
    assert (model.num_neighbors is not None) == temporal
    src_file = inputs["dcm"] if temporal else inputs["png"]
    res = segment_files(src_file, model, tmp_path / "o", frames=[0], progress=False)[0]
    assert res.ok, res.error
    shape = (1, 48, 64) if temporal else (1, 64, 64)
    assert res.labels.shape == shape and set(np.unique(res.labels)) <= set(model.class_names)


def test_top_level_cli_dispatch():
    from monai_angio.apps import train as train_cmd
    from monai_angio.apps.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["segment", "a.png", "b.dcm", "--out", "o", "--frames", "0,2", "--no-seg"])
    assert args.func is segment_cmd.run and args.inputs == ["a.png", "b.dcm"] and args.frames == "0,2" and args.no_seg
    args = parser.parse_args(["train", FLAGSHIP, "--data", "d.json", "--epochs", "2", "--multi-gpu", "2"])
    assert args.func is train_cmd.run and args.epochs == 2 and args.multi_gpu == 2


@pytest.mark.parametrize(
    "name, otsu, min_size",
    [(FLAGSHIP, False, 40), ("xca_vessel_unet3plus", True, 40), ("xca_major_vessel_unet", False, 40), ("xca_temporal_cenet", False, 40)],
)
def test_bundle_postprocessing_is_the_bundles_own(name, otsu, min_size):
    """The runner runs the bundle's own post-processing steps (Otsu, small components), minus its writers."""
    model = load_bundle(name, allow_random_weights=True)
    names = [type(t).__name__ for t in model.post_steps]
    assert ("OtsuThresholdd" in names, model.min_component_size) == (otsu, min_size)
    assert not any(n.startswith("Save") for n in names)


class _ConstantLogits(torch.nn.Module):
    """Single-channel 'network' whose probabilities are 0.30 on the left half and 0.45 on the right half."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logit = torch.full_like(x[:, :1], float(np.log(0.30 / 0.70)))
        logit[..., x.shape[-1] // 2 :] = float(np.log(0.45 / 0.55))
        return logit


def test_runner_applies_configured_otsu_on_probabilities():
    from monai.inferers import SimpleInferer
    from monai.transforms import Activationsd, AsDiscreted

    from monai_angio.bundle import BundleRunner
    from monai_angio.transforms import OtsuThresholdd

    kw = dict(name="t", root=Path("."), network=_ConstantLogits(), inferer=SimpleInferer(), loader=[],
              cine_steps=[], frame_steps=[], class_names={0: "background", 1: "vessel"}, weights=None,
              device=torch.device("cpu"), frame_key=None)
    frames = np.random.rand(2, 32, 64).astype(np.float32)
    plain = BundleRunner(**kw, post_steps=[Activationsd(keys="pred", sigmoid=True),
                                           AsDiscreted(keys="pred", threshold=0.5)]).predict(frames)
    otsu = BundleRunner(**kw, post_steps=[Activationsd(keys="pred", sigmoid=True),
                                          OtsuThresholdd(keys="pred")]).predict(frames)
    assert plain.sum() == 0  # every probability < 0.5
    np.testing.assert_array_equal(otsu[:, :, 32:], 1)  # Otsu splits 0.30 / 0.45
    np.testing.assert_array_equal(otsu[:, :, :32], 0)


def test_symlink_loop_and_out_file_reported(tiny_bundle, tmp_path, capsys):
    """A symlink loop among the inputs is reported and the batch goes on; --out naming a file stops before work."""
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    write_png(tmp_path / "ok.png", 32)
    res = segment_files([loop, tmp_path / "ok.png"], tiny_bundle, tmp_path / "o", progress=False)
    assert [r.ok for r in res] == [False, True] and "loop.png" in res[0].error and "loop" in res[0].error
    out_file = tmp_path / "results.txt"
    out_file.write_text("x")
    assert main(["segment", str(tmp_path / "ok.png"), "--bundle", str(tiny_bundle), "--out", str(out_file)]) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert out_file.read_text() == "x"


def test_labels_nifti_is_x_first_and_row_first_is_deprecated(tiny_bundle, inputs, tmp_path, capsys):
    """The label NIfTI is x first (MONAI's LoadImage gives the PNG's order); --nifti-row-first keeps the old layout."""
    from monai.transforms import LoadImage

    from monai_angio.transforms import read_angiogram

    res = segment_files([inputs["dcm"]], tiny_bundle, tmp_path / "new", progress=False)[0]
    assert res.ok, res.error
    on_disk = np.asarray(nib.load(str(res.outputs["labels"])).dataobj)
    np.testing.assert_array_equal(np.transpose(on_disk, (2, 1, 0)), res.labels)
    np.testing.assert_array_equal(np.asarray(LoadImage(image_only=True)(str(res.outputs["labels"]))), on_disk)
    np.testing.assert_array_equal(read_angiogram(res.outputs["labels"])[0], res.labels)

    argv = [str(inputs["dcm"]), "--bundle", str(tiny_bundle), "--out", str(tmp_path / "old"), "--nifti-row-first"]
    assert main(["segment"] + argv + ["--no-seg", "--no-gif", "--no-overlays"]) == 0
    assert "--nifti-row-first is deprecated" in capsys.readouterr().err
    old = tmp_path / "old" / "cine_labels.nii.gz"
    np.testing.assert_array_equal(np.moveaxis(np.asarray(nib.load(str(old)).dataobj), -1, 0), res.labels)
    np.testing.assert_array_equal(read_angiogram(old)[0], res.labels)  # its descrip says rows first
    assert json.loads((tmp_path / "old" / "cine_summary.json").read_text())["labels_nifti_axes"] == "row,column,frame"


def test_set_overrides_a_config_id_and_refuses_unknown_ones(tmp_path, capsys):
    """``--set ID=VALUE`` reaches the bundle's config (here the flagship's noise smoothing, on by default, switched
    off); an id the bundle lacks is an error naming it, before anything runs."""
    from monai_angio.bundle.locate import parse_config_overrides

    assert parse_config_overrides(["noise_threshold_sigma=0.04", "x=[1, 2]", "name=abc", "n=null"]) == {
        "noise_threshold_sigma": 0.04, "x": [1, 2], "name": "abc", "n": None}
    for bad, words in ((["a"], "ID=VALUE"), (["=1"], "ID=VALUE"), (["a=1", "a=2"], "set twice")):
        with pytest.raises(ValueError, match=words):
            parse_config_overrides(bad)
    with pytest.raises(ValueError, match="no config id 'noise_treshold'"):
        parse_config_overrides(["noise_treshold=0.04"], FLAGSHIP)
    default = load_bundle(FLAGSHIP)
    smooth = [t for t in default.frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd"]
    assert len(smooth) == 1 and smooth[0].op.threshold_sigma == 0.04  # shipped on
    off = load_bundle(FLAGSHIP, **parse_config_overrides(["noise_threshold_sigma=null"], FLAGSHIP))
    op = next(t for t in off.frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd").op
    assert op.threshold_sigma is None and op.target_sigma == 0.025
    assert off.overrides == {"noise_threshold_sigma": None} and default.overrides == {}
    png = tmp_path / "x.png"
    write_png(png, 64)
    assert main(["segment", str(png), "--bundle", FLAGSHIP, "--out", str(tmp_path / "o"),
                 "--set", "noise_treshold=0.04"]) == 2
    assert "no config id 'noise_treshold'" in capsys.readouterr().err and not (tmp_path / "o").exists()
    assert main(["segment", str(png), "--bundle", FLAGSHIP, "--out", str(tmp_path / "o"), "--runtime", "torch",
                 "--set", "noise_threshold_sigma=null"]) == 0
    summary = json.loads((tmp_path / "o" / "x_summary.json").read_text())
    assert summary["config_overrides"] == {"noise_threshold_sigma": None}  # the run's provenance


def test_noisy_input_is_measured_and_warned_about(tmp_path, capsys):
    """The flagship measures each frame's noise (its ``NoiseAdaptiveSmoothd``): the summary records the largest; a
    frame noisier than any the network trained on is smoothed (total variation, by default) and gets a warning;
    with the smoothing switched off the warning names the switch."""
    from monai_angio.data import write_png_image
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    img = generate_phantom(3, PhantomConfig(size=256)).image
    write_png_image(tmp_path / "clean.png", img, bit_depth=16)
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 0.08, img.shape), 0, 1).astype(np.float32)
    write_png_image(tmp_path / "noisy.png", noisy, bit_depth=16)
    out = tmp_path / "o"
    assert main(["segment", str(tmp_path / "clean.png"), str(tmp_path / "noisy.png"), "--bundle", FLAGSHIP,
                 "--out", str(out), "--runtime", "torch", "--no-seg"]) == 0
    err = capsys.readouterr().err
    clean = json.loads((out / "clean_summary.json").read_text())
    loud = json.loads((out / "noisy_summary.json").read_text())
    assert clean["noise_sigma"] < 0.04 < loud["noise_sigma"]
    assert "noisy.png: noisy input" in err and "clean.png: noisy input" not in err
    assert "were smoothed" in err and loud["warnings"]
    assert main(["segment", str(tmp_path / "noisy.png"), "--bundle", FLAGSHIP, "--out", str(tmp_path / "o2"),
                 "--runtime", "torch", "--no-seg", "--set", "noise_threshold_sigma=null"]) == 0
    assert "--set noise_threshold_sigma=0.04" in capsys.readouterr().err


def test_inverted_image_is_warned_about_and_can_be_inverted_back(tmp_path, capsys):
    """An image whose vessels are bright (an inverted export) gets a warning naming the switch; with
    ``--set invert_intensity=auto`` it is segmented as its normal twin is, and a normal image is left as it is."""
    from monai_angio.data import write_png_image
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    img = np.asarray(generate_phantom(3, PhantomConfig(size=256)).image, np.float32)
    write_png_image(tmp_path / "normal.png", img, bit_depth=16)
    write_png_image(tmp_path / "inverted.png", 1.0 - img, bit_depth=16)
    args = ["--bundle", FLAGSHIP, "--runtime", "torch", "--no-seg", "--no-overlays"]
    assert main(["segment", str(tmp_path / "normal.png"), str(tmp_path / "inverted.png"), "--out", str(tmp_path / "a"),
                 *args]) == 0
    err = capsys.readouterr().err
    assert "inverted.png: the vessels look brighter" in err and "--set invert_intensity=true" in err
    assert "normal.png: the vessels look brighter" not in err
    normal = json.loads((tmp_path / "a" / "normal_summary.json").read_text())
    assert normal["vessel_polarity"] > 0 > json.loads((tmp_path / "a" / "inverted_summary.json").read_text())[
        "vessel_polarity"]
    assert main(["segment", str(tmp_path / "normal.png"), str(tmp_path / "inverted.png"), "--out", str(tmp_path / "b"),
                 *args, "--set", "invert_intensity=auto"]) == 0
    assert "inverted.png: the image was inverted" in capsys.readouterr().err

    def labels(folder, stem):
        return np.asarray(nib.load(str(tmp_path / folder / f"{stem}_labels.nii.gz")).dataobj)

    np.testing.assert_array_equal(labels("b", "normal"), labels("a", "normal"))  # auto leaves a normal image alone
    same = labels("b", "inverted") == labels("a", "normal")
    assert same.mean() > 0.995 and (labels("b", "inverted") == 1).sum() > 500


def test_major_vessel_bundle_smooths_noisy_frames_by_default():
    """The major-vessel U-Net (no catheter class) runs the Gaussian noise-adaptive smoothing by default; the flagship
    runs the total-variation one (a Gaussian-smoothed wire could be labelled catheter); both measure the noise."""
    on = next(t for t in load_bundle("xca_major_vessel_unet").frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd")
    tv = next(t for t in load_bundle(FLAGSHIP).frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd")
    assert (on.op.threshold_sigma, on.op.target_sigma, on.op.method, on.noise_key) == (0.04, 0.025, "gaussian",
                                                                                      "noise_sigma")
    assert (tv.op.threshold_sigma, tv.op.target_sigma, tv.op.method, tv.noise_key) == (0.04, 0.025, "tv", "noise_sigma")


def test_unet3plus_bundle_smooths_noisy_frames_by_default():
    step = next(t for t in load_bundle("xca_vessel_unet3plus").frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd")
    assert (step.op.threshold_sigma, step.op.target_sigma, step.noise_key) == (0.04, 0.025, "noise_sigma")


def test_major_artery_map_is_written_when_asked_for(tmp_path, capsys):
    """``--set major_map=true``: ``<stem>_major.nii.gz`` holds the arteries at least 2 mm at their origin, inside the
    label map's artery region, on its grid and axes; the summary gives its scale; the label map is unchanged. Off
    (the default), no major map is written, and a rerun with --overwrite removes a stale one."""
    from monai_angio.data import write_png_image
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    ph = generate_phantom(3, PhantomConfig(size=384))
    write_png_image(tmp_path / "x.png", np.asarray(ph.image, np.float32), bit_depth=16)
    args = [str(tmp_path / "x.png"), "--bundle", FLAGSHIP, "--runtime", "torch", "--no-seg", "--no-overlays"]
    assert main(["segment", *args, "--out", str(tmp_path / "on"), "--set", "major_map=true"]) == 0
    assert main(["segment", *args, "--out", str(tmp_path / "off")]) == 0
    on, off = tmp_path / "on", tmp_path / "off"
    lab = np.asarray(nib.load(str(on / "x_labels.nii.gz")).dataobj)
    np.testing.assert_array_equal(lab, np.asarray(nib.load(str(off / "x_labels.nii.gz")).dataobj))
    major_img = nib.load(str(on / "x_major.nii.gz"))
    major = np.asarray(major_img.dataobj)
    assert major.shape == lab.shape and set(np.unique(major)) == {0, 1}
    np.testing.assert_allclose(major_img.affine, nib.load(str(on / "x_labels.nii.gz")).affine)
    assert not (major.astype(bool) & (lab == 2)).any()
    near = ndimage.binary_dilation(lab[..., 0] == 1, iterations=3)
    assert near[major[..., 0] > 0].all()
    s = json.loads((on / "x_summary.json").read_text())
    assert s["major_map"]["pixels"] == int(major.sum()) and 0.1 < s["major_map"]["mm_per_px"] < 0.6
    assert s["major_map"]["min_origin_diameter_mm"] == 2.0 and s["major_map"]["refined"] is False
    assert s["outputs"]["major"].endswith("x_major.nii.gz")
    assert not (off / "x_major.nii.gz").exists() and json.loads((off / "x_summary.json").read_text())["major_map"] is None
    # the major map counts as an output of the input: not overwritten without --overwrite, removed when stale
    (off / "x_major.nii.gz").write_bytes(b"stale")
    assert main(["segment", *args, "--out", str(off), "--no-overlays"]) == 1
    assert "exists; refusing to overwrite" in capsys.readouterr().err
    assert (off / "x_major.nii.gz").read_bytes() == b"stale"
    assert main(["segment", *args, "--out", str(on), "--overwrite"]) == 0
    assert not (on / "x_major.nii.gz").exists()


def test_major_artery_map_without_catheter_or_geometry_says_it_used_the_widest_artery(tmp_path, monkeypatch):
    """A PNG has no DICOM geometry; with its catheter unusable too, the major map is scaled by its widest artery and
    the summary and the warnings say so."""
    import monai_angio.qca.calibration as calibration
    from monai_angio.data import write_png_image
    from monai_angio.data.synthetic import PhantomConfig, generate_phantom
    from monai_angio.errors import CalibrationError

    def no_catheter(*args, **kwargs):
        raise CalibrationError("no catheter in this test")

    monkeypatch.setattr(calibration, "calibrate_from_catheter", no_catheter)
    ph = generate_phantom(3, PhantomConfig(size=384))
    write_png_image(tmp_path / "x.png", np.asarray(ph.image, np.float32), bit_depth=16)
    args = [str(tmp_path / "x.png"), "--bundle", FLAGSHIP, "--runtime", "torch", "--no-seg", "--no-overlays"]
    assert main(["segment", *args, "--out", str(tmp_path), "--set", "major_map=true"]) == 0
    s = json.loads((tmp_path / "x_summary.json").read_text())
    assert s["major_map"]["frames_scaled_by_widest_artery"] == 1 and s["major_map"]["pixels"] > 0
    assert s["major_map"]["mm_per_px"] == pytest.approx(ph.spacing_mm, rel=0.25)
    assert any("widest artery, assumed 4.2 mm" in w for w in s["warnings"])
    # switched off, the map is empty and the warning says why
    off = ["--out", str(tmp_path / "off"), "--set", "major_map=true", "--set", "major_map_widest_artery_mm=null"]
    assert main(["segment", *args, *off]) == 0
    s = json.loads((tmp_path / "off" / "x_summary.json").read_text())
    assert s["major_map"]["frames_scaled_by_widest_artery"] == 0 and s["major_map"]["pixels"] == 0
    assert s["major_map"]["mm_per_px"] is None
    assert any("widest-artery prior off" in w for w in s["warnings"])
