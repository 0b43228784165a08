"""Otsu binarisation and small-component removal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.errors import AngioInputError
from monai_angio.transforms import OtsuThreshold, OtsuThresholdd, RemoveSmallComponents, RemoveSmallComponentsd


def _bimodal(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    truth = np.zeros((64, 64), bool)
    truth[20:44, 10:30] = True
    truth[5:9, 40:60] = True
    # two well separated modes: background in [0.1, 0.3], foreground in [0.7, 0.9]
    prob = np.where(truth, rng.uniform(0.7, 0.9, truth.shape), rng.uniform(0.1, 0.3, truth.shape))
    return prob.astype(np.float32), truth


def test_otsu_bimodal_threshold_between_modes():
    rng = np.random.default_rng(0)
    prob, truth = _bimodal(rng)
    t = OtsuThreshold()
    out = t(MetaTensor(torch.from_numpy(prob)[None]))
    assert out.shape == (1, 64, 64) and out.dtype == torch.float32
    assert 0.3 < t.last_thresholds[0] < 0.7  # between the modes
    np.testing.assert_array_equal(out[0].numpy().astype(bool), truth)
    assert out.meta["otsu_thresholds"] == t.last_thresholds


def test_otsu_per_channel_and_constant():
    rng = np.random.default_rng(1)
    p1, t1 = _bimodal(rng)
    p2 = 0.1 * p1 + 0.5  # a second channel with its own, different threshold (~0.55)
    const = np.full_like(p1, 0.3)
    out = OtsuThreshold()(np.stack([p1, p2, const]))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0].astype(bool), t1)
    np.testing.assert_array_equal(out[1].astype(bool), t1)
    assert out[2].sum() == 0
    d = OtsuThresholdd("pred")({"pred": torch.from_numpy(p1)[None]})
    assert set(torch.unique(d["pred"]).tolist()) == {0.0, 1.0}
    bad = torch.from_numpy(p1)[None].clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(AngioInputError, match="non-finite"):
        OtsuThreshold()(bad)


def _label_map() -> np.ndarray:
    lab = np.zeros((1, 32, 32), np.uint8)
    lab[0, 2:12, 2:12] = 1  # big artery blob (100 px)
    lab[0, 20, 20] = 1  # isolated artery speck (1 px)
    lab[0, 25:27, 25:27] = 1  # small artery blob (4 px)
    lab[0, 2:30, 28:30] = 2  # catheter (56 px)
    lab[0, 15:17, 3:5] = 2  # small catheter blob (4 px)
    return lab


def test_remove_small_components_label_map():
    lab = _label_map()
    out = RemoveSmallComponents(min_size=5)(torch.from_numpy(lab))
    assert out.dtype == torch.uint8
    o = out.numpy()[0]
    assert o[20, 20] == 0 and o[25:27, 25:27].sum() == 0 and o[15:17, 3:5].sum() == 0
    assert (o[2:12, 2:12] == 1).all() and (o[2:30, 28:30] == 2).all()
    assert set(np.unique(o)) == {0, 1, 2}
    # min_size is inclusive: a 4-pixel blob survives min_size=4
    o4 = RemoveSmallComponents(min_size=4)(lab)[0]
    assert (o4[25:27, 25:27] == 1).all() and o4[20, 20] == 0
    # only catheter cleaned
    oc = RemoveSmallComponents(min_size=5, applied_labels=2)(lab)[0]
    assert oc[20, 20] == 1 and oc[15:17, 3:5].sum() == 0


def test_remove_small_components_connectivity():
    lab = np.zeros((1, 8, 8), np.uint8)
    lab[0, [1, 2, 3], [1, 2, 3]] = 1  # a diagonal line of 3 pixels
    assert RemoveSmallComponents(min_size=3, connectivity=2)(lab).sum() == 3  # 8-connected: one component
    assert RemoveSmallComponents(min_size=3, connectivity=1)(lab).sum() == 0  # 4-connected: three specks


def test_remove_small_components_independent_flag():
    lab = np.zeros((1, 16, 16), np.uint8)
    lab[0, 4, 2:6] = 1  # 4 artery pixels ...
    lab[0, 4, 6:10] = 2  # ... touching 4 catheter pixels
    assert RemoveSmallComponents(min_size=6)(lab).sum() == 0
    kept = RemoveSmallComponents(min_size=6, independent=False)(lab)
    np.testing.assert_array_equal(kept, lab)


def test_remove_small_components_onehot():
    lab = _label_map()[0]
    onehot = np.stack([lab == 0, lab == 1, lab == 2]).astype(np.float32)
    out = RemoveSmallComponentsd("pred", min_size=5)({"pred": MetaTensor(torch.from_numpy(onehot))})["pred"]
    assert isinstance(out, MetaTensor) and out.shape == (3, 32, 32)
    expected = RemoveSmallComponents(min_size=5)(lab[None])[0]
    np.testing.assert_array_equal(out.numpy().argmax(0), expected)
    np.testing.assert_array_equal(out.numpy().sum(0), 1.0)  # still one-hot: removed pixels went to background
