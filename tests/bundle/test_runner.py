"""The single inference path: :class:`monai_angio.bundle.BundleRunner` runs each bundle's own ``inference.json``.

For every bundle, ``python -m monai.bundle run --config_file configs/inference.json --input ...`` (MONAI's own
command, run in-process through :func:`monai.bundle.run`) and the runner used by ``monai-angio segment`` must write
the same labels, pixel for pixel, on a multi-frame DICOM XA cine and on a PNG still.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from monai_angio.bundle import BUNDLE_NAMES, BundleRunner, load_bundle, load_bundle_config, resolve_bundle
from monai_angio.errors import AngioInputError
from tests.apps.test_segment import write_multiframe_dicom, write_png

SMALL = {"image_size": 64}  # the bundles that resize run at 64 px here (the flagship keeps its native grid)


def _bundle_with_weights(name: str, tmp_path: Path) -> Path:
    """A copy of the bundle; random weights saved where the bundle ships none (the config path needs a file)."""
    src = resolve_bundle(name)
    root = tmp_path / name
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("eval", "runs", "*.ts", "*.onnx"))
    ckpt = root / "models" / "model.pt"
    if not ckpt.is_file():
        ckpt.parent.mkdir(exist_ok=True)
        torch.manual_seed(0)
        net = load_bundle_config(root, "inference").get_parsed_content("network_def")
        torch.save(net.state_dict(), ckpt)
    return root


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("runner_inputs")
    write_multiframe_dicom(d / "cine.dcm", frames=3, rows=64, cols=96)
    write_png(d / "still.png", 64)
    return {"cine": d / "cine.dcm", "still": d / "still.png"}


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_monai_bundle_run_equals_runner(name: str, inputs: dict, tmp_path: Path) -> None:
    from monai.bundle import run

    root = _bundle_with_weights(name, tmp_path)
    override = {} if name == "xca_artery_catheter_efficientunetpp" else SMALL
    out = tmp_path / "out"
    run(
        run_id="run",
        config_file=str(root / "configs" / "inference.json"),
        meta_file=str(root / "configs" / "metadata.json"),
        bundle_root=str(root),
        input=os.pathsep.join([str(inputs["cine"]), str(inputs["still"])]),
        output_dir=str(out),
        device="cpu",
        **override,
    )
    runner = load_bundle(root, runtime="torch", **override)  # exact: MONAI's workflow runs eager torch
    cine = runner.predict(runner.load(inputs["cine"]))
    still = runner.predict(runner.load(inputs["still"]))
    assert cine.shape == (3, 64, 96) and still.shape == (1, 64, 64)
    # MONAI's writer gets the prediction in MONAI's order (x first, as LoadImage reads the input): its NIfTI is the
    # transpose of the runner's row-major labels
    for k in range(3):
        saved = np.asarray(nib.load(str(out / f"cine_seg_{k}.nii.gz")).dataobj).squeeze()
        np.testing.assert_array_equal(saved.T, cine[k], err_msg=f"{name} frame {k}")
    saved = np.asarray(nib.load(str(out / "still_seg.nii.gz")).dataobj).squeeze()
    np.testing.assert_array_equal(saved.T, still[0], err_msg=f"{name} still")
    assert set(np.unique(cine)) <= set(runner.class_names)


def test_runner_splits_the_config(tmp_path: Path) -> None:
    """Loader once per file, cine-level steps once, selector and the rest per frame, writers dropped."""
    flag = load_bundle("xca_artery_catheter_efficientunetpp")
    assert [type(t).__name__ for t in flag.loader] == ["LoadAngiogramd", "ToRowMajord"]
    # the fields of view (the normalisation's and the labels' corner-aware one) are found once per cine (from its
    # mean frame), the rest runs per frame; a streamed cine gets both masks
    assert [(type(t).__name__, t.fov_key, t.border_fov_key) for t in flag.cine_steps] == [
        ("FieldOfViewd", "fov", "label_fov")
    ]
    assert flag.streams
    assert type(flag.frame_steps[0]).__name__ == "SelectFramed"
    assert not any(type(t).__name__.startswith("Save") for t in flag.post_steps)
    temporal = load_bundle("xca_temporal_cenet", allow_random_weights=True)
    assert temporal.num_neighbors == 2 and type(temporal.frame_steps[0]).__name__ == "TemporalWindowd"
    # the temporal bundle normalises the whole run once (one FOV, percentiles over all frames)
    assert [type(t).__name__ for t in temporal.cine_steps][:2] == ["FieldOfViewd", "FOVNormalized"]


def test_runner_masks_outside_the_field_of_view() -> None:
    """The flagship's config labels nothing outside a dark collimator disc (FieldOfViewd + MaskOutsideFOVd)."""
    rng = np.random.default_rng(0)
    h = w = 128
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 64) ** 2 + (xx - 64) ** 2 < 50**2
    img = np.where(disc, 0.7 + 0.02 * rng.standard_normal((h, w)), 0.02).astype(np.float32)
    img[60:66, 20:108] = np.where(disc[60:66, 20:108], 0.25, img[60:66, 20:108])  # a dark vessel inside the disc
    lab = load_bundle("xca_artery_catheter_efficientunetpp").predict(img[None])[0]
    margin = (yy - 64) ** 2 + (xx - 64) ** 2 < 49**2
    assert lab[~margin].sum() == 0


def test_runner_bad_input_names_the_file(tmp_path: Path) -> None:
    runner = load_bundle("xca_artery_catheter_efficientunetpp")
    with pytest.raises(AngioInputError, match="x.png.*NaN"):
        runner.predict(np.full((1, 32, 32), np.nan, np.float32), filename=str(tmp_path / "x.png"))
    with pytest.raises(AngioInputError, match="frame 5"):
        runner.predict(np.random.rand(2, 32, 32).astype(np.float32), indices=[5])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(AngioInputError, match="bad.pt.*not a readable weights file"):
        load_bundle("xca_artery_catheter_efficientunetpp", weights=bad)
    assert isinstance(runner, BundleRunner)


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.zeros((1, 64, 64), np.float32), "no contrast"),
        (np.full((2, 64, 64), 255.0, np.float32), "no contrast"),
        (np.ones((1, 1, 1), np.float32), "at least 16x16"),
        (np.random.rand(1, 40, 8).astype(np.float32), "at least 16x16"),
    ],
)
def test_runner_refuses_what_cannot_be_segmented(frames: np.ndarray, message: str) -> None:
    """All-black, all-white, constant and tiny inputs are refused instead of coming out as 'artery'."""
    runner = load_bundle("xca_artery_catheter_efficientunetpp")
    with pytest.raises(AngioInputError, match=f"odd.png.*{message}"):
        runner.predict(frames, filename="odd.png")


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "empty or truncated"),
        (b"PK\x03\x04" + bytes(range(200)), "corrupt"),
        (b"\x80\x04\x95 not a pickle at all", "objects other than tensors"),
    ],
)
def test_unreadable_weights_are_explained_in_our_words(tmp_path: Path, content: bytes, problem: str) -> None:
    from monai_angio.bundle import load_state_dict

    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(AngioInputError, match=problem) as err:
        load_state_dict(path)
    text = str(err.value)
    assert str(path) in text and "weights_only" not in text and "torch.save" in text


def test_pickled_objects_in_weights_are_refused(tmp_path: Path) -> None:
    from monai_angio.bundle import load_state_dict

    path = tmp_path / "model.pt"
    torch.save({"model": {"w": torch.zeros(2)}, "extra": Path("x")}, path)  # a non-tensor object inside
    with pytest.raises(AngioInputError, match="objects other than tensors") as err:
        load_state_dict(path)
    assert "weights_only" not in str(err.value)


def test_major_artery_bundle_keeps_the_label_map_and_adds_the_major_map(tmp_path: Path) -> None:
    """The flagship with its network wrapped in :class:`~monai_angio.networks.ArterySplitNetwork` (shipped weights
    as the base, a random head) and ``ArteryBranchLabeld`` + ``MaskByLabeld`` in its postprocessing: the label map
    is the flagship's, pixel for pixel; the runner collects the major-artery map (inside label 1, not all of it) and
    names the labels from the metadata's ``label_def``."""
    import json

    from monai_angio.data.synthetic import PhantomConfig, generate_phantom
    from monai_angio.networks import ArterySplitNetwork

    root = tmp_path / "split"
    shutil.copytree(resolve_bundle("xca_artery_catheter_efficientunetpp"), root)
    cfg_path = root / "configs" / "inference.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["network_def"] = {"_target_": "monai_angio.networks.ArterySplitNetwork", "base": cfg["network_def"]}
    cfg["num_classes"] = 3  # the base's classes; the wrapper adds the branch
    post = cfg["postprocessing"]["transforms"]
    k = next(i for i, t in enumerate(post) if t["_target_"].endswith("ArgmaxLabeld"))
    post[k] = {"_target_": "monai_angio.transforms.ArteryBranchLabeld", "keys": "pred", "major_key": "major"}
    k = next(i for i, t in enumerate(post) if t["_target_"].endswith("RemoveSmallComponentsd"))
    post.insert(k + 1, {"_target_": "monai_angio.transforms.MaskByLabeld", "keys": "major", "label_key": "pred"})
    cfg_path.write_text(json.dumps(cfg))
    meta_path = root / "configs" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    pred = meta["network_data_format"]["outputs"]["pred"]
    pred["num_channels"] = 4
    pred["channel_def"] = {"0": "background", "1": "major artery", "2": "catheter", "3": "artery branch"}
    pred["label_def"] = {"0": "background", "1": "artery", "2": "catheter"}
    meta_path.write_text(json.dumps(meta))
    base = load_bundle("xca_artery_catheter_efficientunetpp", runtime="torch")
    torch.manual_seed(0)
    net = ArterySplitNetwork(base.network)
    torch.save(net.state_dict(), root / "models" / "model.pt")

    split = load_bundle(root, runtime="torch")
    assert split.class_names == {0: "background", 1: "artery", 2: "catheter"}
    image = generate_phantom(5, PhantomConfig(size=256)).image[None]
    labels = split.predict(image)
    np.testing.assert_array_equal(labels, base.predict(image))
    major = split.extra_maps["major"]
    assert major.shape == labels.shape and major.dtype == np.uint8
    assert major.any() and not (major.astype(bool) & (labels != 1)).any() and major.sum() < (labels == 1).sum()
    assert base.extra_maps == {}
