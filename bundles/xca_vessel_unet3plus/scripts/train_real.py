"""Train the UNet 3+ vessel bundle on real angiograms (binary vessel masks) + synthetic phantoms.

The seed paper's choices are kept: full-scale deep supervision (all five side outputs, MONAI
``DeepSupervisionLoss`` weights ``"exp"``), the hybrid BCE + Dice loss on every side output, and the Otsu
threshold at inference (``configs/inference.json``). What changes for a 2-core CPU: the lite width
(:meth:`monai_angio.networks.UNet3Plus.lite`, ``filters=(16, 32, 64, 128, 256)``, ``cat_channels=16``, 1.7 M
parameters instead of 27 M) and crops instead of whole 512 px images.

Targets come from the shared recipe (:mod:`monai_angio.bundle.training`) in its coded form and go through
:class:`monai_angio.losses.CodedBinaryLoss`: real vessel masks are vessel / not vessel; in phantoms the
major arteries are vessel, background and catheter are not, thin drawn branches and padding are left out.

Example (the command behind the shipped weights is in ``docs/README.md``)::

    python bundles/xca_vessel_unet3plus/scripts/train_real.py --real ../shared/real/cimat_train \
        --holdout 2,3,4,5,12,19,24,25,28,35 --out runs/unet3p --cathlab
"""

from __future__ import annotations

import sys

from monai_angio.bundle.training import recipe_parser, run_recipe
from monai_angio.losses import CodedBinaryLoss, DeepSupervisedHybridLoss
from monai_angio.networks import UNet3Plus


def main(argv=None) -> int:
    args = recipe_parser(__doc__.split("\n\n")[0], epochs=8, iters=60, batch=4, crop=224, lr=2e-3).parse_args(argv)
    net = UNet3Plus.lite(spatial_dims=2, in_channels=1, out_channels=1, deep_supervision=True)
    loss = CodedBinaryLoss(DeepSupervisedHybridLoss(weight_mode="exp", lambda_bce=1.0, lambda_dice=1.0))
    run_recipe(args, net, loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
