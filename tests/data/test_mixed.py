"""Mixed real / synthetic training samples (:mod:`monai_angio.data.mixed`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from monai_angio.data.mixed import MixedAngioDataset, MixedSampleConfig, encode_phantom, encode_real_mask
from monai_angio.losses import NOT_ARTERY, UNKNOWN


def test_encodings() -> None:
    assert encode_real_mask(np.array([[0, 255, 1]])).tolist() == [[NOT_ARTERY, 1, 1]]
    label = np.array([[0, 1, 2, 0]])
    vessel = np.array([[0, 1, 0, 1]], bool)  # the last pixel: a thin branch drawn but not labelled artery
    assert encode_phantom(label, vessel).tolist() == [[0, 1, 2, UNKNOWN]]


def test_samples_real_and_synthetic(tmp_path: Path) -> None:
    img = np.full((96, 96), 180, np.uint8)
    img[40:48, :] = 60
    mask = np.zeros((96, 96), np.uint8)
    mask[40:48, :] = 255
    Image.fromarray(img).save(tmp_path / "1.png")
    Image.fromarray(mask).save(tmp_path / "1_gt.png")
    items = [{"image": str(tmp_path / "1.png"), "label": str(tmp_path / "1_gt.png")}]
    real = MixedAngioDataset(items, 3, MixedSampleConfig(crop=64, real_fraction=1.0))
    s = real[0]
    assert s["image"].shape == (1, 64, 64) and s["label"].shape == (1, 64, 64)
    assert 0.0 <= float(s["image"].min()) and float(s["image"].max()) <= 1.0
    assert set(np.unique(s["label"].numpy())) <= {1, NOT_ARTERY, UNKNOWN}
    again = MixedAngioDataset(items, 3, MixedSampleConfig(crop=64, real_fraction=1.0))[0]
    assert np.array_equal(again["image"].numpy(), s["image"].numpy())  # deterministic per (seed, epoch, index)
    synth = MixedAngioDataset([], 1, MixedSampleConfig(crop=64, synthetic_sizes=(128,)))[0]
    assert set(np.unique(synth["label"].numpy())) <= {0, 1, 2, UNKNOWN} and 1 in np.unique(synth["label"].numpy())


def test_flips_move_image_and_label_together(tmp_path: Path) -> None:
    """``flip_prob=1``: every sample is flipped up-down and left-right, the label with its image; ``0`` adds no
    flip (the samples of recipes without flips are unchanged)."""
    img = np.full((96, 96), 180, np.uint8)
    img[40:48, 10:70] = 60  # an off-centre vessel: a flip moves it
    mask = np.zeros((96, 96), np.uint8)
    mask[40:48, 10:70] = 255
    Image.fromarray(img).save(tmp_path / "1.png")
    Image.fromarray(mask).save(tmp_path / "1_gt.png")
    items = [{"image": str(tmp_path / "1.png"), "label": str(tmp_path / "1_gt.png")}]
    kw = dict(crop=96, real_fraction=1.0, scale_range=(1.0, 1.0), rotate_deg=0.0)
    plain = MixedAngioDataset(items, 1, MixedSampleConfig(**kw))
    flipped = MixedAngioDataset(items, 1, MixedSampleConfig(flip_prob=1.0, **kw))
    assert not any("Flip" in type(t).__name__ for t in plain.aug.transforms)
    lab0, lab1 = plain[0]["label"][0].numpy(), flipped[0]["label"][0].numpy()
    assert (lab0[40:48, 10:70] == 1).all() and (lab1[48:56, 26:86] == 1).all()
    assert (lab1 == 1).sum() == (lab0 == 1).sum()
    im1 = flipped[0]["image"][0].numpy()
    assert im1[lab1 == 1].mean() < im1[lab1 == NOT_ARTERY].mean() - 0.3  # the dark vessel moved with its label
