"""Unit tests of :mod:`monai_angio.bundle` (locating bundles, config hooks) and of config overrides used to train the bundles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Resized

from monai_angio import bundle as bu
from monai_angio.bundle import hooks
from monai_angio.errors import AngioInputError

FLAGSHIP = "xca_artery_catheter_efficientunetpp"


def test_bundle_paths() -> None:
    assert [bu.bundle_path(n).name for n in bu.BUNDLE_NAMES] == list(bu.BUNDLE_NAMES)
    assert bu.bundle_config_path(FLAGSHIP, "logging").name == "logging.conf"
    with pytest.raises(FileNotFoundError):
        bu.bundle_path("no_such_bundle")
    with pytest.raises(FileNotFoundError):
        bu.bundle_config_path(FLAGSHIP, "no_such_config")


def test_load_datalist(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "labels_vessel").mkdir()
    for sub in ("images/a.png", "labels_vessel/a.png"):
        (tmp_path / sub).write_bytes(b"x")
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": [{"image": "images/a.png", "label_vessel": "labels_vessel/a.png",
                                              "stenosis_rc": [3.0, 4.0]}], "validation": []}))
    items = hooks.load_datalist(path, "training", label_key="label_vessel")
    assert items[0]["image"] == str(tmp_path / "images" / "a.png")
    assert items[0]["label"] == items[0]["label_vessel"] == str(tmp_path / "labels_vessel" / "a.png")
    assert items[0]["stenosis_rc"] == [3.0, 4.0]
    with pytest.raises(AngioInputError, match="empty"):
        hooks.load_datalist(path, "validation")
    with pytest.raises(AngioInputError, match="test"):
        hooks.load_datalist(path, "test")
    with pytest.raises(AngioInputError, match="not found"):
        hooks.load_datalist(tmp_path / "missing.json")


def test_load_datalist_entries_without_lesion_still_collate(tmp_path: Path) -> None:
    """A phantom without lesion has ``stenosis_rc: null``; batches mixing it with lesion cases must collate."""
    from monai.data import list_data_collate

    entries = [{"image": "a.png", "stenosis_rc": [3.0, 4.0], "note": None},
               {"image": "b.png", "stenosis_rc": None, "note": None}]
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": entries}))
    items = hooks.load_datalist(path, "training")
    assert "note" not in items[0] and "note" not in items[1]
    assert np.isnan(items[1]["stenosis_rc"]).all() and len(items[1]["stenosis_rc"]) == 2
    batch = list_data_collate(items)
    assert len(batch["stenosis_rc"]) == 2
    label = MetaTensor(torch.zeros(1, 8, 10))
    out = hooks.center_to_meta({"label": label, "stenosis_rc": items[1]["stenosis_rc"]})
    np.testing.assert_allclose(out["label"].meta["stenosis_center_rc"], [4, 5])  # NaN -> image centre


def test_channel_output_transform() -> None:
    pred = torch.zeros(3, 4, 4)
    pred[2, :2] = 1
    label = torch.zeros(3, 4, 4)
    label[2, :, :2] = 1
    output = [{"pred": pred, "label": label}, {"pred": pred, "label": pred}]
    preds, labels = hooks.channel_output_transform(2)(output)
    assert len(preds) == 2 and preds[0].shape == (1, 4, 4)
    assert torch.equal(preds[0][0], pred[2]) and torch.equal(labels[0][0], label[2])
    from monai.metrics import DiceMetric

    dice = DiceMetric(include_background=True)(torch.stack(preds), torch.stack(labels))
    assert dice.flatten().tolist() == pytest.approx([0.5, 1.0])  # 4 of 8 + 8 pixels overlap; identical


def test_spacing_from_datalist_follows_resize() -> None:
    img = MetaTensor(torch.rand(1, 64, 64), meta={"spacing_source": "unknown", "spatial_shape": np.array([64, 64])})
    known = MetaTensor(torch.rand(1, 64, 64), meta={"spacing_source": "dicom"})
    out = hooks.spacing_from_datalist({"image": img, "label": known, "spacing_mm": 0.25})
    assert out["image"].pixdim.tolist() == pytest.approx([0.25, 0.25])
    assert out["label"] is known  # a spacing found by the loader is kept
    resized = Resized("image", spatial_size=(32, 32))(out)["image"]
    assert resized.pixdim.tolist() == pytest.approx([0.5, 0.5])
    assert hooks.spacing_from_datalist({"image": img})["image"] is img


def test_center_to_meta_rescales() -> None:
    lab = MetaTensor(torch.zeros(1, 32, 32), meta={"spatial_shape": np.array([128, 64])})
    out = hooks.center_to_meta({"label": lab, "stenosis_rc": [64.0, 16.0]})
    assert out["label"].meta["stenosis_center_rc"].tolist() == pytest.approx([16.0, 8.0])
    assert "stenosis_center_rc" not in lab.meta  # input untouched
    none = hooks.center_to_meta({"label": lab, "stenosis_rc": None})
    assert none["label"].meta["stenosis_center_rc"].tolist() == [16.0, 16.0]


def test_local_f1_reads_center_from_meta() -> None:
    """The metric sees the centre put there by center_to_meta: a miss far from it does not count."""
    from monai_angio.metrics import LocalF1Metric

    gt = torch.zeros(1, 2, 64, 64)
    gt[:, 1, 5:10, 5:10] = 1
    pred = gt.clone()
    pred[:, 1, 50:60, 50:60] = 1  # false positives far from the lesion
    gt[:, 0], pred[:, 0] = 1 - gt[:, 1], 1 - pred[:, 1]
    y = MetaTensor(gt[0], meta={"spatial_shape": np.array([64, 64])})
    y = hooks.center_to_meta({"label": y, "stenosis_rc": [7, 7]})["label"]
    metric = LocalF1Metric(box=16)
    metric([pred[0]], [y])
    assert float(metric.aggregate()) == pytest.approx(1.0)


def test_resize_to_original_and_tag_frame() -> None:
    pred = MetaTensor(torch.rand(2, 32, 32), meta={"spatial_shape": np.array([64, 48])})
    assert hooks.resize_to_original(pred).shape == (2, 64, 48)
    same = MetaTensor(torch.rand(2, 64, 48), meta={"spatial_shape": np.array([64, 48])})
    assert hooks.resize_to_original(same) is same
    img = MetaTensor(torch.rand(1, 3, 8, 8))
    out = hooks.tag_frame({"image": img, "frame": 4})
    assert out["image"].meta["patch_index"] == 4 and "patch_index" not in img.meta


def test_train_overrides_for_gpu_training() -> None:
    """The overrides the lead uses: backbone, epochs, device, AMP switch."""
    parser = bu.load_bundle_config(FLAGSHIP, "train", **{"network_def#backbone": "efficientnet-b1", "epochs": 7,
                                                         "device": "cuda", "amp": True, "dataset_dir": "/d"})
    assert parser.get_parsed_content("use_amp") is True
    assert parser.get_parsed_content("data_list_file_path") == "/d/datalist.json"
    assert parser["train#trainer#max_epochs"] == "@epochs" and parser.get_parsed_content("epochs") == 7
    parser["amp"] = False
    assert parser.get_parsed_content("use_amp", lazy=False) is False
    cpu = bu.load_bundle_config(FLAGSHIP, "train", device="cpu", amp=True)
    assert cpu.get_parsed_content("use_amp") is False  # AMP only on CUDA
    b1 = parser.get_parsed_content("network_def")
    b0 = bu.load_bundle_config(FLAGSHIP, "inference").get_parsed_content("network_def")
    n1, n0 = (sum(p.numel() for p in n.parameters()) for n in (b1, b0))
    assert n1 > n0
    # the temporal bundle's window length follows the top-level num_neighbors
    temporal = bu.load_bundle_config("xca_temporal_cenet", "train", num_neighbors=2)
    assert temporal.get_parsed_content("network_def").num_frames == 5
