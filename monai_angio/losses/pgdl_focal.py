"""Penalized generalized Dice + focal loss for artery/catheter segmentation (EfficientUNet++).

The loss is ``lambda_pgdl * pGDL + lambda_focal * Focal`` where pGDL is
:class:`~monai_angio.losses.pgdl.PenalizedGeneralizedDiceLoss` and Focal is MONAI's
:class:`monai.losses.FocalLoss`. Both terms take **logits**.

How MONAI 1.6 ``FocalLoss`` uses ``alpha``:

* ``softmax=True`` (``use_softmax=True``, multi-class): a scalar ``alpha`` becomes the class factor
  ``[1 - alpha, alpha, alpha, ...]``, i.e. background (channel 0) is weighted ``1 - alpha`` and every
  foreground class ``alpha`` (with the default ``alpha=0.25`` the background pixels weigh 0.75 and
  artery/catheter pixels 0.25, the convention of Lin et al. for the positive class). A sequence gives one
  factor per class (length = number of channels after ``include_background``). With
  ``include_background=False`` a *scalar* alpha is ignored by MONAI (with a warning); pass a sequence instead.
* ``softmax=False`` (sigmoid, one-vs-rest per channel): a scalar alpha weighs positives ``alpha`` and
  negatives ``1 - alpha``; a sequence weighs only the positives of each channel.
* ``alpha=None`` disables the balancing.

The focal term's ``"mean"`` reduction averages over every element ``B x C x H x W``.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from monai.losses import FocalLoss
from monai.utils import LossReduction
from torch.nn.modules.loss import _Loss

from .pgdl import PenalizedGeneralizedDiceLoss

__all__ = ["PGDLFocalLoss"]


class PGDLFocalLoss(_Loss):
    """``lambda_pgdl * pGDL + lambda_focal * FocalLoss`` on logits.

    Args:
        k: pGDL penalty (``>= 0``).
        lambda_pgdl: weight of the pGDL term (``>= 0``).
        lambda_focal: weight of the focal term (``>= 0``).
        gamma: focal exponent.
        alpha: focal class balance (scalar, per-class sequence or None); see the module docstring.
        to_onehot_y: target is a label map ``(B, 1, ...)`` to one-hot encode.
        softmax: True: softmax for pGDL and softmax focal loss (mutually exclusive classes, e.g. the
            3-class background/artery/catheter task). False: sigmoid for both (multi-label / binary).
        include_background: if False, channel 0 is excluded from both terms.
        w_type: GDL class weighting (``"square"``, ``"simple"``, ``"uniform"``).
        smooth_nr: pGDL numerator smoothing.
        smooth_dr: pGDL denominator smoothing.
        batch: pGDL over the whole batch instead of per sample.
        focal_weight: MONAI ``FocalLoss(weight=...)`` per-class weights, or None.
        reduction: ``"mean"`` or ``"sum"`` (applied to both terms).

    Raises:
        ValueError: for negative weights or an unknown reduction.
    """

    def __init__(
        self,
        k: float = 0.75,
        lambda_pgdl: float = 1.0,
        lambda_focal: float = 1.0,
        gamma: float = 2.0,
        alpha: Optional[Union[float, Sequence[float]]] = 0.25,
        to_onehot_y: bool = True,
        softmax: bool = True,
        include_background: bool = True,
        w_type: str = "square",
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        batch: bool = False,
        focal_weight: Optional[Union[float, Sequence[float], torch.Tensor]] = None,
        reduction: Union[LossReduction, str] = LossReduction.MEAN,
    ) -> None:
        super().__init__(reduction=LossReduction(reduction).value)
        if self.reduction == LossReduction.NONE.value:
            raise ValueError("PGDLFocalLoss supports reduction 'mean' or 'sum' only.")
        if lambda_pgdl < 0 or lambda_focal < 0:
            raise ValueError(f"lambda_pgdl and lambda_focal must be >= 0, got {lambda_pgdl}, {lambda_focal}.")
        self.lambda_pgdl = float(lambda_pgdl)
        self.lambda_focal = float(lambda_focal)
        self.pgdl = PenalizedGeneralizedDiceLoss(
            k=k,
            w_type=w_type,
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            softmax=softmax,
            sigmoid=not softmax,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            batch=batch,
            reduction=reduction,
        )
        self.focal = FocalLoss(
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            gamma=gamma,
            alpha=alpha,
            weight=focal_weight,
            reduction=reduction,
            use_softmax=softmax,
        )

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the combined loss.

        Args:
            input: logits ``(B, C, H[, W, D])``.
            target: label map ``(B, 1, ...)`` (``to_onehot_y=True``) or one-hot ``(B, C, ...)``.

        Returns:
            Scalar loss.
        """
        if input.ndim != target.ndim:
            raise ValueError(
                f"input and target must have the same number of dimensions, got {tuple(input.shape)} "
                f"and {tuple(target.shape)}; give the label as (B, 1, H, W)."
            )
        return self.lambda_pgdl * self.pgdl(input, target) + self.lambda_focal * self.focal(input, target)
