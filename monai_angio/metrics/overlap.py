"""Overlap metrics of binary masks and label maps (Dice, IoU, precision, recall, specificity, F1).

All functions take numpy arrays or torch tensors of the same shape (``(H, W)``, ``(1, H, W)`` or any other
shape: counts are taken element-wise) holding 0/1 or booleans, and return Python floats. The counts come
from MONAI's :func:`monai.metrics.get_confusion_matrix` and the ratios from
:func:`monai.metrics.compute_confusion_matrix_metric`.

Empty masks (a zero denominator) are defined explicitly instead of MONAI's NaN:

* ``dice``, ``f1``, ``iou``, ``precision``, ``recall``/``sensitivity``: **1.0 when prediction and ground
  truth are both empty** (perfect agreement), **0.0 otherwise** (e.g. ``precision`` of an empty prediction
  against a non-empty ground truth, or ``recall`` of a non-empty prediction against an empty ground truth).
* ``specificity``: 1.0 when there are no negatives in the ground truth (then no false positive is possible).

Bad input (NaN, non-binary values, different shapes) raises :class:`~monai_angio.errors.AngioInputError`.
"""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Sequence

import numpy as np
import torch
from monai.metrics import compute_confusion_matrix_metric, compute_generalized_dice, get_confusion_matrix

from monai_angio.errors import AngioInputError

from ._masks import as_binary_mask, as_label_map

__all__ = [
    "ConfusionCounts",
    "confusion_counts",
    "dice",
    "iou",
    "precision",
    "recall",
    "sensitivity",
    "specificity",
    "f1",
    "overlap_metrics",
    "per_class_metrics",
    "generalized_dice_score",
    "default_class_names",
]

METRIC_NAMES = ("dice", "iou", "precision", "recall", "sensitivity", "specificity", "f1")


class ConfusionCounts(NamedTuple):
    """Pixel counts of a binary comparison."""

    tp: int
    fp: int
    tn: int
    fn: int


def _pair(pred: Any, gt: Any) -> tuple:
    p = as_binary_mask(pred, "pred", ndim=None)
    g = as_binary_mask(gt, "gt", ndim=None)
    if p.shape != g.shape:
        p, g = np.squeeze(p), np.squeeze(g)
        if p.shape != g.shape:
            raise AngioInputError(f"pred and gt shapes differ: {p.shape} vs {g.shape}")
    return p, g


def confusion_counts(pred: Any, gt: Any) -> ConfusionCounts:
    """Count true/false positives/negatives of a binary prediction.

    Args:
        pred: predicted binary mask (numpy or torch), e.g. ``(H, W)``.
        gt: ground-truth binary mask of the same shape.

    Returns:
        :class:`ConfusionCounts` ``(tp, fp, tn, fn)`` as ints.

    Raises:
        AngioInputError: NaN, non-binary values or different shapes.
    """
    p, g = _pair(pred, gt)
    # MONAI wants (B, C, ...) one-hot; float64 keeps the counts exact for any image size
    y_pred = torch.from_numpy(p.reshape(1, 1, -1).astype(np.float64))
    y = torch.from_numpy(g.reshape(1, 1, -1).astype(np.float64))
    tp, fp, tn, fn = get_confusion_matrix(y_pred, y)[0, 0].tolist()
    return ConfusionCounts(int(tp), int(fp), int(tn), int(fn))


def _ratio(counts: ConfusionCounts, monai_name: str, empty_value: float) -> float:
    cm = torch.tensor([list(counts)], dtype=torch.float64)
    value = float(compute_confusion_matrix_metric(monai_name, cm)[0])
    return empty_value if np.isnan(value) else value


def _both_empty(c: ConfusionCounts) -> float:
    return 1.0 if (c.tp + c.fp + c.fn) == 0 else 0.0


def _from_counts(c: ConfusionCounts) -> Dict[str, float]:
    both = _both_empty(c)
    rec = _ratio(c, "recall", both)
    d = _ratio(c, "f1", both)
    return {
        "dice": d,
        "iou": _ratio(c, "ts", both),
        "precision": _ratio(c, "precision", both),
        "recall": rec,
        "sensitivity": rec,
        "specificity": _ratio(c, "specificity", 1.0),
        "f1": d,
    }


def dice(pred: Any, gt: Any) -> float:
    """Dice similarity coefficient ``2 TP / (2 TP + FP + FN)``; 1.0 if both masks are empty."""
    c = confusion_counts(pred, gt)
    return _ratio(c, "f1", _both_empty(c))


def f1(pred: Any, gt: Any) -> float:
    """F1 score; for binary masks identical to :func:`dice` (1.0 if both masks are empty)."""
    return dice(pred, gt)


def iou(pred: Any, gt: Any) -> float:
    """Intersection over union (Jaccard) ``TP / (TP + FP + FN)``; 1.0 if both masks are empty."""
    c = confusion_counts(pred, gt)
    return _ratio(c, "ts", _both_empty(c))


def precision(pred: Any, gt: Any) -> float:
    """Precision ``TP / (TP + FP)``; 1.0 if both masks are empty, 0.0 if only the prediction is empty."""
    c = confusion_counts(pred, gt)
    return _ratio(c, "precision", _both_empty(c))


def recall(pred: Any, gt: Any) -> float:
    """Recall (sensitivity) ``TP / (TP + FN)``; 1.0 if both masks are empty, 0.0 if only gt is empty."""
    c = confusion_counts(pred, gt)
    return _ratio(c, "recall", _both_empty(c))


sensitivity = recall


def specificity(pred: Any, gt: Any) -> float:
    """Specificity ``TN / (TN + FP)``; 1.0 if the ground truth has no negative pixel."""
    return _ratio(confusion_counts(pred, gt), "specificity", 1.0)


def overlap_metrics(pred: Any, gt: Any) -> Dict[str, float]:
    """All overlap metrics of one binary pair at once.

    Returns:
        ``{"dice", "iou", "precision", "recall", "sensitivity", "specificity", "f1"}`` -> float,
        plus the counts ``"tp", "fp", "tn", "fn"`` (as floats).
    """
    c = confusion_counts(pred, gt)
    out = _from_counts(c)
    out.update({k: float(v) for k, v in c._asdict().items()})
    return out


def default_class_names(num_classes: int) -> list:
    """Class names used by :func:`per_class_metrics` when none are given.

    ``3 -> ["background", "artery", "catheter"]`` (the labels of ``monai_angio.data.LABELS``),
    ``2 -> ["background", "vessel"]``, otherwise ``["class_0", "class_1", ...]``.
    """
    if num_classes == 3:
        return ["background", "artery", "catheter"]
    if num_classes == 2:
        return ["background", "vessel"]
    return [f"class_{i}" for i in range(num_classes)]


def per_class_metrics(
    pred_labels: Any, true_labels: Any, num_classes: int, class_names: Optional[Sequence[str]] = None
) -> Dict[str, Dict[str, float]]:
    """One-vs-rest overlap metrics of every class of two label maps.

    Args:
        pred_labels: predicted label map (integers ``0..num_classes-1``), numpy or torch, e.g. ``(H, W)``.
        true_labels: ground-truth label map of the same shape.
        num_classes: number of classes (3 for background/artery/catheter).
        class_names: names used as keys; defaults to :func:`default_class_names`.

    Returns:
        ``{class_name: {"dice", "iou", "precision", "recall", "sensitivity", "specificity", "f1", "tp", "fp",
        "tn", "fn"}}``. Empty classes follow the module's empty-mask rules.

    Raises:
        AngioInputError: labels out of range, non-integer values, NaN or different shapes.
    """
    if num_classes < 1:
        raise AngioInputError(f"num_classes must be >= 1, got {num_classes}")
    names = list(class_names) if class_names is not None else default_class_names(num_classes)
    if len(names) != num_classes:
        raise AngioInputError(f"got {len(names)} class names for {num_classes} classes")
    p = as_label_map(pred_labels, "pred_labels", num_classes)
    g = as_label_map(true_labels, "true_labels", num_classes)
    if p.shape != g.shape:
        p, g = np.squeeze(p), np.squeeze(g)
        if p.shape != g.shape:
            raise AngioInputError(f"pred_labels and true_labels shapes differ: {p.shape} vs {g.shape}")
    return {name: overlap_metrics(p == c, g == c) for c, name in enumerate(names)}


def generalized_dice_score(
    pred_onehot: Any, true_onehot: Any, include_background: bool = True, weight_type: str = "square"
) -> float:
    """Generalized Dice score (Sudre et al. 2017) with MONAI ``GeneralizedDiceScore`` semantics.

    ``GDS = 2 sum_c w_c |P_c & G_c| / sum_c w_c (|P_c| + |G_c|)`` with ``w_c = 1 / |G_c|^2`` (``"square"``);
    classes absent from the ground truth get the largest weight of the sample; a sample whose prediction and
    ground truth are both empty scores 1. Computed per sample by
    :func:`monai.metrics.compute_generalized_dice` and averaged over the batch.

    Args:
        pred_onehot: binary one-hot prediction ``(C, H, W)`` or ``(B, C, H, W)``.
        true_onehot: binary one-hot ground truth of the same shape.
        include_background: keep channel 0.
        weight_type: ``"square"``, ``"simple"`` or ``"uniform"``.

    Returns:
        The batch-mean score in ``[0, 1]``.

    Raises:
        AngioInputError: NaN/non-binary values, fewer than 3 dimensions or different shapes.
    """
    p = as_binary_mask(pred_onehot, "pred_onehot", ndim=None)
    g = as_binary_mask(true_onehot, "true_onehot", ndim=None)
    if p.shape != g.shape:
        raise AngioInputError(f"pred_onehot and true_onehot shapes differ: {p.shape} vs {g.shape}")
    if p.ndim < 3:
        raise AngioInputError(f"one-hot input must be (C, H, W) or (B, C, H, W), got shape {p.shape}")
    if p.ndim == 3:
        p, g = p[None], g[None]
    score = compute_generalized_dice(
        torch.from_numpy(p.astype(np.float64)),
        torch.from_numpy(g.astype(np.float64)),
        include_background=include_background,
        weight_type=weight_type,
        sum_over_classes=True,
    )
    return float(score.mean())
