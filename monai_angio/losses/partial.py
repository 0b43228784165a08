"""A loss for partially labelled angiograms: real vessel masks know artery vs not-artery, never the catheter.

Public real angiography datasets label vessels only. Treating their unlabelled pixels as background would teach a
3-class network (background, artery, catheter) that the catheter in a real image is background. Instead every
pixel carries the *set* of classes it may belong to, coded in the target map:

=====  =================================  ==========================================
value  meaning                            allowed classes
=====  =================================  ==========================================
0      background                         {background}
1      artery                             {artery}
2      catheter                           {catheter}
3      not artery (real mask's zero)      {background, catheter}
4      unknown (e.g. thin synthetic        {background, artery, catheter}
       branch, outside the FOV)
5      branch (a phantom's thin branch     {background, artery, catheter}: unknown
       below the 2 mm criterion)
6      vessel (a real mask's one)          {artery}
7      device (a phantom's guidewire,      {background}
       wire, clip or lead: background
       that looks like a vessel)
=====  =================================  ==========================================

Values 5 and 6 serve the **4-class** variant (``num_classes=4``: background, major artery, catheter, branch),
which keeps the bundle's clinical class -- an artery at least 2 mm wide at its origin -- apart from the smaller
branches that real experts also draw. There every pixel's set is:

=====  ==========================================  ==============================================
value  allowed classes (4-class)                    membership known for
=====  ==========================================  ==============================================
0-2    that class                                   every class
3      {background, catheter}                       major artery, branch (the pixel is neither)
4      every class                                  none
5      {branch}                                     every class
6      {major artery, branch}: a real vessel        background, catheter (the pixel is neither)
7      {background}                                 every class
=====  ==========================================  ==============================================

A real vessel pixel thus teaches "vessel" (the sum of both artery classes) and never which of the two it is; only
phantoms, whose tree records every branch's width at its origin, teach the split. For a 3-class network code 5
means unknown and 6 means artery, so the 3-class recipe reads either coding.

The loss is the sum of

- a **marginal focal cross-entropy**: ``-(1 - q)^gamma log q`` with ``q = sum of p_c over the allowed classes``
  (for a fully labelled pixel, ordinary focal CE; for a "not artery" pixel, the network may put its mass on
  background or catheter freely);
- a **masked soft Dice** per class, each computed only over pixels whose membership in that class is known
  (artery membership is known for values 0-3; background and catheter membership only for 0-2), averaged over
  the classes that have known members in the batch, and penalised as in pGDL: ``L / (1 + k (1 - L))``.

The label map of a 4-class network merges both artery classes into label 1 (what real experts draw), and the
major-artery map is the part of it where the major class outweighs the branch class
(:class:`~monai_angio.transforms.ArteryBranchLabeld`).

Value 7 is background, like 0, for a pixel that a dark non-artery device covers (guidewires, sternal wires, clips,
ECG and pacemaker leads of the cath-lab phantoms). It exists so that those few, hard pixels can be weighted on their
own (``code_weights={DEVICE: w}``): a thin dark line is what a vessel looks like, and without the weight the many
real vessel pixels outvote them. Without weights it is scored exactly as 0.

For fully labelled batches (values 0-2 only) this is focal CE + a penalised mean soft Dice, the flagship's pGDL +
focal recipe with plain instead of generalized class weights.

Optionally (``lambda_cldice > 0``) a **masked soft clDice** on the artery channel is added (Shit et al., 2021,
"clDice"): topology precision ``|S(P) . G| / |S(P)|`` and sensitivity ``|S(G) . P| / |S(G)|`` with MONAI's soft
skeleton ``S``, every sum taken over the pixels whose artery membership is known. A missed thin branch costs its
whole centreline length, not just its few pixels of area, which plain Dice hardly sees.
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch
from monai.losses.cldice import soft_skel
from torch.nn.modules.loss import _Loss

from monai_angio.losses.pgdl import penalize_gdl

__all__ = [
    "NOT_ARTERY",
    "UNKNOWN",
    "BRANCH",
    "VESSEL",
    "DEVICE",
    "PartialLabelLoss",
    "CodedBinaryLoss",
    "allowed_classes",
    "vessel_truth",
    "masked_soft_cldice",
]

NOT_ARTERY = 3
UNKNOWN = 4
BRANCH = 5
VESSEL = 6
DEVICE = 7

# allowed[target value, class] and known[target value, class] (is the pixel's membership in that class known?),
# by number of classes (module tables)
_ALLOWED = {
    3: torch.tensor(
        [
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0],
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [0.0, 1.0, 0.0],
            [1.0, 0.0, 0.0],
        ]
    ),
    4: torch.tensor(
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [1.0, 0.0, 1.0, 0.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 0.0],
        ]
    ),
}
_KNOWN = {
    3: torch.tensor(
        [
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
        ]
    ),
    4: torch.tensor(
        [
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0],
            [0.0, 1.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 0.0, 1.0, 0.0],
            [1.0, 1.0, 1.0, 1.0],
        ]
    ),
}


def allowed_classes(target: torch.Tensor, num_classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, 1, H, W)`` coded target -> ``(allowed, known)`` ``(B, C, H, W)`` float masks (the module tables).

    Args:
        target: coded target, values 0..7.
        num_classes: 3 (background, artery, catheter) or 4 (background, major artery, catheter, branch).
    """
    if num_classes not in _ALLOWED:
        raise ValueError(f"num_classes must be 3 or 4, got {num_classes}")
    t = target.long()
    if t.ndim >= 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.numel() and (int(t.min()) < 0 or int(t.max()) > DEVICE):
        raise ValueError(f"partial-label target values must be in 0..{DEVICE}, got {int(t.min())}..{int(t.max())}")
    allowed = _ALLOWED[num_classes].to(target.device)[t].movedim(-1, 1)
    known = _KNOWN[num_classes].to(target.device)[t].movedim(-1, 1)
    return allowed, known


def vessel_truth(target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, 1, H, W)`` coded target -> ``(vessel, known)`` float masks: any artery (1, 5, 6), known unless 4."""
    t = target.long()
    vessel = (t == 1) | (t == BRANCH) | (t == VESSEL)
    return vessel.float(), (t != UNKNOWN).float()


def masked_soft_cldice(
    prob: torch.Tensor, truth: torch.Tensor, known: torch.Tensor, iters: int = 10, smooth: float = 1.0
) -> torch.Tensor:
    """``1 - clDice`` of a soft prediction against a binary truth, counted only where ``known`` is 1.

    Args:
        prob: ``(B, 1, H, W)`` probabilities of the structure.
        truth: ``(B, 1, H, W)`` binary truth (0 where unknown).
        known: ``(B, 1, H, W)`` 1 where the truth is known, 0 where it is not (those pixels count nowhere).
        iters: soft-skeleton iterations (MONAI ``soft_skel``): at least the largest vessel radius in pixels.
        smooth: added to every numerator and denominator, as in MONAI's ``SoftclDiceLoss``.

    Returns:
        a scalar in [0, 1]: 0 when the skeletons of prediction and truth lie inside each other.
    """
    skel_p = soft_skel(prob, iters)
    skel_t = soft_skel(truth, iters)
    tprec = ((skel_p * truth * known).sum() + smooth) / ((skel_p * known).sum() + smooth)
    tsens = ((skel_t * prob * known).sum() + smooth) / ((skel_t * known).sum() + smooth)
    return 1.0 - 2.0 * tprec * tsens / (tprec + tsens)


class PartialLabelLoss(_Loss):
    """Marginal focal CE + masked, penalised soft Dice for 3- or 4-class artery/catheter networks (module docstring).

    Args:
        gamma: focal exponent (0 = cross-entropy).
        k: pGDL penalty on the Dice term (0 = plain soft Dice).
        lambda_dice: weight of the Dice term.
        lambda_ce: weight of the focal term.
        smooth: Dice smoothing.
        lambda_cldice: weight of the masked soft clDice on the artery channel (0 = off, the default); with 4 classes
            on the vessel probability (major artery + branch) against every artery pixel (codes 1, 5, 6).
        cldice_iters: soft-skeleton iterations of that term (at least the widest vessel radius in pixels).
        num_classes: 3 (background, artery, catheter) or 4 (background, major artery, catheter, branch).
        code_weights: optional weight of each target code (0-7) in the focal term, e.g. ``{5: 4.0}`` to weigh the
            few thin-branch pixels of a phantom as much as its many major-artery pixels, or ``{7: 5.0}`` the pixels
            of dark devices that look like vessels; the term is then the mean of the weighted per-pixel losses
            (unlisted codes weigh 1).
    """

    def __init__(
        self,
        gamma: float = 2.0,
        k: float = 0.75,
        lambda_dice: float = 1.0,
        lambda_ce: float = 1.0,
        smooth: float = 1e-5,
        lambda_cldice: float = 0.0,
        cldice_iters: int = 10,
        num_classes: int = 3,
        code_weights: Optional[Mapping[int, float]] = None,
    ) -> None:
        super().__init__()
        if num_classes not in _ALLOWED:
            raise ValueError(f"num_classes must be 3 or 4, got {num_classes}")
        self.num_classes = int(num_classes)
        weights = torch.ones(DEVICE + 1)
        for code, w in (code_weights or {}).items():
            if not 0 <= int(code) <= DEVICE or float(w) < 0:
                raise ValueError(f"code_weights: code {code} must be in 0..{DEVICE} and its weight >= 0, got {w}")
            weights[int(code)] = float(w)
        # None without weights: the plain mean, no per-pixel lookup on the training hot path
        self.register_buffer("code_weights", weights if code_weights else None, persistent=False)
        self.gamma, self.k, self.lambda_dice, self.lambda_ce, self.smooth = gamma, k, lambda_dice, lambda_ce, smooth
        self.lambda_cldice, self.cldice_iters = float(lambda_cldice), int(cldice_iters)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # noqa: A002 - torch's name
        """Loss of ``(B, C, H, W)`` logits against a ``(B, 1, H, W)`` coded target."""
        if input.shape[1] != self.num_classes:
            raise ValueError(
                f"PartialLabelLoss expects {self.num_classes}-class logits, got {input.shape[1]} channels"
            )
        allowed, known = allowed_classes(target, self.num_classes)
        logp = torch.log_softmax(input.float(), dim=1)
        p = logp.exp()
        # log of the summed probability of the allowed classes, computed stably
        logq = torch.logsumexp(logp.masked_fill(allowed == 0, float("-inf")), dim=1)
        q = logq.exp()
        focal = -((1.0 - q).clamp_min(0) ** self.gamma) * logq
        if self.code_weights is None:
            ce = focal.mean()
        else:
            t = target.long()[:, 0] if target.ndim == input.ndim else target.long()
            ce = (focal * self.code_weights.to(focal.device)[t]).mean()

        one_hot = allowed * known  # 1 where the pixel is known to be that class
        dims = (0, 2, 3)
        inter = (p * one_hot).sum(dims)
        denom = (p * known).sum(dims) + one_hot.sum(dims)
        present = one_hot.sum(dims) > 0  # classes with known members in the batch
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        dice_loss = (1.0 - dice[present]).mean() if present.any() else input.sum() * 0.0
        dice_loss = penalize_gdl(dice_loss, self.k)
        loss = self.lambda_ce * ce + self.lambda_dice * dice_loss
        if self.lambda_cldice > 0 and self.num_classes == 4:
            vessel, vknown = vessel_truth(target)
            cl = masked_soft_cldice(p[:, 1:2] + p[:, 3:4], vessel * vknown, vknown, self.cldice_iters)
            loss = loss + self.lambda_cldice * cl
        elif self.lambda_cldice > 0:
            cl = masked_soft_cldice(p[:, 1:2], one_hot[:, 1:2], known[:, 1:2], self.cldice_iters)
            loss = loss + self.lambda_cldice * cl
        return loss


class CodedBinaryLoss(_Loss):
    """A binary (one-channel) vessel loss on the coded targets of the table above.

    Binary vessel networks (UNet 3+, CE-Net, major-vessel U-Net) learn "vessel" = artery (1, or a real vessel 6);
    background (0), catheter (2), "not artery" (3) and devices (7) are "not vessel"; unknown pixels (4) and phantom
    branches (5) are left out. Leaving out works through
    any wrapped loss unchanged: an unknown pixel's logit is replaced by ``ignore_logit`` (a confident "no") and its
    target by 0, so it adds (almost) nothing to BCE or soft Dice and passes no gradient. Side outputs of deep
    supervision (a list, full resolution first) get the unknown mask resized (nearest) to their size, as MONAI's
    ``DeepSupervisionLoss`` resizes the target.

    One logit channel is a sigmoid output (target: the 0/1 map). Two channels are a background / vessel softmax
    (target: the 0/1 class-index map, e.g. for MONAI's ``GeneralizedDiceLoss(to_onehot_y=True, softmax=True)``);
    unknown pixels get the logits ``(0, ignore_logit)``, a confident background, which leaves the vessel class
    untouched (a background-including Dice counts them as a few extra, correctly predicted background pixels).

    Args:
        loss: the binary loss, called as ``loss(input, binary_target)``; ``input`` is a tensor or, for deep
            supervision, the list of side outputs (e.g. :class:`~monai_angio.losses.DeepSupervisedHybridLoss`).
        ignore_logit: logit put on unknown pixels (``sigmoid(-30)`` is ~1e-13).
    """

    def __init__(self, loss: torch.nn.Module, ignore_logit: float = -30.0) -> None:
        super().__init__()
        self.loss = loss
        self.ignore_logit = float(ignore_logit)

    @staticmethod
    def split(target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coded target ``(B, 1, ...)`` -> (binary vessel target, known mask), both float."""
        t = target.long()
        return ((t == 1) | (t == VESSEL)).float(), ((t != UNKNOWN) & (t != BRANCH)).float()

    def _masked(self, y: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        if known.shape[2:] != y.shape[2:]:
            known = torch.nn.functional.interpolate(known, size=y.shape[2:], mode="nearest")
        if y.shape[1] == 1:
            fill = torch.full_like(y, self.ignore_logit)
        elif y.shape[1] == 2:
            fill = torch.zeros_like(y)
            fill[:, 1] = self.ignore_logit
        else:
            raise ValueError(f"CodedBinaryLoss expects 1 (sigmoid) or 2 (softmax) logit channels, got {y.shape[1]}")
        return torch.where(known > 0, y, fill)

    def forward(self, input, target: torch.Tensor) -> torch.Tensor:  # noqa: A002 - torch's name
        """Loss of logits ``input`` (tensor or list of side outputs) against a coded target ``(B, 1, ...)``."""
        if target.shape[1] != 1:
            raise ValueError(f"CodedBinaryLoss expects a (B, 1, ...) coded target, got {tuple(target.shape)}")
        vessel, known = self.split(target)
        vessel = vessel * known
        if isinstance(input, (list, tuple)):
            return self.loss([self._masked(y, known) for y in input], vessel)
        return self.loss(self._masked(input, known), vessel)
