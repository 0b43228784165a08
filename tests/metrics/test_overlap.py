"""Tests for monai_angio.metrics.overlap."""

import numpy as np
import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.metrics import (
    ConfusionCounts,
    confusion_counts,
    dice,
    f1,
    generalized_dice_score,
    iou,
    overlap_metrics,
    per_class_metrics,
    precision,
    recall,
    sensitivity,
    specificity,
)


def _square(r, c, n=10, size=32):
    m = np.zeros((size, size), dtype=np.uint8)
    m[r : r + n, c : c + n] = 1
    return m


# 10x10 square vs the same square shifted 3 columns: TP = 10*7 = 70, FP = FN = 30, TN = 1024 - 130 = 894
A = _square(5, 5)
B = _square(5, 8)


def test_counts_and_values_by_hand():
    assert confusion_counts(B, A) == ConfusionCounts(tp=70, fp=30, tn=894, fn=30)
    assert dice(B, A) == pytest.approx(140 / 200)
    assert f1(B, A) == pytest.approx(0.7)
    assert iou(B, A) == pytest.approx(70 / 130)
    assert precision(B, A) == pytest.approx(0.7)
    assert recall(B, A) == pytest.approx(0.7) == sensitivity(B, A)
    assert specificity(B, A) == pytest.approx(894 / 924)


def test_asymmetric_precision_recall_and_torch_input():
    small = _square(5, 5, n=5)  # 25 px inside A (100 px)
    assert precision(torch.from_numpy(small), torch.from_numpy(A)) == pytest.approx(1.0)
    assert recall(small, A) == pytest.approx(0.25)
    assert dice(small.astype(bool), A.astype(np.float32)) == pytest.approx(50 / 125)
    # (1, H, W) vs (H, W) is accepted
    assert iou(small[None], A) == pytest.approx(0.25)


def test_empty_mask_conventions():
    empty = np.zeros((8, 8))
    full = np.ones((8, 8))
    some = _square(1, 1, n=3, size=8)
    for fn in (dice, f1, iou, precision, recall):
        assert fn(empty, empty) == 1.0
    assert specificity(empty, empty) == 1.0
    assert precision(empty, some) == 0.0 and recall(empty, some) == 0.0 and dice(empty, some) == 0.0
    assert recall(some, empty) == 0.0 and precision(some, empty) == 0.0
    assert specificity(full, full) == 1.0  # no negatives in gt


def test_overlap_metrics_dict():
    m = overlap_metrics(B, A)
    assert set(m) >= {"dice", "iou", "precision", "recall", "sensitivity", "specificity", "f1", "tp", "fp", "tn", "fn"}
    assert m["tp"] == 70 and m["dice"] == pytest.approx(0.7)


def test_bad_input():
    with pytest.raises(AngioInputError, match="shapes differ"):
        dice(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(AngioInputError, match="NaN"):
        dice(np.full((4, 4), np.nan), np.zeros((4, 4)))
    with pytest.raises(AngioInputError, match="not binary"):
        dice(np.full((4, 4), 0.5), np.zeros((4, 4)))


def test_per_class_metrics_three_labels():
    gt = np.zeros((16, 16), dtype=np.uint8)
    gt[2:6, 2:12] = 1  # artery, 40 px
    gt[10:12, 0:16] = 2  # catheter, 32 px
    pred = gt.copy()
    pred[2:6, 10:12] = 0  # miss 8 artery px (become background)
    pred[12, 0:16] = 2  # 16 extra catheter px
    res = per_class_metrics(torch.from_numpy(pred), gt, num_classes=3)
    assert list(res) == ["background", "artery", "catheter"]
    art, cat = res["artery"], res["catheter"]
    assert art["precision"] == 1.0 and art["recall"] == pytest.approx(32 / 40)
    assert art["dice"] == pytest.approx(64 / 72)
    assert cat["recall"] == 1.0 and cat["precision"] == pytest.approx(32 / 48)
    assert cat["iou"] == pytest.approx(32 / 48)
    # background: gt 256-72=184 px; 16 of them predicted catheter (FN), 8 artery px predicted background (FP)
    bg = res["background"]
    assert bg["tp"] == 168 and bg["fn"] == 16 and bg["fp"] == 8
    named = per_class_metrics(pred, gt, 3, class_names=["bg", "a", "c"])
    assert named["a"]["f1"] == pytest.approx(art["f1"])
    with pytest.raises(AngioInputError):
        per_class_metrics(pred, gt, num_classes=2)
    with pytest.raises(AngioInputError):
        per_class_metrics(pred, gt, 3, class_names=["x"])


def test_generalized_dice_score_by_hand():
    # 2 classes on 4 pixels: g0 = [1,1,1,0], g1 = [0,0,0,1]; p0 = [1,1,0,0], p1 = [0,0,1,1]
    g = np.array([[1, 1, 1, 0], [0, 0, 0, 1]]).reshape(2, 2, 2)
    p = np.array([[1, 1, 0, 0], [0, 0, 1, 1]]).reshape(2, 2, 2)
    # w0 = 1/9, w1 = 1: GDS = 2 (2/9 + 1) / ((2+3)/9 + (2+1)) = (22/9) / (32/9) = 22/32
    assert generalized_dice_score(p, g) == pytest.approx(22 / 32)
    assert generalized_dice_score(torch.from_numpy(g), torch.from_numpy(g)) == pytest.approx(1.0)
    batch = np.stack([p, g])
    assert generalized_dice_score(batch, np.stack([g, g])) == pytest.approx((22 / 32 + 1) / 2)
    # channel 1 only: plain Dice of class 1 = 2*1 / (2+1)
    assert generalized_dice_score(p, g, include_background=False) == pytest.approx(2 / 3)
    with pytest.raises(AngioInputError):
        generalized_dice_score(p[0], g[0])
