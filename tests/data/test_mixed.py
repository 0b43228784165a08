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
