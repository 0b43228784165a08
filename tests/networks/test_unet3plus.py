"""Tests of UNet 3+."""

import pytest
import torch
from monai.losses import DeepSupervisionLoss, DiceLoss

from monai_angio.networks import UNet3Plus, gate_logits


def test_lite_train_returns_five_side_outputs():
    net = UNet3Plus.lite(in_channels=1, out_channels=2).train()
    assert net.encoders[0].conv_0.conv.out_channels == 16
    outs = net(torch.rand(2, 1, 64, 48))
    assert isinstance(outs, list) and len(outs) == 5
    assert all(o.shape == (2, 2, 64, 48) for o in outs)
    loss = DeepSupervisionLoss(DiceLoss(sigmoid=True))(outs, torch.randint(0, 2, (2, 2, 64, 48)).float())
    loss.backward()
    assert net.heads[4].weight.grad is not None and net.heads[4].weight.grad.abs().sum() > 0  # bottleneck head
    assert net.encoders[0].conv_0.conv.weight.grad.abs().sum() > 0


def test_eval_and_no_deep_supervision_return_tensor():
    net = UNet3Plus.lite(in_channels=1, out_channels=1).eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.inference_mode():
        y = net(x)
    assert isinstance(y, torch.Tensor) and y.shape == (1, 1, 32, 32)
    net2 = UNet3Plus.lite(deep_supervision=False).train()
    assert isinstance(net2(x), torch.Tensor)
    # eval output equals the first (full resolution) side output
    net.train()
    net.apply(lambda m: m.eval() if isinstance(m, torch.nn.BatchNorm2d) else None)
    torch.testing.assert_close(net(x)[0], y)


def test_full_width_structure():
    net = UNet3Plus()
    assert [e.conv_1.conv.out_channels for e in net.encoders] == [64, 128, 256, 512, 1024]
    assert net.fusions[0].conv.in_channels == 320 and net.fusions[0].conv.out_channels == 320
    assert abs(sum(p.numel() for p in net.parameters()) / 1e6 - 26.97) < 0.1  # paper: 26.97 M


def test_cgm_gates_probabilities():
    net = UNet3Plus.lite(cgm=True).eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        gated = net(x)
        presence = torch.sigmoid(net.last_presence_logits).view(2, 1, 1, 1)
        net.cgm = False
        plain = net(x)
    torch.testing.assert_close(torch.sigmoid(gated), torch.sigmoid(plain) * presence, atol=1e-5, rtol=1e-4)
    # a closed gate suppresses everything
    z = torch.randn(3, 1, 4, 4)
    assert torch.sigmoid(gate_logits(z, torch.tensor(-30.0))).max() < 1e-10
    torch.testing.assert_close(gate_logits(z, torch.tensor(0.0)), z, atol=1e-4, rtol=1e-4)


def test_bad_size_and_script():
    net = UNet3Plus.lite().eval()
    with pytest.raises(ValueError, match="multiple of 16"):
        net(torch.rand(1, 1, 40, 32))
    scripted = torch.jit.script(net)
    x = torch.rand(1, 1, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(scripted(x), net(x))
