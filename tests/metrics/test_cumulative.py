"""Tests for monai_angio.metrics.cumulative (MONAI cumulative metrics, ignite handler use)."""

import math

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor
from monai.handlers import IgniteMetricHandler, from_engine

from monai_angio.errors import AngioInputError
from monai_angio.metrics import (
    LocalF1Metric,
    PrecisionRecallF1Metric,
    SurfaceDistanceMMMetric,
    f1,
    hausdorff_distance_mm,
    local_f1,
    precision,
)


def _square(r, c, n=10, size=32):
    m = torch.zeros(size, size)
    m[r : r + n, c : c + n] = 1
    return m


def _onehot(fg):
    """(H, W) foreground -> (2, H, W) one-hot."""
    return torch.stack([1 - fg, fg])


def test_precision_recall_f1_pooled_and_per_sample():
    gt = torch.stack([_onehot(_square(5, 5)), _onehot(_square(5, 5, n=4))])
    pred = torch.stack([_onehot(_square(5, 8)), _onehot(_square(5, 5, n=2))])
    # pooled counts over the two images (foreground channel): TP 70+4, FP 30+0, FN 30+12
    metric = PrecisionRecallF1Metric("f1", include_background=False)
    metric(pred, gt)
    assert metric.aggregate().item() == pytest.approx(2 * 74 / (2 * 74 + 30 + 42))
    prec = PrecisionRecallF1Metric("precision", include_background=False, compute_sample=True)
    prec(pred, gt)
    expected = np.mean([precision(pred[i, 1], gt[i, 1]) for i in range(2)])
    assert prec.aggregate().item() == pytest.approx(expected)
    with pytest.raises(ValueError):
        PrecisionRecallF1Metric("auc")


def test_local_f1_metric_center_sources():
    gt_fg = torch.zeros(64, 64)
    gt_fg[30:34, :] = 1
    pred_fg = gt_fg.clone()
    pred_fg[30:34, 0:20] = 0
    pred, gt = _onehot(pred_fg)[None], _onehot(gt_fg)[None]
    m = LocalF1Metric(box=16)
    m(pred, gt, center_rc=(32, 20))
    assert m.aggregate().item() == pytest.approx(local_f1(pred_fg, gt_fg, (32, 20), 16))
    # centre from the label metadata (decollated list of (C, H, W) MetaTensors, as from_engine gives)
    m.reset()
    label = MetaTensor(gt[0], meta={"stenosis_center_rc": np.array([32, 4])})
    m([pred[0]], [label])
    assert m.aggregate().item() == 0.0
    # no centre anywhere -> image centre (32, 32) where prediction is perfect
    m.reset()
    m(pred, gt)
    assert m.aggregate().item() == 1.0
    # batched centres (B, 2)
    m.reset()
    m(torch.cat([pred, pred]), torch.cat([gt, gt]), center_rc=torch.tensor([[32, 48], [32, 20]]))
    assert m.aggregate(reduction="none")[:, 0].tolist() == pytest.approx([1.0, 64 / 96])


def test_surface_distance_mm_metric_spacing_sources():
    a, b = _square(5, 5), _square(5, 8)
    pred, gt = _onehot(b)[None], _onehot(a)[None]
    fixed = SurfaceDistanceMMMetric(spacing=0.5)
    fixed(pred, gt)
    assert fixed.aggregate().item() == pytest.approx(1.5)
    from_meta = SurfaceDistanceMMMetric()
    label = MetaTensor(gt[0], meta={"pixel_spacing": [0.5, 2.0]})
    from_meta([pred[0]], [label])
    assert from_meta.aggregate().item() == pytest.approx(hausdorff_distance_mm(b, a, (0.5, 2.0))) == pytest.approx(6.0)
    asd = SurfaceDistanceMMMetric(metric="average", spacing=(0.5, 0.5))
    asd(pred, gt)
    assert asd.aggregate().item() == pytest.approx(0.75)
    # call argument, per sample, and affine pixdim fallback
    per = SurfaceDistanceMMMetric()
    per(torch.cat([pred, pred]), torch.cat([gt, gt]), spacing=[[1.0, 1.0], [0.5, 0.5]])
    assert per.aggregate(reduction="none")[:, 0].tolist() == pytest.approx([3.0, 1.5])
    affine = torch.diag(torch.tensor([0.25, 0.25, 1.0, 1.0], dtype=torch.float64))
    pix = SurfaceDistanceMMMetric()
    pix([pred[0]], [MetaTensor(gt[0], affine=affine)])
    assert pix.aggregate().item() == pytest.approx(0.75)


def test_surface_distance_mm_metric_empty_and_errors():
    e = torch.zeros(16, 16)
    s = _square(2, 2, n=4, size=16)
    m = SurfaceDistanceMMMetric(spacing=1.0)
    m(torch.stack([_onehot(e), _onehot(s)]), torch.stack([_onehot(e), _onehot(s)]))
    vals = m.aggregate(reduction="none")[:, 0]
    assert math.isnan(vals[0]) and vals[1] == 0.0
    assert m.aggregate().item() == 0.0  # NaN skipped by the mean
    m(_onehot(s)[None], _onehot(e)[None])
    assert math.isinf(m.aggregate().item())
    with pytest.raises(ValueError):
        SurfaceDistanceMMMetric(metric="volume")
    with pytest.raises(AngioInputError):
        SurfaceDistanceMMMetric()(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 9))


def test_ignite_handler_integration():
    gt_fg = torch.zeros(64, 64)
    gt_fg[30:34, :] = 1
    pred_fg = gt_fg.clone()
    pred_fg[30:34, 0:20] = 0
    items = []
    for pred, center in ((pred_fg, [32, 20]), (gt_fg, [32, 4])):
        meta = {"stenosis_center_rc": np.array(center), "pixel_spacing": [0.5, 0.5]}
        items.append({"pred": _onehot(pred), "label": MetaTensor(_onehot(gt_fg), meta=meta)})
    engine = Engine(lambda eng, batch: batch)
    to_pair = from_engine(["pred", "label"])
    IgniteMetricHandler(LocalF1Metric(box=16), output_transform=to_pair).attach(engine, "local_f1")
    IgniteMetricHandler(SurfaceDistanceMMMetric(), output_transform=to_pair).attach(engine, "hd_mm")
    f1_metric = PrecisionRecallF1Metric("f1", include_background=False)
    IgniteMetricHandler(f1_metric, output_transform=to_pair).attach(engine, "f1")
    state = engine.run([[items[0]], [items[1]]], max_epochs=1)
    assert state.metrics["local_f1"] == pytest.approx((64 / 96 + 1.0) / 2)
    assert state.metrics["hd_mm"] == pytest.approx((hausdorff_distance_mm(pred_fg, gt_fg, 0.5) + 0.0) / 2)
    assert state.metrics["f1"] == pytest.approx(f1(torch.cat([pred_fg, gt_fg]), torch.cat([gt_fg, gt_fg])))


@pytest.mark.parametrize("as_array", [True, False])
def test_collated_batch_metadata(as_array):
    from monai.data import list_data_collate

    gt_fg = torch.zeros(64, 64)
    gt_fg[30:34, :] = 1
    pred_fg = gt_fg.clone()
    pred_fg[30:34, 0:20] = 0
    centers = [[32, 20], [32, 48], [32, 4]]
    items = []
    for c in centers:
        meta = {"stenosis_center_rc": np.array(c) if as_array else list(c), "pixel_spacing": [0.5, 0.25]}
        items.append({"pred": _onehot(pred_fg), "label": MetaTensor(_onehot(gt_fg), meta=meta)})
    batch = list_data_collate(items)  # lists collate to [tensor(B), tensor(B)], arrays to (B, 2)
    m = LocalF1Metric(box=16)
    m(batch["pred"], batch["label"])
    assert m.aggregate(reduction="none")[:, 0].tolist() == pytest.approx([64 / 96, 1.0, 0.0])
    s = SurfaceDistanceMMMetric()
    s(batch["pred"], batch["label"])
    assert s.aggregate().item() == pytest.approx(hausdorff_distance_mm(pred_fg, gt_fg, (0.5, 0.25)))
