"""Train the major-vessel U-Net bundle (DenseNet-121 encoder) on real angiograms + synthetic phantoms.

The seed's choices are kept: a U-Net with a DenseNet-121 encoder (``--backbone resnet101`` for the other option),
two softmax classes (background, major vessel), MONAI's ``GeneralizedDiceLoss`` and a min/max intensity
normalisation, here the robust one of the bundles' ``inference.json`` (0.5 / 99.5 percentiles inside the field of
view, :class:`monai_angio.transforms.FOVNormalized`). The encoder starts from random weights (nothing is
downloaded; the paper started from ImageNet).

Targets come from the shared recipe (:mod:`monai_angio.bundle.training`) in coded form and go through
:class:`monai_angio.losses.CodedBinaryLoss`: real vessel masks are vessel / not vessel; in phantoms the major
arteries (>= 2 mm at the origin) are the vessel class, background and catheter are not, thin branches and padding
are left out.

Example (the command behind the shipped weights is in ``docs/README.md``)::

    python bundles/xca_major_vessel_unet/scripts/train_real.py --real ../shared/real/cimat_train \
        --holdout 2,3,4,5,12,19,24,25,28,35 --out runs/major --cathlab
"""

from __future__ import annotations

import sys

from monai.losses import GeneralizedDiceLoss

from monai_angio.bundle.training import recipe_parser, run_recipe
from monai_angio.losses import CodedBinaryLoss
from monai_angio.networks import MajorVesselUNet


def main(argv=None) -> int:
    p = recipe_parser(__doc__.split("\n\n")[0], epochs=8, iters=60, batch=4, crop=256, lr=1e-3)
    p.add_argument("--backbone", default="densenet121", choices=("densenet121", "resnet101"))
    args = p.parse_args(argv)
    net = MajorVesselUNet(backbone=args.backbone, in_channels=1, out_channels=2)
    loss = CodedBinaryLoss(GeneralizedDiceLoss(to_onehot_y=True, softmax=True, batch=True))
    run_recipe(args, net, loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
