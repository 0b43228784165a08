"""Hybrid BCE + Dice loss for binary vessel masks, with deep supervision (UNet 3+).

:class:`HybridBCEDiceLoss` is ``lambda_bce * BCE + lambda_dice * Dice`` on one or more independent
(sigmoid) channels. For a single channel it equals MONAI's
``DiceCELoss(sigmoid=True, lambda_ce=lambda_bce, lambda_dice=lambda_dice)``; it is written as
``DiceLoss + BCEWithLogitsLoss`` because ``DiceCELoss`` switches to softmax cross-entropy as soon as there is
more than one channel, which is not BCE semantics for multi-label masks.

:class:`DeepSupervisedHybridLoss` wraps it in MONAI's :class:`monai.losses.DeepSupervisionLoss`, so it takes
either the list of side outputs of ``UNet3Plus`` in training mode (full resolution first; outputs of a lower
resolution get a nearest-neighbour down-sampled target) or the single tensor returned in eval mode.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from monai.losses import DeepSupervisionLoss, DiceLoss
from torch import nn
from torch.nn.modules.loss import _Loss

__all__ = ["HybridBCEDiceLoss", "DeepSupervisedHybridLoss"]


class HybridBCEDiceLoss(_Loss):
    """``lambda_bce * BCE + lambda_dice * Dice`` for binary / multi-label masks.

    Args:
        lambda_bce: weight of the binary cross-entropy term (``>= 0``).
        lambda_dice: weight of the Dice term (``>= 0``).
        sigmoid: True: ``input`` holds logits (``BCEWithLogitsLoss``, Dice on ``sigmoid(input)``).
            False: ``input`` holds probabilities in ``[0, 1]`` (``BCELoss``, Dice on ``input``).
        include_background: passed to the Dice term (only matters with more than one channel).
        smooth_nr: Dice numerator smoothing.
        smooth_dr: Dice denominator smoothing.
        squared_pred: squared terms in the Dice denominator.
        batch: Dice over the whole batch instead of per sample.
        pos_weight: optional BCE positive-class weight, broadcast over the channels (see
            ``torch.nn.BCEWithLogitsLoss``); only with ``sigmoid=True``.
        reduction: ``"mean"`` or ``"sum"`` (both terms).

    Raises:
        ValueError: for negative weights, ``pos_weight`` without ``sigmoid`` or an unsupported reduction.
    """

    def __init__(
        self,
        lambda_bce: float = 1.0,
        lambda_dice: float = 1.0,
        sigmoid: bool = True,
        include_background: bool = True,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        squared_pred: bool = False,
        batch: bool = False,
        pos_weight: Optional[Union[float, Sequence[float], torch.Tensor]] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}.")
        if lambda_bce < 0 or lambda_dice < 0:
            raise ValueError(f"lambda_bce and lambda_dice must be >= 0, got {lambda_bce}, {lambda_dice}.")
        if pos_weight is not None and not sigmoid:
            raise ValueError("pos_weight needs sigmoid=True (logit input).")
        self.lambda_bce = float(lambda_bce)
        self.lambda_dice = float(lambda_dice)
        self.sigmoid = sigmoid
        self.dice = DiceLoss(
            include_background=include_background,
            sigmoid=sigmoid,
            squared_pred=squared_pred,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            batch=batch,
            reduction=reduction,
        )
        if sigmoid:
            pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)
            if pw is not None and pw.ndim == 1:
                pw = pw.view(-1, 1, 1)  # (C,) -> broadcast over (B, C, H, W)
            self.bce: nn.Module = nn.BCEWithLogitsLoss(pos_weight=pw, reduction=reduction)
        else:
            self.bce = nn.BCELoss(reduction=reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            input: logits (or probabilities if ``sigmoid=False``) ``(B, C, H, W)``.
            target: binary mask of the same shape (any dtype; cast to ``input.dtype``).

        Returns:
            Scalar loss.

        Raises:
            ValueError: if ``input`` and ``target`` shapes differ.
        """
        if input.shape != target.shape:
            raise ValueError(
                f"input and target must have the same shape, got {tuple(input.shape)} and {tuple(target.shape)}."
            )
        target = target.to(dtype=input.dtype)
        return self.lambda_bce * self.bce(input, target) + self.lambda_dice * self.dice(input, target)


class DeepSupervisedHybridLoss(DeepSupervisionLoss):
    """Deep-supervision wrapper (MONAI ``DeepSupervisionLoss``) around :class:`HybridBCEDiceLoss`.

    The loss of a list ``[y0, y1, ...]`` (full resolution first) is ``sum_l w_l * hybrid(y_l, target_l)``,
    ``target_l`` being the target resized (nearest) to ``y_l`` when sizes differ. A single tensor gives
    ``hybrid(input, target)``.

    Args:
        weights: explicit per-output weights; must have at least as many entries as the list of outputs.
            When given it overrides ``weight_mode``.
        weight_mode: MONAI weight modes: ``"exp"`` (1, 0.5, 0.25, 0.125, 0.0625 -- never below 0.0625),
            ``"same"`` (all 1) or ``"two"`` (1, 0.5, 0.5, ...).
        lambda_bce: weight of the BCE term.
        lambda_dice: weight of the Dice term.
        sigmoid: logits (True) or probabilities (False).
        kwargs: further :class:`HybridBCEDiceLoss` arguments.

    Raises:
        ValueError: for an unknown ``weight_mode`` or when ``weights`` is shorter than the list of outputs.
    """

    def __init__(
        self,
        weights: Optional[Sequence[float]] = None,
        weight_mode: str = "exp",
        lambda_bce: float = 1.0,
        lambda_dice: float = 1.0,
        sigmoid: bool = True,
        **kwargs,
    ) -> None:
        if weight_mode not in ("exp", "same", "two"):
            raise ValueError(f"weight_mode must be 'exp', 'same' or 'two', got {weight_mode!r}.")
        hybrid = HybridBCEDiceLoss(lambda_bce=lambda_bce, lambda_dice=lambda_dice, sigmoid=sigmoid, **kwargs)
        super().__init__(hybrid, weight_mode=weight_mode, weights=None if weights is None else list(weights))

    def get_weights(self, levels: int = 1) -> list[float]:
        """Weights for ``levels`` outputs; refuses explicit ``weights`` that are too short."""
        if self.weights is not None and len(self.weights) < levels:
            raise ValueError(f"got {len(self.weights)} weights for {levels} deep-supervision outputs.")
        return super().get_weights(levels)

    def forward(self, input: Union[torch.Tensor, Sequence[torch.Tensor]], target: torch.Tensor) -> torch.Tensor:
        """Compute the (weighted) loss of one output or a list/tuple of side outputs.

        Args:
            input: tensor ``(B, C, H, W)`` or a non-empty list/tuple of them.
            target: binary mask ``(B, C, H, W)`` at full resolution.

        Returns:
            Scalar loss.
        """
        if isinstance(input, (list, tuple)) and len(input) == 0:
            raise ValueError("empty list of deep-supervision outputs.")
        return super().forward(input, target.float())
