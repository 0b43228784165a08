"""Tests of EfficientUNetPlusPlus: shapes for every backbone, gradients, freezing, local weights, FLOP budget."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from monai_angio.errors import AngioInputError
from monai_angio.networks import EfficientUNetPlusPlus

# Published facts at 1x3x512x512 (literature "GFLOPs", i.e. multiply-accumulates): the authors' EfficientUNet++-B0
# needs 25.9 G in total, segmentation_models_pytorch's UnetPlusPlus-B0 44.1 G. We read them, strictly, as
# FlopCounterMode FLOPs (2 per MAC), subtract the (measured) EfficientNet-B0 encoder, and require our decoder + head
# to fit the authors' decoder budget, which is itself below smp's.
AUTHORS_TOTAL_GFLOPS = 25.9
SMP_UNETPP_B0_TOTAL_GFLOPS = 44.1


@pytest.mark.parametrize("idx", range(8))
def test_shapes_all_backbones(idx):
    torch.manual_seed(idx)
    net = EfficientUNetPlusPlus(in_channels=1, out_channels=3, backbone=f"efficientnet-b{idx}").eval()
    with torch.inference_mode():
        y = net(torch.rand(1, 1, 64, 64))
    assert y.shape == (1, 3, 64, 64) and torch.isfinite(y).all()


def test_rectangular_and_bad_sizes():
    net = EfficientUNetPlusPlus(in_channels=1, out_channels=2, decoder_channels=(64, 32, 24, 16, 8)).eval()
    with torch.inference_mode():
        assert net(torch.rand(2, 1, 32, 96)).shape == (2, 2, 32, 96)
        with pytest.raises(ValueError, match="multiple of 32"):
            net(torch.rand(1, 1, 48, 64))
    with pytest.raises(ValueError, match="backbone"):
        EfficientUNetPlusPlus(backbone="resnet34")


def test_gradients_reach_encoder_and_decoder():
    net = EfficientUNetPlusPlus(in_channels=1, out_channels=3).train()
    net(torch.rand(2, 1, 64, 64)).sum().backward()
    assert net.encoder._conv_stem.weight.grad is not None and net.encoder._conv_stem.weight.grad.abs().sum() > 0
    for name, p in net.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
    assert sum(p.numel() for p in net.parameters()) < 6.13e6  # lighter than the published 6.13 M


def test_freeze_encoder():
    net = EfficientUNetPlusPlus(in_channels=1, out_channels=3, freeze_encoder=True)
    net.train()
    assert not net.encoder.training and net.decoder.training
    stats = net.encoder._bn0.running_mean.clone()
    net(torch.rand(2, 1, 64, 64)).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in net.encoder.parameters())
    assert all(p.grad is not None for p in net.decoder.parameters())
    torch.testing.assert_close(net.encoder._bn0.running_mean, stats)  # BN statistics untouched


def test_pretrained_path_round_trip(tmp_path):
    src = EfficientUNetPlusPlus(in_channels=1, out_channels=3)
    path = tmp_path / "enc.pt"
    torch.save(src.encoder.state_dict(), path)
    dst = EfficientUNetPlusPlus(in_channels=1, out_channels=3, pretrained_path=path)
    for k, v in src.encoder.state_dict().items():
        torch.testing.assert_close(dst.encoder.state_dict()[k], v)
    full = tmp_path / "full.pt"
    torch.save({"state_dict": src.state_dict()}, full)  # whole-model checkpoint with "encoder." keys
    dst2 = EfficientUNetPlusPlus(in_channels=1, out_channels=3, pretrained_path=full)
    torch.testing.assert_close(dst2.encoder._conv_stem.weight, src.encoder._conv_stem.weight)
    with pytest.raises(AngioInputError, match="not found"):
        EfficientUNetPlusPlus(pretrained_path=tmp_path / "missing.pt")
    with pytest.raises(AngioInputError, match="shape mismatches|missing keys"):
        EfficientUNetPlusPlus(in_channels=1, backbone="efficientnet-b1", pretrained_path=path)


def test_decoder_flops_below_published_budgets():
    with torch.device("meta"):
        net = EfficientUNetPlusPlus(in_channels=3, out_channels=3).eval()
        x = torch.empty(1, 3, 512, 512)
        with FlopCounterMode(display=False) as enc_fc:
            feats = net.encoder(x)
        with FlopCounterMode(display=False) as dec_fc:
            net.segmentation_head(net.decoder(feats))
    enc_gflops = enc_fc.get_total_flops() / 1e9
    dec_gflops = dec_fc.get_total_flops() / 1e9
    assert 2.0 < enc_gflops < 6.0  # EfficientNet-B0 at 512^2: ~1.9 GMACs
    assert dec_gflops < AUTHORS_TOTAL_GFLOPS - enc_gflops < SMP_UNETPP_B0_TOTAL_GFLOPS - enc_gflops
    assert dec_gflops < 8.0  # measured 5.94 GFLOPs (2.97 GMACs)


def test_torchscript():
    net = EfficientUNetPlusPlus(in_channels=1, out_channels=3, decoder_channels=(32, 24, 16, 16, 8)).eval()
    scripted = torch.jit.script(net)
    x = torch.rand(1, 1, 64, 64)
    with torch.inference_mode():
        torch.testing.assert_close(scripted(x), net(x))


def test_split_class_channel_keeps_the_merged_probabilities() -> None:
    """A 3-class network's artery channel split into two (major artery + branch): the 4-class network's summed
    artery probability and every other class's probability equal the 3-class network's."""
    from monai_angio.networks import split_class_channel

    torch.manual_seed(0)
    three = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=3, backbone="efficientnet-b0").eval()
    four = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=4, backbone="efficientnet-b0").eval()
    state = split_class_channel(three.state_dict(), "segmentation_head.0.weight", "segmentation_head.0.bias", 1)
    four.load_state_dict(state)
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        p3, p4 = three(x).softmax(1), four(x).softmax(1)
    assert torch.allclose(p4[:, 1] + p4[:, 3], p3[:, 1], atol=1e-6)
    assert torch.allclose(p4[:, [0, 2]], p3[:, [0, 2]], atol=1e-6)
    assert torch.allclose(p4[:, 1], p4[:, 3], atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        split_class_channel(three.state_dict(), "segmentation_head.0.weight", "segmentation_head.0.bias", 3)
