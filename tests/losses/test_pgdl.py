"""Tests for monai_angio.losses.pgdl (penalized generalized Dice loss)."""

import pytest
import torch
from monai.losses import GeneralizedDiceLoss

from monai_angio.losses import PenalizedGeneralizedDiceLoss, penalize_gdl


def _probs(p0, p1):
    """(1, 2, 2, 2) probabilities from two flat lists of 4 values."""
    return torch.tensor([p0, p1], dtype=torch.float32).view(1, 2, 2, 2)


# target: class 0 on 3 pixels, class 1 on the last pixel (one-hot)
TARGET = _probs([1, 1, 1, 0], [0, 0, 0, 1])


def test_gdl_by_hand_and_penalty():
    pred = _probs([1, 1, 0.5, 0], [0, 0, 0.5, 1])
    # class 0: tp=2.5, sum p=2.5, sum g=3, w=1/9 ; class 1: tp=1, sum p=1.5, sum g=1, w=1
    # GDL = 1 - 2*(2.5/9 + 1) / ((2.5+3)/9 + (1.5+1)*1) = 1 - 23/28 = 5/28
    gdl_hand = 5.0 / 28.0
    gdl0 = PenalizedGeneralizedDiceLoss(k=0.0)(pred, TARGET)
    assert gdl0.item() == pytest.approx(gdl_hand, abs=1e-5)
    for k in (0.5, 0.75, 2.0):
        val = PenalizedGeneralizedDiceLoss(k=k)(pred, TARGET).item()
        assert val == pytest.approx(gdl_hand / (1 + k * (1 - gdl_hand)), abs=1e-5)
    assert PenalizedGeneralizedDiceLoss(k=0.75)(pred, TARGET).item() == pytest.approx(5 / 45.25, abs=1e-5)


def test_all_classes_counted_not_only_last():
    # last class perfect, first class entirely missed: a last-class-only loss would give 0
    pred = _probs([0, 0, 0, 0], [0, 0, 0, 1])
    # class 0: tp=0, sum p + sum g = 3, w=1/9 ; class 1: tp=1, sum p + sum g = 2, w=1 -> GDL = 1 - 2/(1/3+2) = 1/7
    loss = PenalizedGeneralizedDiceLoss(k=0.0)(pred, TARGET).item()
    assert loss == pytest.approx(1.0 / 7.0, abs=1e-5)
    # pGDL = (1/7) / (1 + 0.75 * 6/7) = 1 / 11.5
    assert PenalizedGeneralizedDiceLoss(k=0.75)(pred, TARGET).item() == pytest.approx(1 / 11.5, abs=1e-5)
    # swapping which class is wrong is penalised too
    pred2 = _probs([1, 1, 1, 0], [0, 0, 0, 0])
    assert PenalizedGeneralizedDiceLoss(k=0.75)(pred2, TARGET).item() > 0.3


def test_perfect_prediction_is_zero_and_k_monotone():
    assert PenalizedGeneralizedDiceLoss(k=0.75)(TARGET.clone(), TARGET).item() == pytest.approx(0.0, abs=1e-6)
    pred = _probs([0.9, 0.6, 0.3, 0.2], [0.1, 0.4, 0.7, 0.8])
    vals = [PenalizedGeneralizedDiceLoss(k=k)(pred, TARGET).item() for k in (0.0, 0.25, 0.75, 1.5, 4.0)]
    assert all(a > b for a, b in zip(vals, vals[1:]))
    # a completely wrong prediction stays at 1 whatever k
    wrong = _probs([0, 0, 0, 1], [1, 1, 1, 0])
    for k in (0.0, 0.75, 3.0):
        assert PenalizedGeneralizedDiceLoss(k=k)(wrong, TARGET).item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(to_onehot_y=True, softmax=True),
        dict(to_onehot_y=True, softmax=True, include_background=False),
        dict(to_onehot_y=True, softmax=True, batch=True),
        dict(to_onehot_y=True, softmax=True, w_type="simple", reduction="sum"),
        dict(to_onehot_y=True, softmax=True, reduction="none"),
    ],
)
def test_k0_equals_monai_gdl(kwargs):
    logits = torch.randn(3, 3, 16, 16)
    label = torch.randint(0, 3, (3, 1, 16, 16))
    ours = PenalizedGeneralizedDiceLoss(k=0.0, **kwargs)(logits, label)
    ref = GeneralizedDiceLoss(**kwargs)(logits, label)
    assert ours.shape == ref.shape
    assert torch.equal(ours, ref)


def test_penalty_applied_per_sample_before_reduction():
    logits = torch.randn(2, 3, 16, 16) * 3
    label = torch.randint(0, 3, (2, 1, 16, 16))
    label[1] = 0  # make the two samples very different
    gdl = GeneralizedDiceLoss(to_onehot_y=True, softmax=True, reduction="none")(logits, label)
    none = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True, reduction="none")(logits, label)
    assert none.shape == (2, 1, 1, 1)
    torch.testing.assert_close(none, gdl / (1 + 0.75 * (1 - gdl)))
    mean = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True)(logits, label)
    total = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True, reduction="sum")(logits, label)
    torch.testing.assert_close(mean, none.mean())
    torch.testing.assert_close(total, none.sum())


@pytest.mark.parametrize("include_background", [True, False])
def test_finite_with_absent_class_and_empty_target(include_background):
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    label = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    label[0, 0, 4:8, 4:8] = 1  # class 2 absent everywhere, sample 1 background only
    loss_fn = PenalizedGeneralizedDiceLoss(
        k=0.75, to_onehot_y=True, softmax=True, include_background=include_background
    )
    loss = loss_fn(logits, label)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    # class absent from both prediction and target (one-hot probabilities without activation)
    probs = torch.zeros(1, 3, 8, 8)
    probs[:, 0] = 1.0
    onehot = probs.clone()
    val = PenalizedGeneralizedDiceLoss(k=0.75, include_background=include_background)(probs, onehot)
    assert torch.isfinite(val) and val.item() == pytest.approx(0.0, abs=1e-5)


def test_binary_empty_target_finite_gradients():
    logits = torch.randn(2, 1, 16, 16, requires_grad=True)
    target = torch.zeros(2, 1, 16, 16)
    loss = PenalizedGeneralizedDiceLoss(k=0.75, sigmoid=True)(logits, target)
    loss.backward()
    # documented MONAI GDL property: a single channel whose target is empty gets weight 0 -> loss 0
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    # with a background channel, false positives on an empty image are penalised
    logits2 = torch.randn(2, 2, 16, 16, requires_grad=True)
    label = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    loss2 = PenalizedGeneralizedDiceLoss(k=0.75, softmax=True, to_onehot_y=True)(logits2, label)
    loss2.backward()
    assert loss2.item() > 0.05
    assert torch.isfinite(logits2.grad).all() and logits2.grad.abs().sum() > 0


def test_gradient_decreases_loss():
    label = torch.randint(0, 3, (1, 1, 16, 16))
    logits = torch.zeros(1, 3, 16, 16, requires_grad=True)
    loss_fn = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True)
    opt = torch.optim.SGD([logits], lr=50.0)
    first = loss_fn(logits, label)
    for _ in range(20):
        opt.zero_grad()
        loss = loss_fn(logits, label)
        loss.backward()
        opt.step()
    assert loss_fn(logits, label).item() < 0.5 * first.item()


def test_invalid_arguments():
    with pytest.raises(ValueError):
        PenalizedGeneralizedDiceLoss(k=-1.0)
    with pytest.raises(ValueError):
        PenalizedGeneralizedDiceLoss(reduction="median")
    assert torch.equal(penalize_gdl(torch.tensor([0.0, 1.0]), 0.75), torch.tensor([0.0, 1.0]))
