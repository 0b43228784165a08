"""U-Nets for major-vessel segmentation on MONAI ``FlexibleUNet`` with DenseNet-121 or ResNet-101 encoders."""

import os
from collections.abc import Sequence
from typing import Optional, Union

import torch

from monai.networks.nets import FlexibleUNet

from monai_angio.networks.checks import check_spatial_divisible
from monai_angio.networks.encoders import register_densenet_encoders
from monai_angio.networks.weights import load_local_state_dict

__all__ = ["MajorVesselUNet", "major_vessel_unet", "MAJOR_VESSEL_BACKBONES"]

MAJOR_VESSEL_BACKBONES = ("densenet121", "resnet101")


class MajorVesselUNet(FlexibleUNet):
    """U-Net with a DenseNet-121 or ResNet-101 encoder for segmenting the major coronary arteries.

    A MONAI ``FlexibleUNet`` (nearest up-sampling, BN-ReLU decoder, 3x3 head) whose encoder comes from the
    ``FLEXUNET_BACKBONE`` registry (``"densenet121"`` is registered by :mod:`monai_angio.networks.encoders`,
    ``"resnet101"`` is MONAI's). Nothing is downloaded; ``pretrained_path`` loads a local encoder state dict.

    Args:
        backbone: ``"densenet121"`` or ``"resnet101"``.
        in_channels: input channels.
        out_channels: output channels (2: background / major vessel).
        pretrained_path: optional local encoder state dict (or a full model state dict with ``encoder.`` keys).
        decoder_channels: 5 decoder widths, deepest first.
        spatial_dims: number of spatial dimensions.

    Input spatial sizes must be multiples of 32.
    """

    def __init__(
        self,
        backbone: str = "densenet121",
        in_channels: int = 1,
        out_channels: int = 2,
        pretrained_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        spatial_dims: int = 2,
    ) -> None:
        if backbone not in MAJOR_VESSEL_BACKBONES:
            raise ValueError(f"backbone must be one of {MAJOR_VESSEL_BACKBONES}, got {backbone!r}")
        register_densenet_encoders()
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            backbone=backbone,
            pretrained=False,
            decoder_channels=tuple(decoder_channels),
            spatial_dims=spatial_dims,
            is_pad=False,
        )
        if pretrained_path is not None:
            load_local_state_dict(
                self.encoder, pretrained_path, prefix="encoder.", ignore_prefixes=("class_layers.", "fc.")
            )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Segment ``inputs`` (``(B, in_channels, *spatial)``, sizes multiples of 32) into logits."""
        check_spatial_divisible(inputs, 32, self.spatial_dims, "MajorVesselUNet")
        features = self.encoder(inputs)
        return self.segmentation_head(self.decoder(features, self.skip_connect))


def major_vessel_unet(
    backbone: str = "densenet121",
    in_channels: int = 1,
    out_channels: int = 2,
    pretrained_path: Optional[Union[str, "os.PathLike[str]"]] = None,
    **kwargs,
) -> MajorVesselUNet:
    """Build a :class:`MajorVesselUNet` (convenience factory for bundle configs)."""
    return MajorVesselUNet(backbone, in_channels, out_channels, pretrained_path, **kwargs)
