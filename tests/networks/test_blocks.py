"""Tests of the scSE block and the Efficient-UNet++ decoder block."""

import torch

from monai_angio.networks import InvertedResidualDecoderBlock, SCSEBlock


def test_scse_matches_formula_with_random_weights():
    blk = SCSEBlock(8, reduction=4).eval()
    x = torch.randn(2, 8, 5, 6)
    conv1, conv2 = blk.cse[1], blk.cse[3]
    pooled = x.mean(dim=(2, 3))
    hidden = torch.relu(pooled @ conv1.weight.view(2, 8).T + conv1.bias)
    cse = torch.sigmoid(hidden @ conv2.weight.view(8, 2).T + conv2.bias)[:, :, None, None]
    sse = torch.sigmoid(torch.einsum("bchw,c->bhw", x, blk.sse[0].weight.view(8)) + blk.sse[0].bias)[:, None]
    torch.testing.assert_close(blk(x), x * cse + x * sse)


def test_scse_hand_set_gates():
    blk = SCSEBlock(4, reduction=16, spatial_dims=2)
    assert blk.cse[1].out_channels == 1  # at least one hidden channel
    x = torch.randn(1, 4, 3, 3)
    with torch.no_grad():
        for m in (blk.cse[3], blk.sse[0]):
            m.weight.zero_()
            m.bias.zero_()
    torch.testing.assert_close(blk(x), x)  # 0.5 + 0.5
    with torch.no_grad():
        blk.cse[3].bias.fill_(-50.0)  # channel gate closed
        blk.sse[0].bias.fill_(50.0)  # spatial gate open
    torch.testing.assert_close(blk(x), x, atol=1e-6, rtol=0)
    with torch.no_grad():
        blk.sse[0].bias.fill_(-50.0)
    assert blk(x).abs().max() < 1e-6


def test_scse_3d_and_gates_bounded():
    blk = SCSEBlock(6, reduction=2, spatial_dims=3)
    x = torch.rand(1, 6, 4, 4, 4) + 0.1
    y = blk(x)
    assert y.shape == x.shape
    assert torch.all(y > 0) and torch.all(y < 2 * x)  # gates in (0, 1) each


def test_decoder_block_residual_paths():
    same = InvertedResidualDecoderBlock(8, 8)
    assert isinstance(same.shortcut, torch.nn.Identity)
    proj = InvertedResidualDecoderBlock(12, 8)
    assert isinstance(proj.shortcut[0], torch.nn.Conv2d) and proj.shortcut[0].kernel_size == (1, 1)
    dw = proj.body[3]
    assert dw.groups == dw.in_channels == 8 and dw.kernel_size == (3, 3)
    assert any(isinstance(m, torch.nn.Hardswish) for m in proj.body)
    assert any(isinstance(m, SCSEBlock) for m in proj.body)
    y = proj(torch.randn(2, 12, 8, 8))
    assert y.shape == (2, 8, 8, 8)
    # zero last BN gamma/beta -> block is exactly its shortcut
    with torch.no_grad():
        same.body[-1].weight.zero_()
        same.body[-1].bias.zero_()
    x = torch.randn(2, 8, 6, 6)
    torch.testing.assert_close(same(x), x)
