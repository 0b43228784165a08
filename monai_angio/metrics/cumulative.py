"""MONAI ``Cumulative`` metrics for bundles (usable through ``monai.handlers.IgniteMetricHandler``).

``IgniteMetricHandler.update`` calls ``metric(y_pred, y)`` with nothing else, so anything per image (the
pixel spacing, the stenosis centre) has to travel in the ``MetaTensor.meta`` of ``y`` (or ``y_pred``).
All classes take binarized one-hot ``(B, C, H, W)`` batches, or lists of ``(C, H, W)`` tensors (the
decollated ``from_engine(["pred", "label"])`` output of MONAI evaluators), like MONAI's metrics.

* :class:`PrecisionRecallF1Metric` -- a thin alias of MONAI's :class:`~monai.metrics.ConfusionMatrixMetric`
  restricted to one metric name (``"f1"``, ``"precision"``, ``"recall"``, ...), returning a tensor from
  ``aggregate``. By default (``compute_sample=False``) the counts are summed over the whole evaluation
  set before the ratio (a global, pixel-level F1); ``compute_sample=True`` averages per-image values.
  Empty images give NaN there (MONAI), which the reduction skips.
* :class:`LocalF1Metric` -- F1 in a ``box x box`` window around the stenosis centre.
* :class:`SurfaceDistanceMMMetric` -- Hausdorff (HD, HD95) or average surface distance in mm.
  MONAI's ``HausdorffDistanceMetric`` accepts ``spacing=`` only as a call argument, which the ignite
  handler never passes; this class reads it from the metadata instead.

Per-class Dice needs no new code: use MONAI's ``DiceMetric`` / ``MeanDice`` handler with
``include_background=False, reduction="mean_batch"`` (one value per class; ``engine.state.metric_details``
holds per-image/per-class values, and ``monai.handlers.MetricsSaver(metric_details=["*"])`` writes them
as CSV), or one ``MeanDice`` per class with an ``output_transform`` that selects the channel.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from monai.data import MetaTensor
from monai.metrics import (
    ConfusionMatrixMetric,
    CumulativeIterationMetric,
    compute_average_surface_distance,
    compute_hausdorff_distance,
)
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction

from monai_angio.errors import AngioInputError

from .distance import normalize_spacing
from .local import local_window

__all__ = [
    "PrecisionRecallF1Metric",
    "LocalF1Metric",
    "SurfaceDistanceMMMetric",
    "DEFAULT_SPACING_KEYS",
    "DEFAULT_CENTER_KEY",
]

#: Metadata keys searched (in this order) for the pixel spacing ``[row_mm, col_mm]``.
DEFAULT_SPACING_KEYS: Tuple[str, ...] = ("isocenter_spacing_mm", "pixel_spacing", "imager_pixel_spacing")
#: Metadata key of the stenosis centre ``[row, col]`` (pixels) used by :class:`LocalF1Metric`.
DEFAULT_CENTER_KEY = "stenosis_center_rc"

_PRF_ALIASES = {
    "f1": "f1",
    "f1_score": "f1",
    "dice": "f1",
    "precision": "precision",
    "ppv": "precision",
    "recall": "recall",
    "sensitivity": "recall",
    "tpr": "recall",
    "specificity": "specificity",
    "tnr": "specificity",
    "iou": "threat_score",
    "jaccard": "threat_score",
}


class PrecisionRecallF1Metric(ConfusionMatrixMetric):
    """One confusion-matrix metric (F1, precision, recall, ...) as a MONAI cumulative metric.

    Args:
        metric_name: ``"f1"`` (= Dice for binary masks), ``"precision"``, ``"recall"``/``"sensitivity"``,
            ``"specificity"`` or ``"iou"``.
        include_background: keep channel 0 (keep True for a single sigmoid channel).
        compute_sample: per-image values averaged (True) or counts pooled over the data set (False).
        reduction: MONAI reduction over batch/channels.
        get_not_nans: also return the number of non-NaN values.
        ignore_index: label index to ignore (MONAI).

    Raises:
        ValueError: unknown ``metric_name``.
    """

    def __init__(
        self,
        metric_name: str = "f1",
        include_background: bool = True,
        compute_sample: bool = False,
        reduction: Union[MetricReduction, str] = MetricReduction.MEAN,
        get_not_nans: bool = False,
        ignore_index: Optional[int] = None,
    ) -> None:
        key = metric_name.lower().replace(" ", "_")
        if key not in _PRF_ALIASES:
            raise ValueError(f"metric_name must be one of {sorted(_PRF_ALIASES)}, got {metric_name!r}.")
        super().__init__(
            include_background=include_background,
            metric_name=_PRF_ALIASES[key],
            compute_sample=compute_sample,
            reduction=reduction,
            get_not_nans=get_not_nans,
            ignore_index=ignore_index,
        )

    def aggregate(  # type: ignore[override]
        self, compute_sample: bool = False, reduction: Union[MetricReduction, str, None] = None
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Aggregate the buffered confusion matrices; returns the metric tensor (and not-NaN counts)."""
        return super().aggregate(compute_sample=compute_sample, reduction=reduction)[0]


def _meta_value(tensors: Sequence[Any], keys: Sequence[str]) -> Any:
    for t in tensors:
        if isinstance(t, MetaTensor):
            for k in keys:
                if k in t.meta and t.meta[k] is not None:
                    return t.meta[k]
    return None


def _per_sample_pairs(value: Any, batch_size: int, what: str) -> np.ndarray:
    """Turn a (possibly collated) ``[a, b]`` value into a ``(B, 2)`` float array."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (torch.Tensor, np.ndarray)) and np.ndim(v) == 1 for v in value
    ):
        # default_collate of a per-sample [a, b] list gives [tensor(B), tensor(B)]
        value = np.stack([np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v) for v in value], -1)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=float)
    if arr.size == 1 and what == "spacing":
        arr = np.repeat(arr.ravel(), 2)
    if arr.shape == (2,):
        return np.tile(arr, (batch_size, 1))
    if arr.shape == (batch_size, 2):
        return arr
    raise AngioInputError(f"{what} must be [a, b] or one [a, b] per sample, got shape {arr.shape}")


def _check_batch(y_pred: torch.Tensor, y: torch.Tensor, name: str) -> None:
    if y_pred.ndim != 4 or y_pred.shape != y.shape:
        raise AngioInputError(
            f"{name} needs binarized one-hot y_pred and y of the same shape (B, C, H, W), "
            f"got {tuple(y_pred.shape)} and {tuple(y.shape)}"
        )


class _PerCaseMetric(CumulativeIterationMetric):
    """A cumulative metric whose buffer holds one ``(N, C)`` value per case and channel.

    Subclasses set ``self.reduction`` and ``self.get_not_nans`` and implement ``_compute_tensor``.
    """

    reduction: Union[MetricReduction, str]
    get_not_nans: bool

    def aggregate(  # type: ignore[override]
        self, reduction: Union[MetricReduction, str, None] = None
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Reduce the buffered ``(N, C)`` values (NaN-aware MONAI reduction)."""
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ValueError("the data to aggregate must be a PyTorch Tensor.")
        f, not_nans = do_metric_reduction(data, reduction or self.reduction)
        return (f, not_nans) if self.get_not_nans else f


class LocalF1Metric(_PerCaseMetric):
    """F1 inside a ``box x box`` window around the stenosis centre (see :func:`~monai_angio.metrics.local_f1`).

    The centre ``(row, col)`` in pixels is taken, in this order, from the ``center_rc`` call argument
    (``(2,)`` or ``(B, 2)``), from ``y.meta[center_key]`` or ``y_pred.meta[center_key]`` (store it as an
    array ``[row, col]`` in the label's metadata, e.g. with a ``Lambdad``, so that it survives the ignite
    handler), and otherwise **the image centre** ``(H // 2, W // 2)`` is used. Windows are clipped at the
    borders. Inside a window where prediction and ground truth are both empty the F1 is 1.0 (as
    :func:`~monai_angio.metrics.f1`).

    Args:
        box: window side in pixels.
        center_key: metadata key of the centre.
        include_background: keep channel 0 (automatically kept for single-channel input).
        reduction: MONAI reduction of the ``(B, C)`` buffer.
        get_not_nans: also return the number of non-NaN values.
    """

    def __init__(
        self,
        box: int = 128,
        center_key: str = DEFAULT_CENTER_KEY,
        include_background: bool = False,
        reduction: Union[MetricReduction, str] = MetricReduction.MEAN,
        get_not_nans: bool = False,
    ) -> None:
        super().__init__()
        if int(box) != box or box < 1:
            raise ValueError(f"box must be a positive integer, got {box}.")
        self.box = int(box)
        self.center_key = center_key
        self.include_background = include_background
        self.reduction = reduction
        self.get_not_nans = get_not_nans

    def _compute_tensor(  # type: ignore[override]
        self, y_pred: torch.Tensor, y: torch.Tensor, center_rc: Optional[Any] = None
    ) -> torch.Tensor:
        _check_batch(y_pred, y, "LocalF1Metric")
        b, c, h, w = y_pred.shape
        if center_rc is None:
            center_rc = _meta_value((y, y_pred), (self.center_key,))
        if center_rc is None:
            centers = np.tile([h // 2, w // 2], (b, 1))
        else:
            centers = _per_sample_pairs(center_rc, b, "center_rc")
        channels = list(range(c)) if (self.include_background or c == 1) else list(range(1, c))
        p_all, g_all = y_pred.detach().float().cpu(), y.detach().float().cpu()
        out = torch.empty(b, len(channels), dtype=torch.float32)
        for i in range(b):
            rows, cols = local_window((h, w), centers[i], self.box)
            for j, ch in enumerate(channels):
                p, g = p_all[i, ch, rows, cols] > 0.5, g_all[i, ch, rows, cols] > 0.5
                tp = float((p & g).sum())
                denom = 2 * tp + float((p & ~g).sum()) + float((~p & g).sum())
                out[i, j] = 1.0 if denom == 0 else 2 * tp / denom
        return out.to(y_pred.device)



class SurfaceDistanceMMMetric(_PerCaseMetric):
    """Hausdorff / average surface distance in millimetres, spacing from metadata.

    The spacing ``[row_mm, col_mm]`` of each image is taken, in this order, from the ``spacing`` call
    argument, the ``spacing`` given at construction, the first of ``spacing_keys`` found in
    ``y.meta`` / ``y_pred.meta``, the ``MetaTensor`` affine (``pixdim``), and otherwise 1.0 (pixels).
    Empty masks follow MONAI: both empty -> NaN (skipped by the reduction), one empty -> inf.

    Args:
        metric: ``"hausdorff"`` or ``"average"`` (average surface distance).
        percentile: e.g. 95 for HD95 (Hausdorff only).
        symmetric: symmetric ASD (pooled both directions); ``"average"`` only.
        directed: directed Hausdorff (pred -> gt); ``"hausdorff"`` only.
        spacing: fixed spacing (scalar or ``(row_mm, col_mm)``) overriding the metadata.
        spacing_keys: metadata keys to search for the spacing.
        include_background: keep channel 0 (automatically kept for single-channel input).
        reduction: MONAI reduction of the ``(B, C)`` buffer.
        get_not_nans: also return the number of non-NaN values.
    """

    def __init__(
        self,
        metric: str = "hausdorff",
        percentile: Optional[float] = None,
        symmetric: bool = True,
        directed: bool = False,
        spacing: Optional[Union[float, Sequence[float]]] = None,
        spacing_keys: Sequence[str] = DEFAULT_SPACING_KEYS,
        include_background: bool = False,
        reduction: Union[MetricReduction, str] = MetricReduction.MEAN,
        get_not_nans: bool = False,
    ) -> None:
        super().__init__()
        if metric not in ("hausdorff", "average"):
            raise ValueError(f"metric must be 'hausdorff' or 'average', got {metric!r}.")
        if percentile is not None and not 0 <= percentile <= 100:
            raise ValueError(f"percentile must be in [0, 100], got {percentile}.")
        self.metric = metric
        self.percentile = percentile
        self.symmetric = symmetric
        self.directed = directed
        self.spacing = None if spacing is None else normalize_spacing(spacing, 2)
        self.spacing_keys = tuple(spacing_keys)
        self.include_background = include_background
        self.reduction = reduction
        self.get_not_nans = get_not_nans

    def _spacings(self, y_pred: torch.Tensor, y: torch.Tensor, spacing: Optional[Any]) -> list:
        b = y_pred.shape[0]
        value = spacing if spacing is not None else self.spacing
        if value is None:
            value = _meta_value((y, y_pred), self.spacing_keys)
        if value is None:
            for t in (y, y_pred):
                if isinstance(t, MetaTensor):
                    pix = t.pixdim
                    if isinstance(pix, list):
                        value = np.stack([np.asarray(q, dtype=float).ravel()[:2] for q in pix])
                    else:
                        value = np.asarray(pix, dtype=float).ravel()[:2]
                    break
        if value is None:
            value = (1.0, 1.0)
        pairs = _per_sample_pairs(value, b, "spacing")
        return [normalize_spacing(p, 2) for p in pairs]

    def _compute_tensor(  # type: ignore[override]
        self, y_pred: torch.Tensor, y: torch.Tensor, spacing: Optional[Any] = None
    ) -> torch.Tensor:
        _check_batch(y_pred, y, "SurfaceDistanceMMMetric")
        spacings = self._spacings(y_pred, y, spacing)
        keep_bg = self.include_background or y_pred.shape[1] == 1
        p = torch.as_tensor(y_pred.detach()).float()
        g = torch.as_tensor(y.detach()).float()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.metric == "hausdorff":
                return compute_hausdorff_distance(
                    p,
                    g,
                    include_background=keep_bg,
                    percentile=self.percentile,
                    directed=self.directed,
                    spacing=spacings,
                )
            return compute_average_surface_distance(
                p, g, include_background=keep_bg, symmetric=self.symmetric, spacing=spacings
            )

