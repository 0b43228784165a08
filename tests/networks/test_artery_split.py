"""The major-artery / branch head on a 3-class network (:mod:`monai_angio.networks.artery_split`)."""

from __future__ import annotations

import pytest
import torch

from monai_angio.networks import ArterySplitNetwork, EfficientUNetPlusPlus


def _base() -> EfficientUNetPlusPlus:
    torch.manual_seed(0)
    return EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=3, backbone="efficientnet-b0")


def test_merging_the_two_artery_classes_gives_the_base_network_back() -> None:
    base = _base().eval()
    net = ArterySplitNetwork(base).eval()
    x = torch.rand(2, 1, 64, 96)
    with torch.no_grad():
        p3 = base(x).softmax(1)
        y = net(x)
    assert y.shape == (2, 4, 64, 96)
    p4 = y.softmax(1)  # the output is log-probabilities: a softmax returns them unchanged
    assert torch.allclose(p4, y.exp(), atol=1e-6)
    assert torch.allclose(p4[:, 1] + p4[:, 3], p3[:, 1], atol=1e-5)
    assert torch.allclose(p4[:, [0, 2]], p3[:, [0, 2]], atol=1e-5)
    split = p4[:, 1] / p3[:, 1]  # the head's sigmoid, the same for every pixel's artery probability
    assert float(split.min()) > 0.0 and float(split.max()) < 1.0


def test_frozen_base_neither_learns_nor_updates_its_statistics() -> None:
    base = _base()
    net = ArterySplitNetwork(base, freeze_base=True).train()
    assert not base.training and net.head.training
    stats = {k: v.clone() for k, v in base.state_dict().items()}
    out = net(torch.rand(2, 1, 64, 64))
    out[:, 1].mean().backward()
    assert all(p.grad is None for p in base.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.head.parameters())
    assert all(torch.equal(stats[k], v) for k, v in base.state_dict().items())


def test_refusals() -> None:
    with pytest.raises(TypeError, match="features"):
        ArterySplitNetwork(torch.nn.Conv2d(1, 3, 3))
    four = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=4, backbone="efficientnet-b0")
    with pytest.raises(ValueError, match="3-class base"):
        ArterySplitNetwork(four).eval()(torch.rand(1, 1, 64, 64))
