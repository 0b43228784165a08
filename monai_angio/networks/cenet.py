"""CE-Net (Gu et al., IEEE TMI 2019): ResNet-34 encoder, dense atrous convolution (DAC) and residual multi-kernel
pooling (RMP) context extractor, additive-skip decoder."""

import os
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from monai.networks.layers.factories import Conv, Norm
from monai.networks.nets.resnet import ResNet, ResNetFeatures

from monai_angio.networks.checks import check_spatial_divisible
from monai_angio.networks.weights import load_local_state_dict

__all__ = ["CENet", "DACBlock", "RMPBlock", "CENetDecoderBlock", "ResNet34Features"]


class ResNet34Features(ResNet):
    """MONAI ``ResNet`` with the ResNet-34 layout and torchvision-style 1x1-conv shortcuts (type ``B``, no bias),
    returning the 5 feature maps (strides 2..32) like ``monai.networks.nets.resnet.ResNetFeatures``.

    The parameter names match torchvision's ``resnet34`` (without ``fc``), so an ImageNet ResNet-34 state dict
    saved locally can be loaded with ``pretrained_path``. (MONAI's ``resnet34`` entry uses MedicalNet's
    parameter-free type ``A`` shortcuts, which cannot be scripted.)

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: input channels.
        layers: basic blocks per stage (default ResNet-34; ``(2, 2, 2, 2)`` is the ResNet-18 layout).
        filters: channels per stage (default the paper's 64-512; narrower for a lighter network).
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 3,
        layers: Sequence[int] = (3, 4, 6, 3),
        filters: Sequence[int] = (64, 128, 256, 512),
    ) -> None:
        if len(layers) != 4 or len(filters) != 4:
            raise ValueError(f"ResNet34Features needs 4 stages, got layers={list(layers)} filters={list(filters)}")
        super().__init__(
            block="basic",
            layers=[int(n) for n in layers],
            block_inplanes=[int(c) for c in filters],
            spatial_dims=spatial_dims,
            n_input_channels=in_channels,
            conv1_t_stride=2,
            shortcut_type="B",
            feed_forward=False,
            bias_downsample=False,
        )

    forward = ResNetFeatures.forward


class DACBlock(nn.Module):
    """Dense atrous convolution block.

    Four cascaded branches built from three shared 3x3 convolutions (dilations 1, 3, 5) and a shared 1x1
    convolution: ``b1 = relu(d1(x))``, ``b2 = relu(c1(d3(x)))``, ``b3 = relu(c1(d3(d1(x))))``,
    ``b4 = relu(c1(d5(d3(d1(x)))))``; output ``x + b1 + b2 + b3 + b4`` (same channels as the input).

    Args:
        channels: number of channels.
        spatial_dims: number of spatial dimensions.
    """

    def __init__(self, channels: int, spatial_dims: int = 2) -> None:
        super().__init__()
        conv = Conv[Conv.CONV, spatial_dims]
        self.dilate1 = conv(channels, channels, kernel_size=3, dilation=1, padding=1)
        self.dilate3 = conv(channels, channels, kernel_size=3, dilation=3, padding=3)
        self.dilate5 = conv(channels, channels, kernel_size=3, dilation=5, padding=5)
        self.conv1x1 = conv(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the four cascaded branches and add them to ``x``."""
        d1 = self.dilate1(x)
        d31 = self.dilate3(d1)
        b1 = F.relu(d1)
        b2 = F.relu(self.conv1x1(self.dilate3(x)))
        b3 = F.relu(self.conv1x1(d31))
        b4 = F.relu(self.conv1x1(self.dilate5(d31)))
        return x + b1 + b2 + b3 + b4


class RMPBlock(nn.Module):
    """Residual multi-kernel pooling block.

    Max-pools with kernels/strides 2, 3, 5 and 6 (a global max-pool when the map is smaller than the kernel), a
    shared 1x1 conv to one channel each, up-sampling back to the input size, and concatenation with the input:
    ``C -> C + 4`` channels.

    Args:
        channels: input channels.
        spatial_dims: number of spatial dimensions (2 or 3).
        kernels: pooling kernel sizes.
    """

    def __init__(self, channels: int, spatial_dims: int = 2, kernels: tuple = (2, 3, 5, 6)) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f"RMPBlock supports 2 or 3 spatial dims, got {spatial_dims}")
        self.spatial_dims = spatial_dims
        self.kernels: List[int] = [int(k) for k in kernels]
        self.conv = Conv[Conv.CONV, spatial_dims](channels, 1, kernel_size=1)
        self.out_channels = channels + len(self.kernels)
        self.mode = "bilinear" if spatial_dims == 2 else "trilinear"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, *spatial)`` -> ``(B, C + 4, *spatial)``."""
        size = x.shape[2:]
        smallest = min(size)
        parts: List[torch.Tensor] = [x]
        for k in self.kernels:
            if self.spatial_dims == 2:
                p = F.max_pool2d(x, [k, k], [k, k]) if smallest >= k else F.adaptive_max_pool2d(x, [1, 1])
            else:
                p = F.max_pool3d(x, [k, k, k], [k, k, k]) if smallest >= k else F.adaptive_max_pool3d(x, [1, 1, 1])
            parts.append(F.interpolate(self.conv(p), size=size, mode=self.mode, align_corners=False))
        return torch.cat(parts, dim=1)


class CENetDecoderBlock(nn.Module):
    """CE-Net decoder block: 1x1 conv (``C -> C/4``), 3x3 transposed conv x2, 1x1 conv to ``out_channels``,
    each followed by BN and ReLU.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        spatial_dims: number of spatial dimensions.
    """

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int = 2) -> None:
        super().__init__()
        conv = Conv[Conv.CONV, spatial_dims]
        convt = Conv[Conv.CONVTRANS, spatial_dims]
        norm = Norm[Norm.BATCH, spatial_dims]
        mid = max(1, in_channels // 4)
        self.block = nn.Sequential(
            conv(in_channels, mid, kernel_size=1, bias=False),
            norm(mid),
            nn.ReLU(inplace=True),
            convt(mid, mid, kernel_size=3, stride=2, padding=1, output_padding=1, bias=False),
            norm(mid),
            nn.ReLU(inplace=True),
            conv(mid, out_channels, kernel_size=1, bias=False),
            norm(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Up-sample ``x`` by 2."""
        return self.block(x)


class CENet(nn.Module):
    """CE-Net: context encoder network for 2D medical image segmentation.

    A MONAI ResNet-34 feature encoder (:class:`ResNet34Features`, never downloaded), a DAC and an RMP context
    extractor on the stride-32 features, four decoder blocks with additive skips from the ResNet stages, and a final 4x4
    transposed convolution plus two 3x3 convolutions producing full-resolution logits.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: input channels (3 when fed by :class:`TemporalFusionStem`).
        out_channels: output channels (logits).
        pretrained_path: optional local ResNet-34 encoder state dict (or a full CENet state dict); never downloaded.
        layers: encoder basic blocks per stage (default the paper's ResNet-34 ``(3, 4, 6, 3)``).
        filters: encoder channels per stage (default the paper's ``(64, 128, 256, 512)``); the context blocks and
            the decoder follow them, the final head uses ``filters[0] // 2`` channels.

    Input spatial sizes must be multiples of 32.
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 3,
        out_channels: int = 1,
        pretrained_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        layers: Sequence[int] = (3, 4, 6, 3),
        filters: Sequence[int] = (64, 128, 256, 512),
    ) -> None:
        super().__init__()
        self.spatial_dims = spatial_dims
        filters = tuple(int(c) for c in filters)
        self.encoder = ResNet34Features(
            spatial_dims=spatial_dims, in_channels=in_channels, layers=layers, filters=filters
        )
        if pretrained_path is not None:
            load_local_state_dict(self.encoder, pretrained_path, prefix="encoder.", ignore_prefixes=("fc.",))
        self.dac = DACBlock(filters[3], spatial_dims)
        self.rmp = RMPBlock(filters[3], spatial_dims)
        self.decoder4 = CENetDecoderBlock(self.rmp.out_channels, filters[2], spatial_dims)
        self.decoder3 = CENetDecoderBlock(filters[2], filters[1], spatial_dims)
        self.decoder2 = CENetDecoderBlock(filters[1], filters[0], spatial_dims)
        self.decoder1 = CENetDecoderBlock(filters[0], filters[0], spatial_dims)
        conv = Conv[Conv.CONV, spatial_dims]
        head = max(1, filters[0] // 2)
        self.final = nn.Sequential(
            Conv[Conv.CONVTRANS, spatial_dims](filters[0], head, kernel_size=4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            conv(head, head, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            conv(head, out_channels, kernel_size=3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Segment ``x`` (``(B, in_channels, *spatial)``, sizes multiples of 32) into full-resolution logits."""
        check_spatial_divisible(x, 32, self.spatial_dims, "CENet")
        feats: List[torch.Tensor] = self.encoder(x)  # strides 2, 4, 8, 16, 32
        e1, e2, e3, e4 = feats[1], feats[2], feats[3], feats[4]
        c = self.rmp(self.dac(e4))
        d4 = self.decoder4(c) + e3
        d3 = self.decoder3(d4) + e2
        d2 = self.decoder2(d3) + e1
        d1 = self.decoder1(d2)
        return self.final(d1)
