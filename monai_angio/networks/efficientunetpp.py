"""Efficient-UNet++: a MONAI EfficientNet encoder with a light UNet++ nested dense decoder."""


import os
from collections.abc import Sequence
from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from monai.networks.nets.flexible_unet import FLEXUNET_BACKBONE, SegmentationHead

from monai_angio.networks.blocks import InvertedResidualDecoderBlock
from monai_angio.networks.checks import check_spatial_divisible
from monai_angio.networks.weights import load_local_state_dict

__all__ = ["EfficientUNetPlusPlus", "UNetPlusPlusDecoder", "build_registered_encoder", "EFFICIENTNET_UNUSED_HEAD"]

#: EfficientNet sub-modules that a feature encoder never runs (replaced by ``nn.Identity``; ignored when loading).
EFFICIENTNET_UNUSED_HEAD = ("_conv_head", "_bn1", "_fc")


def build_registered_encoder(backbone: str, spatial_dims: int, in_channels: int) -> tuple[nn.Module, tuple[int, ...]]:
    """Build an encoder registered in MONAI's ``FLEXUNET_BACKBONE``, never downloading weights.

    Args:
        backbone: a key of ``FLEXUNET_BACKBONE.register_dict`` (e.g. ``"efficientnet-b0"``, ``"resnet34"``).
        spatial_dims: number of spatial dimensions.
        in_channels: number of input channels.

    Returns:
        The encoder (returning a list of feature maps at strides 2, 4, 8, 16, 32) and its channel counts.
    """
    if backbone not in FLEXUNET_BACKBONE.register_dict:
        raise ValueError(f"unknown backbone {backbone!r}; registered: {sorted(FLEXUNET_BACKBONE.register_dict)}")
    entry = FLEXUNET_BACKBONE.register_dict[backbone]
    params = dict(entry["parameter"])  # copy: never mutate the shared registry entry
    params.update({"spatial_dims": spatial_dims, "in_channels": in_channels, "pretrained": False})
    return entry["type"](**params), tuple(entry["feature_channel"])


class UNetPlusPlusDecoder(nn.Module):
    """UNet++ nested dense decoder made of :class:`InvertedResidualDecoderBlock` s.

    With encoder features ``X(l, 0)`` at strides ``2**(l+1)`` (``l = 0..4``), node
    ``X(l, j) = block(cat[X(l, 0), ..., X(l, j-1), up(X(l+1, j-1))])`` for ``j >= 1, l + j <= 4``, and a final
    node ``X(-1, 5) = block(up(X(0, 4)))`` at full resolution; ``up`` is nearest-neighbour x2.
    Nodes on the main path (``l + j = 4``, and the final one) have ``decoder_channels[4 - l - 1]`` channels,
    the inner nested nodes keep the encoder width of their level (as in UNet++ implementations).

    Args:
        encoder_channels: channels of the 5 encoder features (strides 2..32).
        decoder_channels: 5 decoder widths, deepest first.
        spatial_dims: number of spatial dimensions.
        reduction: scSE reduction ratio.
    """

    skips: List[List[int]]
    ups: List[int]

    def __init__(
        self,
        encoder_channels: Sequence[int],
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        spatial_dims: int = 2,
        reduction: int = 16,
    ) -> None:
        super().__init__()
        if len(encoder_channels) != 5 or len(decoder_channels) != 5:
            raise ValueError(
                "need 5 encoder and 5 decoder channel counts, got "
                f"{tuple(encoder_channels)} and {tuple(decoder_channels)}"
            )
        depth = 4
        index: dict[tuple[int, int], int] = {(lvl, 0): lvl for lvl in range(5)}
        channels: list[int] = list(encoder_channels)
        skips: list[list[int]] = []
        ups: list[int] = []
        blocks = []
        for j in range(1, depth + 1):
            for lvl in range(depth - j, -1, -1):
                skip_idx = [index[(lvl, k)] for k in range(j)]
                up_idx = index[(lvl + 1, j - 1)]
                out_ch = decoder_channels[depth - 1 - lvl] if lvl + j == depth else encoder_channels[lvl]
                in_ch = sum(channels[i] for i in skip_idx) + channels[up_idx]
                blocks.append(InvertedResidualDecoderBlock(in_ch, out_ch, spatial_dims, reduction=reduction))
                skips.append(skip_idx)
                ups.append(up_idx)
                index[(lvl, j)] = len(channels)
                channels.append(out_ch)
        # final full-resolution node without skip
        blocks.append(
            InvertedResidualDecoderBlock(
                channels[index[(0, depth)]], decoder_channels[-1], spatial_dims, reduction=reduction
            )
        )
        skips.append([])
        ups.append(index[(0, depth)])
        self.blocks = nn.ModuleList(blocks)
        self.skips = skips
        self.ups = ups
        self.out_channels = int(decoder_channels[-1])

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Decode the 5 encoder features (shallow first) into a full-resolution map."""
        nodes: list[torch.Tensor] = list(features)
        k = 0
        for block in self.blocks:
            up = F.interpolate(nodes[self.ups[k]], scale_factor=2.0, mode="nearest")
            inputs: list[torch.Tensor] = [nodes[i] for i in self.skips[k]]
            inputs.append(up)
            nodes.append(block(torch.cat(inputs, dim=1)))
            k += 1
        return nodes[-1]


class EfficientUNetPlusPlus(nn.Module):
    """Efficient-UNet++ for artery/catheter segmentation in X-ray angiography.

    MONAI's EfficientNet-B0..B7 feature encoder (from the ``FlexibleUNet`` backbone registry, built without
    downloading anything) followed by a UNet++ nested dense decoder of depthwise-separable residual blocks
    with scSE attention (:class:`InvertedResidualDecoderBlock`) and a 3x3 convolution head producing logits.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: input channels.
        out_channels: output channels (logits), 3 for background/artery/catheter.
        backbone: ``"efficientnet-b0"`` .. ``"efficientnet-b7"``.
        decoder_channels: 5 decoder widths, deepest first.
        pretrained_path: optional local file with encoder weights (a MONAI EfficientNet state dict, or a full
            model state dict with ``encoder.`` keys). Nothing is ever downloaded.
        freeze_encoder: if True the encoder gets ``requires_grad=False`` and stays in eval mode (frozen BN stats).

    Input spatial sizes must be multiples of 32; output is ``(B, out_channels, *spatial)``.
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int = 3,
        backbone: str = "efficientnet-b0",
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        pretrained_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        freeze_encoder: bool = False,
    ) -> None:
        super().__init__()
        valid = [f"efficientnet-b{i}" for i in range(8)]
        if backbone not in valid:
            raise ValueError(f"backbone must be one of {valid}, got {backbone!r}")
        self.spatial_dims = spatial_dims
        self.encoder, enc_channels = build_registered_encoder(backbone, spatial_dims, in_channels)
        for name in EFFICIENTNET_UNUSED_HEAD:  # classifier parts the feature encoder never runs
            setattr(self.encoder, name, nn.Identity())
        if pretrained_path is not None:
            load_local_state_dict(
                self.encoder, pretrained_path, prefix="encoder.", ignore_prefixes=EFFICIENTNET_UNUSED_HEAD
            )
        self.decoder = UNetPlusPlusDecoder(enc_channels, decoder_channels, spatial_dims)
        self.segmentation_head = SegmentationHead(spatial_dims, self.decoder.out_channels, out_channels, kernel_size=3)
        self.freeze_encoder = bool(freeze_encoder)
        if self.freeze_encoder:
            for p in self.encoder.parameters():
                p.requires_grad_(False)
            self.encoder.eval()

    def train(self, mode: bool = True) -> "EfficientUNetPlusPlus":
        """Set train/eval mode, keeping a frozen encoder in eval mode (BatchNorm statistics unchanged)."""
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's full-resolution features of ``x`` (what the segmentation head turns into logits)."""
        check_spatial_divisible(x, 32, self.spatial_dims, "EfficientUNetPlusPlus")
        encoded: list[torch.Tensor] = self.encoder(x)
        return self.decoder(encoded)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Segment ``x`` of shape ``(B, in_channels, *spatial)``; returns logits of the same spatial size."""
        return self.segmentation_head(self.features(x))
