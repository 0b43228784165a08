"""Tests of the temporal fusion stem and wrapper."""

import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.networks import CENet, TemporalFusionStem, TemporalSegmenter, UNet3Plus, temporal_cenet


@pytest.mark.parametrize("n", [1, 2])
def test_stem_collapses_time(n):
    stem = TemporalFusionStem(2 * n + 1)
    assert stem.conv3d.kernel_size == (2 * n + 1, 3, 3) and stem.conv3d.padding == (0, 1, 1)
    y = stem(torch.rand(2, 1, 2 * n + 1, 16, 24))
    assert y.shape == (2, 3, 16, 24)


@pytest.mark.parametrize("n", [1, 2])
def test_temporal_cenet(n):
    net = temporal_cenet(num_neighbors=n, out_channels=2).eval()
    assert isinstance(net.net2d, CENet) and net.num_frames == 2 * n + 1
    with torch.inference_mode():
        y = net(torch.rand(1, 1, 2 * n + 1, 64, 64))
    assert y.shape == (1, 2, 64, 64)
    with pytest.raises(AngioInputError, match=f"T = {2 * n + 1}"):
        net(torch.rand(1, 1, 2 * n + 3, 64, 64))
    with pytest.raises(AngioInputError, match="B, C, T, H, W"):
        net(torch.rand(1, 2 * n + 1, 64, 64))


def test_wraps_deep_supervised_net_and_frames_matter():
    net = TemporalSegmenter(TemporalFusionStem(3), UNet3Plus.lite(in_channels=3, out_channels=1)).train()
    x = torch.rand(2, 1, 3, 32, 32, requires_grad=True)
    outs = net(x)
    assert isinstance(outs, list) and len(outs) == 5 and outs[0].shape == (2, 1, 32, 32)
    outs[0][:, :, 16, 16].sum().backward()
    # every frame (not only the centre one) influences the prediction
    assert all(x.grad[:, :, t].abs().sum() > 0 for t in range(3))
    assert net.stem.conv3d.weight.grad.abs().sum() > 0


def test_wrapper_is_scriptable():
    net = TemporalSegmenter(TemporalFusionStem(5, out_channels=4), torch.nn.Conv2d(4, 2, 1)).eval()
    scripted = torch.jit.script(net)
    x = torch.rand(1, 1, 5, 8, 8)
    torch.testing.assert_close(scripted(x), net(x))
    with pytest.raises(Exception, match="T = 5"):
        scripted(torch.rand(1, 1, 3, 8, 8))
