"""Penalized Generalized Dice loss (pGDL).

The penalized generalized Dice loss used to train EfficientUNet++ for simultaneous coronary artery and
catheter segmentation is

.. math::

    pGDL = \\frac{GDL}{1 + k\\,(1 - GDL)}

where :math:`GDL` is the generalized Dice loss of Sudre et al. (2017) with class weights
:math:`w_c = 1 / (\\sum_i g_{ci})^2` (``w_type="square"``). For ``k >= 0`` a perfect prediction stays at 0
and a completely wrong one at 1, ``pGDL <= GDL`` in between, and the slope
``d pGDL / d GDL = (1 + k) / (1 + k (1 - GDL))^2`` grows from ``1 / (1 + k)`` near a perfect prediction to
``1 + k`` near a wrong one, so badly segmented samples dominate the gradient; ``k = 0`` gives back GDL.

The GDL value is MONAI's :class:`monai.losses.GeneralizedDiceLoss`, which sums the weighted intersections
and unions over **all** classes (the released reference implementation only counted the last class; that
bug is not reproduced here). Classes absent from the target get the largest finite weight of the sample,
as in MONAI, so the loss stays finite when a class is missing from both prediction and target.
When *every* (kept) channel of a sample has an empty target -- e.g. a single sigmoid channel on an image
without vessel -- all weights are 0 and the sample's loss is 0 with zero gradient: false positives on such
images are not penalised. Keep a background channel (``softmax=True`` with ``include_background=True``) or
add a pixel-wise term (focal / BCE) when empty images matter.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

import torch
from monai.losses import GeneralizedDiceLoss
from monai.utils import LossReduction
from torch.nn.modules.loss import _Loss

__all__ = ["PenalizedGeneralizedDiceLoss", "penalize_gdl"]


def penalize_gdl(gdl: torch.Tensor, k: float) -> torch.Tensor:
    """Map generalized Dice loss values to penalized ones: ``gdl / (1 + k * (1 - gdl))``.

    Args:
        gdl: generalized Dice loss values (any shape), normally in ``[0, 1]``.
        k: penalty, ``k >= 0``; ``k = 0`` returns ``gdl`` unchanged.

    Returns:
        Tensor of the same shape as ``gdl``.
    """
    if k == 0:
        return gdl
    return gdl / (1.0 + k * (1.0 - gdl))


class PenalizedGeneralizedDiceLoss(_Loss):
    """Penalized generalized Dice loss, ``GDL / (1 + k (1 - GDL))``, applied per sample.

    With ``batch=False`` MONAI's GDL yields one value per sample; the penalty is applied to each of them
    and the result is then reduced (``"mean"``/``"sum"`` over the batch, or ``"none"`` to keep MONAI's
    broadcastable shape ``(B, 1, 1, ...)``). With ``batch=True`` a single GDL is computed over the whole
    batch and penalised once.

    Args:
        k: penalty (``>= 0``). ``k = 0`` reproduces :class:`monai.losses.GeneralizedDiceLoss` exactly.
        w_type: class weighting of MONAI's GDL: ``"square"`` (``1 / (sum g)^2``), ``"simple"`` or ``"uniform"``.
        include_background: if False, channel 0 is excluded.
        to_onehot_y: convert the label ``(B, 1, ...)`` to one-hot with ``input.shape[1]`` classes.
        softmax: apply softmax to the input (logits).
        sigmoid: apply sigmoid to the input (logits).
        other_act: other activation applied to the input, e.g. ``torch.tanh``.
        smooth_nr: constant added to the numerator.
        smooth_dr: constant added to the denominator.
        batch: sum intersections and unions over the batch before dividing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Raises:
        ValueError: if ``k < 0`` or ``reduction`` is unknown.

    Example:
        >>> loss = PenalizedGeneralizedDiceLoss(k=0.75, to_onehot_y=True, softmax=True)
        >>> logits, label = torch.randn(2, 3, 32, 32), torch.randint(0, 3, (2, 1, 32, 32))
        >>> value = loss(logits, label)
    """

    def __init__(
        self,
        k: float = 0.75,
        w_type: str = "square",
        include_background: bool = True,
        to_onehot_y: bool = False,
        softmax: bool = False,
        sigmoid: bool = False,
        other_act: Optional[Callable] = None,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        batch: bool = False,
        reduction: Union[LossReduction, str] = LossReduction.MEAN,
    ) -> None:
        super().__init__(reduction=LossReduction(reduction).value)
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}.")
        self.k = float(k)
        self.gdl = GeneralizedDiceLoss(
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            sigmoid=sigmoid,
            softmax=softmax,
            other_act=other_act,
            w_type=w_type,
            reduction=LossReduction.NONE,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            batch=batch,
        )

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            input: predictions ``(B, C, H[, W, D])`` (logits if an activation is set).
            target: labels ``(B, C, ...)`` one-hot, or ``(B, 1, ...)`` with ``to_onehot_y=True``.

        Returns:
            Scalar for ``"mean"``/``"sum"``; ``(B, 1, 1, ...)`` per-sample values for ``"none"``.
        """
        per_sample = penalize_gdl(self.gdl(input, target), self.k)
        if self.reduction == LossReduction.MEAN.value:
            return per_sample.mean()
        if self.reduction == LossReduction.SUM.value:
            return per_sample.sum()
        return per_sample
