"""Tests of the major-vessel U-Nets and the DenseNet encoder registration."""

import pytest
import torch
from monai.networks.nets import FlexibleUNet
from monai.networks.nets.flexible_unet import FLEXUNET_BACKBONE

from monai_angio.errors import AngioInputError
from monai_angio.networks import DenseNetEncoder, MajorVesselUNet, major_vessel_unet


def test_densenet_registered_with_feature_strides():
    entry = FLEXUNET_BACKBONE.register_dict["densenet121"]
    assert entry["type"] is DenseNetEncoder and entry["feature_channel"] == (64, 256, 512, 1024, 1024)
    enc = DenseNetEncoder("densenet121", spatial_dims=2, in_channels=1).eval()
    with torch.inference_mode():
        feats = enc(torch.rand(1, 1, 64, 64))
    assert [tuple(f.shape[1:]) for f in feats] == [
        (64, 32, 32), (256, 16, 16), (512, 8, 8), (1024, 4, 4), (1024, 2, 2)
    ]
    assert FLEXUNET_BACKBONE.register_dict["densenet169"]["feature_channel"] == (64, 256, 512, 1280, 1664)
    with pytest.raises(ValueError, match="never downloads"):
        DenseNetEncoder(pretrained=True)
    # plain MONAI FlexibleUNet can use the registered encoder too
    assert FlexibleUNet(1, 2, "densenet121", pretrained=False).eval()(torch.rand(1, 1, 32, 32)).shape == (1, 2, 32, 32)


@pytest.mark.parametrize("backbone", ["densenet121", "resnet101"])
def test_major_vessel_unet(backbone):
    net = major_vessel_unet(backbone, in_channels=1, out_channels=2).train()
    y = net(torch.rand(2, 1, 64, 64))
    assert y.shape == (2, 2, 64, 64)
    y.mean().backward()
    first = next(p for n, p in net.encoder.named_parameters() if "conv" in n)
    assert first.grad is not None and first.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="multiple of 32"):
        net(torch.rand(1, 1, 48, 64))


def test_major_vessel_pretrained_round_trip(tmp_path):
    src = MajorVesselUNet("densenet121")
    path = tmp_path / "full.pt"
    torch.save(src.state_dict(), path)
    dst = MajorVesselUNet("densenet121", pretrained_path=path)
    torch.testing.assert_close(dst.encoder.features.conv0.weight, src.encoder.features.conv0.weight)
    with pytest.raises(AngioInputError, match="do not match"):
        MajorVesselUNet("resnet101", pretrained_path=path)
    with pytest.raises(ValueError, match="backbone"):
        MajorVesselUNet("vgg16")
