"""Tests for monai_angio.losses.pgdl_focal."""

import pytest
import torch
from monai.losses import FocalLoss

from monai_angio.losses import PenalizedGeneralizedDiceLoss, PGDLFocalLoss


def _batch():
    logits = torch.randn(2, 3, 16, 16)
    label = torch.randint(0, 3, (2, 1, 16, 16))
    return logits, label


def test_sum_of_monai_terms():
    logits, label = _batch()
    ours = PGDLFocalLoss(k=0.75, lambda_pgdl=0.7, lambda_focal=2.0)(logits, label)
    pgdl = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True)(logits, label)
    focal = FocalLoss(to_onehot_y=True, gamma=2.0, alpha=0.25, use_softmax=True)(logits, label)
    torch.testing.assert_close(ours, 0.7 * pgdl + 2.0 * focal)
    only_pgdl = PGDLFocalLoss(lambda_focal=0.0)(logits, label)
    torch.testing.assert_close(only_pgdl, pgdl)


def test_scalar_alpha_is_background_one_minus_alpha():
    # MONAI 1.6 softmax focal: scalar alpha -> class factors [1 - alpha, alpha, alpha]
    logits, label = _batch()
    scalar = PGDLFocalLoss(lambda_pgdl=0.0, alpha=0.25)(logits, label)
    explicit = PGDLFocalLoss(lambda_pgdl=0.0, alpha=[0.75, 0.25, 0.25])(logits, label)
    torch.testing.assert_close(scalar, explicit)
    # gamma=0, alpha=None: focal == mean over B*C*H*W of -onehot*log_softmax == CE / C
    ce = torch.nn.functional.cross_entropy(logits, label[:, 0])
    plain = PGDLFocalLoss(lambda_pgdl=0.0, alpha=None, gamma=0.0)(logits, label)
    torch.testing.assert_close(plain, ce / 3)


def test_perfect_prediction_near_zero_and_gradients():
    label = torch.zeros(1, 1, 16, 16, dtype=torch.long)
    label[..., 4:8, :] = 1
    label[..., 10:12, 3:9] = 2
    onehot = torch.nn.functional.one_hot(label[:, 0], 3).permute(0, 3, 1, 2).float()
    perfect = PGDLFocalLoss()((onehot * 2 - 1) * 30.0, label)
    assert perfect.item() < 1e-4
    logits = torch.randn(1, 3, 16, 16, requires_grad=True)
    loss = PGDLFocalLoss()(logits, label)
    loss.backward()
    assert loss.item() > perfect.item()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_catheter_absent_finite():
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    label = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    label[0, 0, 2:5, :] = 1  # no catheter anywhere, sample 1 empty
    loss = PGDLFocalLoss(include_background=False, alpha=[0.5, 0.5])(logits, label)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_sigmoid_mode_and_errors():
    logits = torch.randn(2, 1, 8, 8)
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    loss = PGDLFocalLoss(softmax=False, to_onehot_y=False)(logits, target)
    ref = PenalizedGeneralizedDiceLoss(sigmoid=True)(logits, target) + FocalLoss(alpha=0.25)(logits, target)
    torch.testing.assert_close(loss, ref)
    with pytest.raises(ValueError):
        PGDLFocalLoss(lambda_focal=-1.0)
    with pytest.raises(ValueError):
        PGDLFocalLoss(reduction="none")
    with pytest.raises(ValueError):
        PGDLFocalLoss()(torch.randn(1, 3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long))
