"""UNet 3+ (Huang et al., ICASSP 2020): full-scale skip connections, full-scale deep supervision and an optional
classification-guided module (CGM)."""

from collections.abc import Sequence
from typing import List, Union

import torch
import torch.nn.functional as F
from torch import nn

from monai.networks.blocks import Convolution
from monai.networks.layers.factories import Conv, Dropout, Pool
from monai.networks.nets.basic_unet import TwoConv

__all__ = ["UNet3Plus", "gate_logits"]


def gate_logits(logits: torch.Tensor, log_gate: torch.Tensor) -> torch.Tensor:
    """Return logits ``z'`` with ``sigmoid(z') = sigmoid(logits) * exp(log_gate)`` (numerically stable).

    This is the CGM's "multiply the probability map by the presence probability" expressed on logits, so that
    sigmoid-based losses and post-processing work unchanged.

    Args:
        logits: segmentation logits.
        log_gate: log of the presence probability in ``(0, 1]``, broadcastable to ``logits``.
    """
    log_p = (F.logsigmoid(logits) + log_gate).clamp(max=-1e-7)
    return log_p - torch.log(-torch.expm1(log_p))


class UNet3Plus(nn.Module):
    """UNet 3+ with full-scale skip connections and full-scale deep supervision.

    The encoder has 5 stages of two ``conv-BN-ReLU`` (MONAI ``TwoConv``) separated by max-pooling. Each decoder
    stage ``d`` (stride ``2**(d-1)``, ``d = 4..1``) receives 5 branches, each brought to the stage's resolution
    (max-pooling from shallower encoder stages, identity from the same stage, bilinear up-sampling from deeper
    decoder stages / the bottleneck) and reduced to ``cat_channels`` by ``conv3x3-BN-ReLU``; the concatenation
    (``5 * cat_channels``) is fused by another ``conv3x3-BN-ReLU``.

    Deep supervision: a 3x3 conv head on each decoder stage and on the bottleneck, bilinearly up-sampled to the
    input size (x1, x2, x4, x8, x16). In training mode with ``deep_supervision=True`` the forward returns the
    list of the 5 side outputs, full resolution first (suitable for ``monai.losses.DeepSupervisionLoss``);
    otherwise only the full-resolution logits.

    With ``cgm=True`` the classification-guided module (dropout, 1x1 conv, adaptive max-pool, sigmoid) predicts
    from the bottleneck whether a vessel is present; every output's probability is multiplied by that presence
    probability (see :func:`gate_logits`; outputs remain logits). The latest presence logit is kept in
    ``self.last_presence_logits`` for inspection or an auxiliary BCE loss.

    Args:
        spatial_dims: number of spatial dimensions.
        in_channels: input channels.
        out_channels: output channels (logits).
        filters: 5 encoder widths.
        cat_channels: width of each full-scale branch.
        deep_supervision: return the 5 side outputs in training mode.
        cgm: add the classification-guided module.
        dropout: dropout of the CGM.

    Input spatial sizes must be multiples of 16.
    """

    scales: List[List[int]]
    last_presence_logits: torch.Tensor

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int = 1,
        filters: Sequence[int] = (64, 128, 256, 512, 1024),
        cat_channels: int = 64,
        deep_supervision: bool = True,
        cgm: bool = False,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if len(filters) != 5:
            raise ValueError(f"UNet3Plus needs 5 filter sizes, got {tuple(filters)}")
        self.spatial_dims = spatial_dims
        self.deep_supervision = bool(deep_supervision)
        self.cgm = bool(cgm)
        self.interp_mode = "bilinear" if spatial_dims == 2 else ("trilinear" if spatial_dims == 3 else "linear")
        act = ("relu", {"inplace": True})
        norm = "batch"
        n = 5
        up_ch = cat_channels * n

        self.pool = Pool[Pool.MAX, spatial_dims](kernel_size=2, stride=2)
        enc = []
        prev = in_channels
        for f in filters:
            enc.append(TwoConv(spatial_dims, prev, f, act=act, norm=norm, bias=False))
            prev = f
        self.encoders = nn.ModuleList(enc)

        def cbr(cin: int, cout: int) -> Convolution:
            return Convolution(spatial_dims, cin, cout, kernel_size=3, act=act, norm=norm, bias=False)

        # decoder stage index s = 0..3 for resolution levels 3, 2, 1, 0 (i.e. X_De^4 .. X_De^1)
        branches = []
        fusions = []
        self.scales = []  # per stage, per source level: +k pool by 2**k, -k upsample by 2**k
        for target in range(3, -1, -1):
            stage = []
            scales = []
            for src in range(n):
                if src <= target:
                    cin = filters[src]
                elif src == n - 1:
                    cin = filters[-1]
                else:
                    cin = up_ch
                stage.append(cbr(cin, cat_channels))
                scales.append(target - src)
            branches.append(nn.ModuleList(stage))
            fusions.append(cbr(up_ch, up_ch))
            self.scales.append(scales)
        self.branches = nn.ModuleList(branches)
        self.fusions = nn.ModuleList(fusions)

        conv = Conv[Conv.CONV, spatial_dims]
        # heads: decoder levels 0..3 (full res first) then the bottleneck
        self.heads = nn.ModuleList([conv(up_ch, out_channels, kernel_size=3, padding=1) for _ in range(4)])
        self.heads.append(conv(filters[-1], out_channels, kernel_size=3, padding=1))

        self.cls: nn.Module = nn.Identity()
        if self.cgm:
            self.cls = nn.Sequential(
                Dropout[Dropout.DROPOUT, spatial_dims](p=dropout),
                conv(filters[-1], 1, kernel_size=1),
                Pool[Pool.ADAPTIVEMAX, spatial_dims](1),
            )
        self.last_presence_logits = torch.zeros(0)

    @classmethod
    def lite(
        cls,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int = 1,
        deep_supervision: bool = True,
        cgm: bool = False,
    ) -> "UNet3Plus":
        """A 16x lighter UNet 3+ for CPU use: ``filters=(16, 32, 64, 128, 256)``, ``cat_channels=16``."""
        return cls(spatial_dims, in_channels, out_channels, (16, 32, 64, 128, 256), 16, deep_supervision, cgm)

    def _resample(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        if scale > 0:
            k: int = 1 << scale
            ks: List[int] = [k] * self.spatial_dims
            if self.spatial_dims == 2:
                return F.max_pool2d(x, ks, ks)
            if self.spatial_dims == 3:
                return F.max_pool3d(x, ks, ks)
            return F.max_pool1d(x, ks, ks)
        if scale < 0:
            return F.interpolate(x, scale_factor=float(1 << (-scale)), mode=self.interp_mode, align_corners=False)
        return x

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, List[torch.Tensor]]:
        """Segment ``x`` (``(B, in_channels, *spatial)``, sizes multiples of 16)."""
        if x.dim() != self.spatial_dims + 2:
            raise ValueError("UNet3Plus expects (B, C, *spatial) input, got " + str(list(x.shape)))
        for s in x.shape[2:]:
            if s % 16 != 0:
                raise ValueError(
                    "UNet3Plus: input spatial size " + str(list(x.shape[2:])) + " must be a multiple of 16"
                )
        size = x.shape[2:]
        feats: List[torch.Tensor] = []
        h = x
        i = 0
        for enc in self.encoders:
            if i > 0:
                h = self.pool(h)
            h = enc(h)
            feats.append(h)
            i += 1
        # sources per level: encoder features for levels <= target, decoder features (or bottleneck) above
        dec: List[torch.Tensor] = [feats[0], feats[1], feats[2], feats[3], feats[4]]
        s = 0
        for stage, fusion in zip(self.branches, self.fusions):
            target = 3 - s
            parts: List[torch.Tensor] = []
            j = 0
            for branch in stage:
                src = dec[j] if j > target else feats[j]
                parts.append(branch(self._resample(src, self.scales[s][j])))
                j += 1
            dec[target] = fusion(torch.cat(parts, dim=1))
            s += 1

        log_gate = torch.zeros(1, device=x.device, dtype=x.dtype)
        if self.cgm:
            presence = self.cls(feats[4]).flatten(1)  # (B, 1)
            self.last_presence_logits = presence
            log_gate = F.logsigmoid(presence).view([presence.shape[0], 1] + [1] * self.spatial_dims)

        all_sides = self.training and self.deep_supervision
        outputs: List[torch.Tensor] = []
        k = 0
        for head in self.heads:
            if k == 0 or all_sides:
                y = head(dec[k])
                if k > 0:
                    y = F.interpolate(y, size=size, mode=self.interp_mode, align_corners=False)
                if self.cgm:
                    y = gate_logits(y, log_gate)
                outputs.append(y)
            k += 1
        if all_sides:
            return outputs
        return outputs[0]
