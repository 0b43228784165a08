"""Tests for monai_angio.losses.hybrid (BCE + Dice, deep supervision)."""

import math

import pytest
import torch
from monai.losses import DiceCELoss, DiceLoss

from monai_angio.losses import DeepSupervisedHybridLoss, HybridBCEDiceLoss


def _mask(b=2, c=1, n=16):
    m = torch.zeros(b, c, n, n)
    m[..., 4:10, 3:12] = 1
    return m


def test_single_channel_equals_monai_dicece():
    logits = torch.randn(2, 1, 16, 16)
    target = _mask()
    ours = HybridBCEDiceLoss(lambda_bce=0.4, lambda_dice=1.5)(logits, target)
    ref = DiceCELoss(sigmoid=True, lambda_ce=0.4, lambda_dice=1.5)(logits, target)
    torch.testing.assert_close(ours, ref)


def test_analytic_zero_logits():
    # logits 0 -> p = 0.5: BCE = ln 2; Dice per sample = 1 - 2*0.5*|G| / (0.5*N + |G|)
    logits = torch.zeros(1, 1, 16, 16)
    target = _mask(b=1)
    g, n = target.sum().item(), target.numel()
    expected_dice = 1 - (2 * 0.5 * g + 1e-5) / (0.5 * n + g + 1e-5)
    assert HybridBCEDiceLoss(lambda_dice=0.0)(logits, target).item() == pytest.approx(math.log(2), rel=1e-6)
    assert HybridBCEDiceLoss(lambda_bce=0.0)(logits, target).item() == pytest.approx(expected_dice, rel=1e-5)


def test_multichannel_is_bce_not_softmax_ce():
    logits = torch.randn(2, 2, 16, 16)
    target = (torch.rand(2, 2, 16, 16) > 0.5).float()
    ours = HybridBCEDiceLoss()(logits, target)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, target) + DiceLoss(sigmoid=True)(logits, target)
    torch.testing.assert_close(ours, ref)


def test_probability_input_and_errors():
    probs = torch.rand(2, 1, 16, 16)
    target = _mask()
    ours = HybridBCEDiceLoss(sigmoid=False)(probs, target)
    ref = torch.nn.functional.binary_cross_entropy(probs, target) + DiceLoss()(probs, target)
    torch.testing.assert_close(ours, ref)
    with pytest.raises(ValueError):
        HybridBCEDiceLoss()(probs, target[:, :, :8])
    with pytest.raises(ValueError):
        HybridBCEDiceLoss(sigmoid=False, pos_weight=2.0)
    with pytest.raises(ValueError):
        HybridBCEDiceLoss(reduction="none")


def test_perfect_and_gradients():
    target = _mask()
    assert HybridBCEDiceLoss()((target * 2 - 1) * 30, target).item() < 1e-5
    logits = torch.randn(2, 1, 16, 16, requires_grad=True)
    HybridBCEDiceLoss()(logits, torch.zeros(2, 1, 16, 16)).backward()  # empty target
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_deep_supervision_weighted_sum_of_five_outputs():
    target = _mask()
    outs = [torch.randn(2, 1, 16, 16, requires_grad=True) for _ in range(5)]
    per = [HybridBCEDiceLoss()(o, target) for o in outs]
    exp = DeepSupervisedHybridLoss()(outs, target)
    torch.testing.assert_close(exp, sum(w * p for w, p in zip([1, 0.5, 0.25, 0.125, 0.0625], per)))
    same = DeepSupervisedHybridLoss(weight_mode="same")(outs, target)
    torch.testing.assert_close(same, sum(per))
    w = [0.4, 0.3, 0.2, 0.1, 0.0]
    custom = DeepSupervisedHybridLoss(weights=w)(tuple(outs), target)
    torch.testing.assert_close(custom, sum(a * p for a, p in zip(w, per)))
    custom.backward()
    assert all(o.grad is not None and torch.isfinite(o.grad).all() for o in outs)
    assert outs[3].grad.abs().sum() > 0 and outs[4].grad.abs().sum() == 0


def test_deep_supervision_single_tensor_and_lower_resolution():
    target = _mask()
    single = torch.randn(2, 1, 16, 16)
    torch.testing.assert_close(DeepSupervisedHybridLoss()(single, target), HybridBCEDiceLoss()(single, target))
    # integer target is accepted; a half-resolution output gets a nearest-downsampled target
    low = torch.randn(2, 1, 8, 8)
    val = DeepSupervisedHybridLoss(weight_mode="same")([single, low], target.long())
    down = torch.nn.functional.interpolate(target, size=(8, 8), mode="nearest-exact")
    torch.testing.assert_close(val, HybridBCEDiceLoss()(single, target) + HybridBCEDiceLoss()(low, down))


def test_deep_supervision_errors():
    target = _mask()
    outs = [torch.randn(2, 1, 16, 16) for _ in range(3)]
    with pytest.raises(ValueError):
        DeepSupervisedHybridLoss(weights=[1.0, 0.5])(outs, target)
    with pytest.raises(ValueError):
        DeepSupervisedHybridLoss(weight_mode="linear")
    with pytest.raises(ValueError):
        DeepSupervisedHybridLoss()([], target)
