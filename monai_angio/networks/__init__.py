"""Segmentation networks for X-ray coronary angiography, built on MONAI.

- :class:`EfficientUNetPlusPlus`: EfficientNet-B0..B7 encoder + light UNet++ decoder (artery/catheter).
- :class:`ArterySplitNetwork`: a 3-class network + a context head splitting its artery class into major artery and
  branch (the flagship's clinical class apart from the branches real experts also draw).
- :class:`UNet3Plus`: UNet 3+ with full-scale deep supervision and optional CGM (vessel).
- :class:`TemporalFusionStem`, :class:`TemporalSegmenter`, :func:`temporal_cenet`: 2N+1-frame fusion.
- :class:`CENet`: CE-Net (ResNet-34, DAC, RMP).
- :class:`MajorVesselUNet`, :func:`major_vessel_unet`: FlexibleUNet with DenseNet-121 / ResNet-101 encoders.
- :class:`MajorArteryRefiner`: a small BasicUNet that refines the flagship's geometric major-artery map.

Importing this package registers the DenseNet encoders in ``monai.networks.nets.flexible_unet.FLEXUNET_BACKBONE``.
"""

import os
from typing import Optional, Sequence, Union

from monai_angio.networks.artery_split import ArterySplitNetwork, SplitContextHead
from monai_angio.networks.blocks import InvertedResidualDecoderBlock, SCSEBlock
from monai_angio.networks.cenet import CENet, CENetDecoderBlock, DACBlock, ResNet34Features, RMPBlock
from monai_angio.networks.efficientunetpp import EfficientUNetPlusPlus, UNetPlusPlusDecoder
from monai_angio.networks.encoders import DenseNetEncoder, register_densenet_encoders
from monai_angio.networks.major_refiner import MajorArteryRefiner
from monai_angio.networks.major_vessel import MAJOR_VESSEL_BACKBONES, MajorVesselUNet, major_vessel_unet
from monai_angio.networks.temporal import TemporalFusionStem, TemporalSegmenter
from monai_angio.networks.unet3plus import UNet3Plus, gate_logits
from monai_angio.networks.weights import load_local_state_dict, split_class_channel

__all__ = [
    "SCSEBlock",
    "InvertedResidualDecoderBlock",
    "UNetPlusPlusDecoder",
    "EfficientUNetPlusPlus",
    "ArterySplitNetwork",
    "SplitContextHead",
    "UNet3Plus",
    "gate_logits",
    "TemporalFusionStem",
    "TemporalSegmenter",
    "CENet",
    "DACBlock",
    "RMPBlock",
    "CENetDecoderBlock",
    "ResNet34Features",
    "temporal_cenet",
    "DenseNetEncoder",
    "register_densenet_encoders",
    "MajorVesselUNet",
    "major_vessel_unet",
    "MAJOR_VESSEL_BACKBONES",
    "MajorArteryRefiner",
    "load_local_state_dict",
    "split_class_channel",
]


def temporal_cenet(
    num_neighbors: int = 1,
    out_channels: int = 2,
    in_channels: int = 1,
    mid_channels: int = 16,
    pretrained_path: Optional[Union[str, "os.PathLike[str]"]] = None,
    layers: Sequence[int] = (3, 4, 6, 3),
    filters: Sequence[int] = (64, 128, 256, 512),
) -> TemporalSegmenter:
    """Temporal CE-Net: ``TemporalSegmenter(TemporalFusionStem(2N+1, in_channels, 3), CENet(3, out_channels))``.

    Args:
        num_neighbors: ``N``, frames on each side of the centre frame.
        out_channels: output channels of CE-Net (logits).
        in_channels: channels per frame.
        mid_channels: channels of the stem's 3D convolution.
        pretrained_path: optional local ResNet-34 encoder state dict for CE-Net.
        layers: CE-Net encoder blocks per stage (default ResNet-34; the shipped bundle uses the lighter
            ``(2, 2, 2, 2)``).
        filters: CE-Net encoder channels per stage (default the paper's; the shipped bundle ``(32, 64, 128, 256)``).

    Returns:
        A network mapping ``(B, in_channels, 2N+1, H, W)`` to ``(B, out_channels, H, W)``.
    """
    if num_neighbors < 0:
        raise ValueError(f"num_neighbors must be >= 0, got {num_neighbors}")
    stem = TemporalFusionStem(2 * num_neighbors + 1, in_channels=in_channels, out_channels=3, mid_channels=mid_channels)
    net2d = CENet(
        spatial_dims=2,
        in_channels=3,
        out_channels=out_channels,
        pretrained_path=pretrained_path,
        layers=layers,
        filters=filters,
    )
    return TemporalSegmenter(stem, net2d)
