"""Tests of CE-Net and its DAC / RMP blocks."""

import pytest
import torch

from monai_angio.errors import AngioInputError
from monai_angio.networks import CENet, DACBlock, RMPBlock


def test_cenet_shapes_and_gradients():
    net = CENet(in_channels=3, out_channels=2).train()
    y = net(torch.rand(2, 3, 64, 64))
    assert y.shape == (2, 2, 64, 64)
    y.mean().backward()
    assert net.encoder.conv1.weight.grad.abs().sum() > 0
    assert net.dac.dilate5.weight.grad.abs().sum() > 0 and net.rmp.conv.weight.grad.abs().sum() > 0
    assert 28.5 < sum(p.numel() for p in net.parameters()) / 1e6 < 29.5  # paper: ~29 M
    with pytest.raises(ValueError, match="multiple of 32"):
        net(torch.rand(1, 3, 64, 40))


def test_dac_shared_weights_and_formula():
    dac = DACBlock(8)
    assert [m.dilation for m in (dac.dilate1, dac.dilate3, dac.dilate5)] == [(1, 1), (3, 3), (5, 5)]
    assert sum(p.numel() for p in dac.parameters()) == 3 * (8 * 8 * 9 + 8) + (8 * 8 + 8)  # 4 shared convs
    x = torch.randn(1, 8, 12, 12)
    r = torch.relu
    d1 = dac.dilate1(x)
    expected = (
        x + r(d1) + r(dac.conv1x1(dac.dilate3(x))) + r(dac.conv1x1(dac.dilate3(d1)))
        + r(dac.conv1x1(dac.dilate5(dac.dilate3(d1))))
    )
    torch.testing.assert_close(dac(x), expected)


def test_rmp_channels_and_small_maps():
    rmp = RMPBlock(16)
    assert rmp.out_channels == 20
    x = torch.randn(2, 16, 12, 12)
    y = rmp(x)
    assert y.shape == (2, 20, 12, 12)
    torch.testing.assert_close(y[:, :16], x)  # input passes through
    assert rmp(torch.randn(1, 16, 2, 2)).shape == (1, 20, 2, 2)  # kernels > map size fall back to global pooling


def test_cenet_pretrained_round_trip(tmp_path):
    src = CENet(in_channels=1, out_channels=1)
    path = tmp_path / "resnet34.pt"
    torch.save(src.encoder.state_dict(), path)
    dst = CENet(in_channels=1, out_channels=1, pretrained_path=path)
    torch.testing.assert_close(dst.encoder.layer4[0].conv1.weight, src.encoder.layer4[0].conv1.weight)
    with pytest.raises(AngioInputError, match="do not match"):
        CENet(in_channels=3, out_channels=1, pretrained_path=path)


def test_cenet_torchscript():
    net = CENet(in_channels=3, out_channels=1).eval()
    scripted = torch.jit.script(net)
    x = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(scripted(x), net(x))


def test_cenet_lighter_width_follows_filters_and_layers():
    net = CENet(in_channels=3, out_channels=2, layers=(2, 2, 2, 2), filters=(32, 64, 128, 256)).train()
    assert [len(getattr(net.encoder, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]
    assert net.dac.dilate1.in_channels == 256 and net.rmp.out_channels == 260
    assert net.final[0].out_channels == 16
    y = net(torch.rand(2, 3, 64, 64))
    assert y.shape == (2, 2, 64, 64)
    y.mean().backward()
    assert net.encoder.conv1.weight.grad.abs().sum() > 0
    assert 4.0 < sum(p.numel() for p in net.parameters()) / 1e6 < 5.5  # ~1/6 of the paper's 29 M
    with pytest.raises(ValueError, match="4 stages"):
        CENet(layers=(2, 2, 2))
