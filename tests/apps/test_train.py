"""Tests for ``monai-angio train`` (:mod:`monai_angio.apps.train`)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from monai_angio.apps import train as train_cmd
from monai_angio.apps.train import train_bundle
from monai_angio.errors import AngioInputError
from tests.apps.test_segment import make_tiny_bundle

REPO = Path(__file__).resolve().parents[2]
FLAGSHIP = "xca_artery_catheter_efficientunetpp"


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="monai-angio")
    train_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


TRAIN_CFG = {
    "imports": ["$import monai_angio.transforms.io"],
    "bundle_root": ".",
    "ckpt_dir": "$@bundle_root + '/models'",
    "output_dir": "$@bundle_root + '/eval'",
    "dataset_dir": "/nonexistent",
    "data_list_file_path": "$@dataset_dir + '/datalist.json'",
    "epochs": 50,
    "image_size": 256,
    "device": "$torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
    "network_def": {"_target_": "monai.networks.nets.UNet", "spatial_dims": 2, "in_channels": 1, "out_channels": 3,
                    "channels": [4, 8], "strides": [2], "num_res_units": 0},
    "network": "$@network_def.to(@device)",
    "loss": {"_target_": "DiceCELoss", "to_onehot_y": True, "softmax": True},
    "optimizer": {"_target_": "torch.optim.Adam", "params": "$@network.parameters()", "lr": 0.01},
    "preprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "monai_angio.transforms.io.LoadAngiogramd", "keys": ["image", "label"]},
        {"_target_": "ScaleIntensityd", "keys": "image"},
        {"_target_": "Resized", "keys": ["image", "label"], "spatial_size": ["@image_size", "@image_size"],
         "mode": ["area", "nearest"]}]},
    "train": {
        "datalist": "$monai.data.load_decathlon_datalist(@data_list_file_path, True, 'training', @dataset_dir)",
        "dataset": {"_target_": "Dataset", "data": "@train#datalist", "transform": "@preprocessing"},
        "dataloader": {"_target_": "DataLoader", "dataset": "@train#dataset", "batch_size": 2, "num_workers": 0},
        "handlers": [
            {"_target_": "ValidationHandler", "validator": "@validate#evaluator", "epoch_level": True, "interval": 1},
            {"_target_": "TensorBoardStatsHandler", "log_dir": "@output_dir", "tag_name": "train_loss",
             "output_transform": "$monai.handlers.from_engine(['loss'], first=True)"}],
        "trainer": {"_target_": "SupervisedTrainer", "max_epochs": "@epochs", "device": "@device",
                    "train_data_loader": "@train#dataloader", "network": "@network", "loss_function": "@loss",
                    "optimizer": "@optimizer", "train_handlers": "@train#handlers"},
    },
    "validate": {
        "datalist": "$monai.data.load_decathlon_datalist(@data_list_file_path, True, 'validation', @dataset_dir)",
        "dataset": {"_target_": "Dataset", "data": "@validate#datalist", "transform": "@preprocessing"},
        "dataloader": {"_target_": "DataLoader", "dataset": "@validate#dataset", "batch_size": 1, "num_workers": 0},
        "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "AsDiscreted", "keys": ["pred", "label"], "argmax": [True, False], "to_onehot": 3}]},
        "handlers": [{"_target_": "CheckpointSaver", "save_dir": "@ckpt_dir", "save_dict": {"model": "@network"},
                      "save_key_metric": True, "key_metric_filename": "model.pt"}],
        "evaluator": {"_target_": "SupervisedEvaluator", "device": "@device", "val_data_loader": "@validate#dataloader",
                      "network": "@network", "postprocessing": "@validate#postprocessing",
                      "key_val_metric": {"val_mean_dice": {"_target_": "MeanDice", "include_background": False,
                                         "output_transform": "$monai.handlers.from_engine(['pred', 'label'])"}},
                      "val_handlers": "@validate#handlers"},
    },
    "initialize": ["$monai.utils.set_determinism(seed=0)"],
    "run": ["$@train#trainer.run()"],
}


def tiny_train_bundle(root: Path) -> Path:
    make_tiny_bundle(root, weights=False)
    (root / "configs" / "train.json").write_text(json.dumps(TRAIN_CFG, indent=1))
    return root


def tiny_datalist(d: Path, n: int = 3, size: int = 32) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    (d / "images").mkdir(parents=True)
    (d / "labels").mkdir()
    items = []
    for i in range(n):
        lab = np.zeros((size, size), np.uint8)
        lab[size // 2 - 2 : size // 2 + 2, 4:-4] = 1
        lab[:, 3:5] = 2
        img = (200 - 120 * (lab > 0) + rng.integers(0, 20, lab.shape)).astype(np.uint8)
        Image.fromarray(img).save(d / "images" / f"case_{i:03d}.png")
        Image.fromarray(lab).save(d / "labels" / f"case_{i:03d}.png")
        items.append({"image": f"images/case_{i:03d}.png", "label": f"labels/case_{i:03d}.png"})
    dl = d / "datalist.json"
    dl.write_text(json.dumps({"training": items[:2], "validation": items[2:], "test": []}))
    return dl


def test_overrides_and_dry_run(tmp_path, capsys):
    root = tiny_train_bundle(tmp_path / "b")
    dl = tiny_datalist(tmp_path / "data")
    res = train_bundle(root, dl, tmp_path / "run", epochs=3, image_size=64, device="cpu", iterations=2,
                       overrides={"batch_size": 4}, dry_run=True)
    ov = res["overrides"]
    assert ov["bundle_root"] == str(root.resolve()) and ov["data_list_file_path"] == str(dl.resolve())
    assert ov["dataset_dir"] == str(dl.resolve().parent)
    assert ov["ckpt_dir"] == str((tmp_path / "run" / "models").resolve())
    assert ov["output_dir"] == str((tmp_path / "run" / "logs").resolve())
    assert ov["epochs"] == 3 and ov["image_size"] == 64 and ov["train#trainer#epoch_length"] == 2
    assert ov["device"] == "$torch.device('cpu')" and ov["batch_size"] == 4
    assert not (tmp_path / "run").exists()  # dry run writes nothing
    # multi-GPU: a torchrun command with both configs and the overrides
    (root / "configs" / "multi_gpu_train.json").write_text("{}")
    res = train_bundle(root, dl, tmp_path / "run", multi_gpu=2, dry_run=True)
    cmd = res["command"]
    assert "torch.distributed.run" in cmd and "--nproc_per_node=2" in cmd and "monai.bundle" in cmd
    assert "multi_gpu_train.json" in cmd[cmd.index("--config_file") + 1]
    assert cmd[cmd.index("--ckpt_dir") + 1] == ov["ckpt_dir"]
    assert main(["train", str(root), "--data", str(dl), "--multi-gpu", "2", "--dry-run"]) == 0
    assert "--nproc_per_node=2" in capsys.readouterr().out


def test_refusals(tmp_path):
    root = tiny_train_bundle(tmp_path / "b")
    dl = tiny_datalist(tmp_path / "data")
    with pytest.raises(ValueError, match="inside the bundle"):
        train_bundle(root, dl, root / "runs", dry_run=True)
    assert train_bundle(root, dl, root / "runs", into_bundle=True, dry_run=True)["out_dir"] == (root / "runs").resolve()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"validation": []}))
    with pytest.raises(AngioInputError, match="training"):
        train_bundle(root, bad, tmp_path / "r", dry_run=True)
    assert main(["train", str(root), "--data", str(tmp_path / "missing.json"), "--out", str(tmp_path / "r")]) == 2
    assert main(["train", str(tmp_path / "nope"), "--data", str(dl)]) == 2
    assert main(["train", str(root), "--data", str(dl), "--override", "novalue"]) == 2


def test_cli_train_one_iteration(tmp_path, capsys):
    root = tiny_train_bundle(tmp_path / "b")
    dl = tiny_datalist(tmp_path / "data")
    out = tmp_path / "run"
    rc = main(["train", str(root), "--data", str(dl), "--out", str(out), "--epochs", "1", "--iterations", "1",
               "--device", "cpu", "--image-size", "32"])
    assert rc == 0
    text = capsys.readouterr().out
    assert f"tensorboard --logdir {out.resolve() / 'logs'}" in text
    ckpt = out / "models" / "model.pt"
    assert ckpt.is_file() and not (root / "models" / "model.pt").exists()  # nothing written into the bundle
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert any(k.endswith("weight") for k in state)
    assert list((out / "logs").glob("events.out.tfevents.*"))
    # the trained weights are usable by segment
    from monai_angio.apps.segment import load_bundle

    assert load_bundle(root, weights=ckpt).weights == ckpt


@pytest.mark.skipif(not (REPO / "bundles" / FLAGSHIP / "configs" / "train.json").is_file(),
                    reason="flagship bundle not in this checkout")
def test_flagship_train_one_iteration(tmp_path):
    """The real flagship train.json runs one iteration at 64 px on a tiny datalist."""
    root = tmp_path / FLAGSHIP
    shutil.copytree(REPO / "bundles" / FLAGSHIP, root, ignore=shutil.ignore_patterns("*.pt", "*.ts", "eval", "runs"))
    dl = tiny_datalist(tmp_path / "data", size=64)
    res = train_bundle(root, dl, tmp_path / "run", epochs=1, iterations=1, device="cpu", image_size=64,
                       overrides={"num_workers": 0, "batch_size": 2, "cache_rate": 0.0})
    assert res["returncode"] == 0
    assert res["checkpoint"].is_file()
