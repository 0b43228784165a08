"""Temporal fusion of neighbouring cine frames for 2D segmentation networks."""

from typing import Any

import torch
from torch import nn

from monai_angio.errors import AngioInputError

__all__ = ["TemporalFusionStem", "TemporalSegmenter"]


class TemporalFusionStem(nn.Module):
    """Fuse ``2N+1`` frames into a 2D multi-channel image for the centre frame.

    ``Conv3d`` with kernel ``(T, 3, 3)``, no temporal padding and spatial padding 1 (so time collapses to 1)
    -> BN -> ReLU -> squeeze time -> ``Conv2d 3x3`` -> ``out_channels``.

    Args:
        num_frames: number of frames ``T = 2N + 1``.
        in_channels: channels per frame.
        out_channels: channels of the fused 2D image (3 to feed an RGB-style 2D network).
        mid_channels: channels after the 3D convolution.
    """

    def __init__(self, num_frames: int, in_channels: int = 1, out_channels: int = 3, mid_channels: int = 16) -> None:
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.num_frames = int(num_frames)
        self.in_channels = int(in_channels)
        self.conv3d = nn.Conv3d(
            in_channels, mid_channels, kernel_size=(num_frames, 3, 3), padding=(0, 1, 1), bias=False
        )
        self.norm = nn.BatchNorm3d(mid_channels)
        self.act = nn.ReLU(inplace=True)
        self.conv2d = nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, T, H, W)`` -> ``(B, out_channels, H, W)``."""
        if x.dim() != 5 or x.shape[1] != self.in_channels or x.shape[2] != self.num_frames:
            raise ValueError(
                "TemporalFusionStem expects (B, "
                + str(self.in_channels)
                + ", "
                + str(self.num_frames)
                + ", H, W) input, got "
                + str(list(x.shape))
            )
        y = self.act(self.norm(self.conv3d(x)))  # the time axis is 1 after the full-depth Conv3d
        # index rather than squeeze: exported to ONNX, a squeeze of a dynamic axis hides the rank behind a runtime
        # test, which OpenVINO cannot convert; indexing keeps the rank static
        return self.conv2d(y[:, :, 0])


class TemporalSegmenter(nn.Module):
    """Wrap any 2D segmentation network so that it segments the centre frame of a temporal window.

    Input ``(B, C, T, H, W)`` with ``T = stem.num_frames`` (e.g. from ``TemporalWindowd``); output is whatever
    ``net2d`` returns for the fused image (a tensor, or the list of a deep-supervised network).

    Args:
        stem: the temporal fusion stem.
        net2d: a 2D network whose ``in_channels`` equals the stem's ``out_channels``.
    """

    def __init__(self, stem: TemporalFusionStem, net2d: nn.Module) -> None:
        super().__init__()
        self.stem = stem
        self.net2d = net2d
        self.num_frames = stem.num_frames

    def forward(self, x: torch.Tensor) -> Any:
        """Segment the centre frame of ``x`` (``(B, C, T, H, W)``)."""
        if x.dim() != 5:
            raise AngioInputError("temporal network input must be (B, C, T, H, W), got shape " + str(list(x.shape)))
        if x.shape[2] != self.num_frames:
            raise AngioInputError(
                "temporal network expects T = "
                + str(self.num_frames)
                + " frames (2N+1), got T = "
                + str(x.shape[2])
                + " (input shape "
                + str(list(x.shape))
                + "); check TemporalWindow(num_neighbors=N)"
            )
        return self.net2d(self.stem(x))
