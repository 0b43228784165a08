"""Losses for angiography segmentation, built on MONAI losses.

- :class:`PenalizedGeneralizedDiceLoss` -- ``GDL / (1 + k (1 - GDL))`` (MONAI ``GeneralizedDiceLoss`` inside).
- :class:`PGDLFocalLoss` -- pGDL + MONAI ``FocalLoss`` (artery/catheter, EfficientUNet++).
- :class:`HybridBCEDiceLoss` -- BCE + Dice for binary vessel masks.
- :class:`PartialLabelLoss` -- marginal focal CE + masked Dice for real masks without a catheter class.
- :class:`CodedBinaryLoss` -- any binary loss on the coded partial targets (vessel vs not, unknown left out).
- :class:`DeepSupervisedHybridLoss` -- MONAI ``DeepSupervisionLoss`` around the hybrid loss (UNet 3+ side outputs).
"""

from .partial import (
    BRANCH,
    DEVICE,
    NOT_ARTERY,
    UNKNOWN,
    VESSEL,
    CodedBinaryLoss,
    PartialLabelLoss,
    allowed_classes,
    masked_soft_cldice,
    vessel_truth,
)
from .hybrid import DeepSupervisedHybridLoss, HybridBCEDiceLoss
from .pgdl import PenalizedGeneralizedDiceLoss, penalize_gdl
from .pgdl_focal import PGDLFocalLoss

__all__ = [
    "PenalizedGeneralizedDiceLoss",
    "penalize_gdl",
    "PGDLFocalLoss",
    "HybridBCEDiceLoss",
    "DeepSupervisedHybridLoss",
    "PartialLabelLoss",
    "CodedBinaryLoss",
    "allowed_classes",
    "masked_soft_cldice",
    "NOT_ARTERY",
    "UNKNOWN",
    "BRANCH",
    "VESSEL",
    "DEVICE",
    "vessel_truth",
]
