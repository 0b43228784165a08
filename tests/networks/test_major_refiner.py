"""The major-artery refiner: its fixed layout, any grid size, gradients, and the scale channel it can see."""

import torch

from monai_angio.networks import MajorArteryRefiner
from monai_angio.networks.major_refiner import REFINER_CHANNELS, REFINER_FEATURES


def test_layout_any_grid_size_and_gradients():
    torch.manual_seed(0)
    net = MajorArteryRefiner()
    assert len(REFINER_CHANNELS) == 5 and net.conv_0.conv_0.conv.in_channels == 5
    assert 0.4e6 < sum(p.numel() for p in net.parameters()) < 0.6e6
    x = torch.randn(2, 5, 95, 256, requires_grad=True)  # a 170 x 460 frame on the refiner grid
    y = net(x)
    assert y.shape == (2, 1, 95, 256)
    y.mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)


def test_a_constant_scale_channel_changes_the_output():
    """Batch (not instance) normalisation: a channel constant over the frame still reaches the output."""
    torch.manual_seed(0)
    net = MajorArteryRefiner(features=REFINER_FEATURES).eval()
    x = torch.rand(1, 5, 64, 64)
    x2 = x.clone()
    x2[:, 4] += 1.0
    with torch.no_grad():
        assert (net(x) - net(x2)).abs().max() > 1e-3
