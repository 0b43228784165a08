"""DenseNet feature encoders registered in MONAI's ``FlexibleUNet`` backbone registry (``FLEXUNET_BACKBONE``).

Importing :mod:`monai_angio.networks` registers ``"densenet121"``, ``"densenet169"`` and ``"densenet201"``, so that
``monai.networks.nets.FlexibleUNet(backbone="densenet121", ...)`` works.
"""

from typing import List

import torch

from monai.networks.blocks import BaseEncoder
from monai.networks.nets import DenseNet
from monai.networks.nets.flexible_unet import FLEXUNET_BACKBONE

__all__ = ["DenseNetEncoder", "register_densenet_encoders"]

_DENSENET_BLOCKS = {
    "densenet121": (6, 12, 24, 16),
    "densenet169": (6, 12, 32, 32),
    "densenet201": (6, 12, 48, 32),
}


def _channels(block_config: tuple, init: int = 64, growth: int = 32) -> tuple:
    out = [init]
    c = init
    for i, n in enumerate(block_config):
        c += n * growth
        out.append(c)
        if i < len(block_config) - 1:
            c //= 2
    return tuple(out)


class DenseNetEncoder(DenseNet, BaseEncoder):
    """MONAI ``DenseNet`` returning 5 feature maps at strides 2, 4, 8, 16, 32 for ``FlexibleUNet``.

    Features: the stem after ``conv0-norm0-relu0`` (64 ch), then dense blocks 1-3 each after the following
    transition's BN-ReLU (i.e. before its 1x1 conv and average pooling), and dense block 4 after ``norm5``-ReLU.
    For DenseNet-121: ``(64, 256, 512, 1024, 1024)`` channels. The classifier is removed, so the parameter names
    are those of ``DenseNet121(...).features`` (a locally saved ImageNet DenseNet can be loaded without its
    ``class_layers``).

    Args:
        model_name: ``"densenet121"``, ``"densenet169"`` or ``"densenet201"``.
        spatial_dims: number of spatial dimensions.
        in_channels: input channels.
        pretrained: must be False (weights are never downloaded; load local weights instead).
    """

    def __init__(
        self, model_name: str = "densenet121", spatial_dims: int = 2, in_channels: int = 3, pretrained: bool = False
    ) -> None:
        if model_name not in _DENSENET_BLOCKS:
            raise ValueError(f"unknown DenseNet {model_name!r}, expected one of {sorted(_DENSENET_BLOCKS)}")
        if pretrained:
            raise ValueError(
                "DenseNetEncoder never downloads weights: use pretrained=False and load a local state dict "
                "(e.g. MajorVesselUNet(pretrained_path=...))"
            )
        super().__init__(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            out_channels=1,
            block_config=_DENSENET_BLOCKS[model_name],
        )
        del self.class_layers

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Return the 5 feature maps of ``x`` (``(B, C, *spatial)``)."""
        f = self.features
        x = f.relu0(f.norm0(f.conv0(x)))
        feats: List[torch.Tensor] = [x]
        x = f.denseblock1(f.pool0(x))
        x = f.transition1.relu(f.transition1.norm(x))
        feats.append(x)
        x = f.denseblock2(f.transition1.pool(f.transition1.conv(x)))
        x = f.transition2.relu(f.transition2.norm(x))
        feats.append(x)
        x = f.denseblock3(f.transition2.pool(f.transition2.conv(x)))
        x = f.transition3.relu(f.transition3.norm(x))
        feats.append(x)
        x = f.denseblock4(f.transition3.pool(f.transition3.conv(x)))
        feats.append(torch.relu(f.norm5(x)))
        return feats

    @classmethod
    def get_encoder_parameters(cls) -> List[dict]:
        """Initialisation parameters of each registered DenseNet."""
        return [
            {"model_name": name, "spatial_dims": 2, "in_channels": 3, "pretrained": False} for name in _DENSENET_BLOCKS
        ]

    @classmethod
    def num_channels_per_output(cls) -> List[tuple]:
        """Channels of the 5 feature maps of each registered DenseNet."""
        return [_channels(b) for b in _DENSENET_BLOCKS.values()]

    @classmethod
    def num_outputs(cls) -> List[int]:
        """Every registered DenseNet has 5 feature maps."""
        return [5] * len(_DENSENET_BLOCKS)

    @classmethod
    def get_encoder_names(cls) -> List[str]:
        """Registry names."""
        return list(_DENSENET_BLOCKS)


def register_densenet_encoders() -> None:
    """Register the DenseNet encoders in ``FLEXUNET_BACKBONE`` (idempotent)."""
    if "densenet121" not in FLEXUNET_BACKBONE.register_dict:
        FLEXUNET_BACKBONE.register_class(DenseNetEncoder)


register_densenet_encoders()
