"""Building blocks that MONAI lacks: concurrent spatial/channel squeeze-excitation and the
depthwise-separable residual block of the Efficient-UNet++ decoder."""

from __future__ import annotations

import torch
from torch import nn

from monai.networks.layers.factories import Conv, Norm, Pool

__all__ = ["SCSEBlock", "InvertedResidualDecoderBlock"]


class SCSEBlock(nn.Module):
    """Concurrent spatial and channel squeeze & excitation (scSE, Roy et al., MICCAI 2018).

    ``out = x * cSE(x) + x * sSE(x)`` where ``cSE`` is a per-channel gate (global average pool,
    1x1 conv ``C -> C // reduction``, ReLU, 1x1 conv back to ``C``, sigmoid) and ``sSE`` a per-pixel gate
    (1x1 conv ``C -> 1``, sigmoid). MONAI only provides the channel part (``ChannelSELayer``).

    Args:
        channels: number of input (and output) channels.
        reduction: channel reduction ratio of the cSE bottleneck (at least 1 hidden channel).
        spatial_dims: number of spatial dimensions (1, 2 or 3).
    """

    def __init__(self, channels: int, reduction: int = 16, spatial_dims: int = 2) -> None:
        super().__init__()
        if channels < 1 or reduction < 1:
            raise ValueError(f"channels and reduction must be >= 1, got {channels} and {reduction}.")
        conv = Conv[Conv.CONV, spatial_dims]
        hidden = max(1, channels // reduction)
        self.cse = nn.Sequential(
            Pool[Pool.ADAPTIVEAVG, spatial_dims](1),
            conv(channels, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            conv(hidden, channels, kernel_size=1),
            nn.Sigmoid(),
        )
        self.sse = nn.Sequential(conv(channels, 1, kernel_size=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate ``x`` (``(B, C, *spatial)``) channel-wise and pixel-wise and sum the two results.

        Computed as ``x * (cSE + sSE)``: the same value as ``x * cSE + x * sSE`` with one full-size product
        fewer (the decoder is memory-bound, so this saves time on a CPU).
        """
        return x * (self.cse(x) + self.sse(x))


class InvertedResidualDecoderBlock(nn.Module):
    """Efficient-UNet++ decoder block: a depthwise-separable residual block with scSE attention.

    ``1x1 conv -> BN -> Hardswish -> depthwise 3x3 -> BN -> Hardswish -> scSE -> 1x1 conv -> BN``, plus a
    residual branch (identity when ``in_channels == out_channels``, otherwise ``1x1 conv -> BN``).

    Args:
        in_channels: input channels (the concatenated skips and upsampled features).
        out_channels: output channels.
        spatial_dims: number of spatial dimensions.
        expansion: width of the depthwise stage relative to ``out_channels``.
        reduction: scSE channel reduction ratio.
    """

    def __init__(
        self, in_channels: int, out_channels: int, spatial_dims: int = 2, expansion: float = 1.0, reduction: int = 16
    ) -> None:
        super().__init__()
        conv = Conv[Conv.CONV, spatial_dims]
        norm = Norm[Norm.BATCH, spatial_dims]
        mid = max(1, int(round(out_channels * expansion)))
        self.body = nn.Sequential(
            conv(in_channels, mid, kernel_size=1, bias=False),
            norm(mid),
            nn.Hardswish(inplace=True),
            conv(mid, mid, kernel_size=3, padding=1, groups=mid, bias=False),
            norm(mid),
            nn.Hardswish(inplace=True),
            SCSEBlock(mid, reduction=reduction, spatial_dims=spatial_dims),
            conv(mid, out_channels, kernel_size=1, bias=False),
            norm(out_channels),
        )
        self.shortcut: nn.Module
        if in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                conv(in_channels, out_channels, kernel_size=1, bias=False), norm(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``(B, in_channels, *spatial)``."""
        return self.body(x) + self.shortcut(x)
