"""Segmentation and geometry metrics for angiography (numpy or torch masks), built on MONAI metrics.

- Overlap (:mod:`.overlap`): :func:`confusion_counts`, :func:`dice`, :func:`iou`, :func:`precision`,
  :func:`recall` (= :func:`sensitivity`), :func:`specificity`, :func:`f1`, :func:`overlap_metrics`,
  :func:`per_class_metrics`, :func:`generalized_dice_score`.
- Distances in mm (:mod:`.distance`): :func:`hausdorff_distance_mm`, :func:`average_surface_distance_mm`.
- Local (:mod:`.local`): :func:`local_f1` around a stenosis centre.
- Topology (:mod:`.components`): :func:`connected_component_count`, :func:`mask_separation_error`.
- Centrelines (:mod:`.topology`): :func:`cldice`, :func:`centerline_precision_sensitivity`, :func:`skeleton`,
  :func:`width_excess_px` (boundary calibration along the shared centreline).
- Cumulative metrics for bundles (:mod:`.cumulative`): :class:`PrecisionRecallF1Metric`,
  :class:`LocalF1Metric`, :class:`SurfaceDistanceMMMetric`.
"""

from .components import connected_component_count, mask_separation_error
from .cumulative import (
    DEFAULT_CENTER_KEY,
    DEFAULT_SPACING_KEYS,
    LocalF1Metric,
    PrecisionRecallF1Metric,
    SurfaceDistanceMMMetric,
)
from .distance import average_surface_distance_mm, hausdorff_distance_mm, normalize_spacing
from .local import local_f1, local_window
from .overlap import (
    ConfusionCounts,
    confusion_counts,
    default_class_names,
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
from .topology import centerline_precision_sensitivity, cldice, skeleton, width_excess_px

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
    "default_class_names",
    "generalized_dice_score",
    "hausdorff_distance_mm",
    "average_surface_distance_mm",
    "normalize_spacing",
    "local_f1",
    "local_window",
    "connected_component_count",
    "mask_separation_error",
    "cldice",
    "centerline_precision_sensitivity",
    "skeleton",
    "width_excess_px",
    "PrecisionRecallF1Metric",
    "LocalF1Metric",
    "SurfaceDistanceMMMetric",
    "DEFAULT_SPACING_KEYS",
    "DEFAULT_CENTER_KEY",
]
