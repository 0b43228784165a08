"""A major-artery / branch head on a 3-class (background, artery, catheter) segmentation network.

Real expert masks draw every contrast-filled vessel; the flagship's clinical class is narrower: an artery at least
2 mm wide at its origin (Silva et al.). Whether a vessel meets that criterion is a property of the whole tree (where
it branches off and how wide it is there), not of a pixel's neighbourhood, and only phantoms, whose generator records
every branch's width at its origin, can teach it. :class:`ArterySplitNetwork` therefore keeps a trained 3-class
network as it is and adds a small context head that splits its artery probability in two:

``p = softmax(base(x))``, ``s = sigmoid(head(features, p))``,
``output = log [p_background, p_artery * s, p_catheter, p_artery * (1 - s)]``

-- log-probabilities of 4 classes (background, major artery, catheter, branch) that a softmax turns back into those
probabilities exactly. Merging the two artery classes (:class:`~monai_angio.transforms.ArteryBranchLabeld`) gives the
base network's label map unchanged; the major-artery map is where ``s >= 0.5``. With ``freeze_base`` only the head
learns (its BatchNorm-free layers see the frozen base's features), so the base's accuracy on real images cannot move.

The head (:class:`SplitContextHead`) sees the base decoder's last features and its artery and catheter probabilities
at 1/4 and 1/16 of the resolution through CE-Net's dense atrous convolution block (:class:`~monai_angio.networks.DACBlock`),
about 300 px of context at full resolution, and adds the result back at full resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from monai_angio.networks.cenet import DACBlock

__all__ = ["SplitContextHead", "ArterySplitNetwork"]


class SplitContextHead(nn.Module):
    """Features + class probabilities -> one logit per pixel (major artery vs branch), with wide context.

    Args:
        in_channels: channels of the input (decoder features + the probabilities it is given).
        width: channels of the context path.
    """

    def __init__(self, in_channels: int, width: int = 32) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, width, kernel_size=1)
        self.context4 = DACBlock(width)
        self.context16 = DACBlock(width)
        self.merge = nn.Conv2d(width, width, kernel_size=3, padding=1)
        self.fuse = nn.Conv2d(in_channels + width, 16, kernel_size=1)
        self.out = nn.Conv2d(16, 1, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, H, W)`` with H, W multiples of 16 -> ``(B, 1, H, W)`` logits."""
        s4 = F.relu(self.reduce(F.avg_pool2d(x, 4)))
        s4 = self.context4(s4)
        s16 = self.context16(F.avg_pool2d(s4, 4))
        s4 = F.relu(self.merge(s4 + F.interpolate(s16, size=s4.shape[2:], mode="bilinear", align_corners=False)))
        up = F.interpolate(s4, size=x.shape[2:], mode="bilinear", align_corners=False)
        return self.out(F.relu(self.fuse(torch.cat([x, up], dim=1))))


class ArterySplitNetwork(nn.Module):
    """A 3-class network whose artery class is split into major artery + branch by a context head (module docstring).

    Args:
        base: a 3-class (background, artery, catheter) network with ``features(x)`` (its last decoder features) and
            ``segmentation_head`` (features -> logits), e.g. :class:`~monai_angio.networks.EfficientUNetPlusPlus`.
        feature_channels: channels of ``base.features(x)`` (16 for EfficientUNet++'s default decoder).
        width: channels of the head's context path.
        freeze_base: keep the base's weights fixed and in eval mode (BatchNorm statistics unchanged): only the head
            trains.

    The output is ``(B, 4, H, W)`` log-probabilities of background, major artery, catheter, branch.
    """

    def __init__(self, base: nn.Module, feature_channels: int = 16, width: int = 32, freeze_base: bool = False):
        super().__init__()
        if not (hasattr(base, "features") and hasattr(base, "segmentation_head")):
            raise TypeError(f"{type(base).__name__} has no features() / segmentation_head for ArterySplitNetwork")
        self.base = base
        self.head = SplitContextHead(feature_channels + 2, width)
        self.freeze_base = bool(freeze_base)
        if self.freeze_base:
            for p in self.base.parameters():
                p.requires_grad_(False)
            self.base.eval()

    def train(self, mode: bool = True) -> "ArterySplitNetwork":
        """Set train/eval mode, keeping a frozen base in eval mode."""
        super().train(mode)
        if self.freeze_base:
            self.base.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, H, W)`` -> ``(B, 4, H, W)`` log-probabilities (background, major artery, catheter, branch)."""
        feats = self.base.features(x)
        logp = torch.log_softmax(self.base.segmentation_head(feats).float(), dim=1)
        if logp.shape[1] != 3:
            raise ValueError(f"ArterySplitNetwork needs a 3-class base, got {logp.shape[1]} classes")
        p = logp.exp()
        z = self.head(torch.cat([feats.float(), p[:, 1:3]], dim=1))
        major = logp[:, 1:2] + F.logsigmoid(z)
        branch = logp[:, 1:2] + F.logsigmoid(-z)
        return torch.cat([logp[:, 0:1], major, logp[:, 2:3], branch], dim=1)
