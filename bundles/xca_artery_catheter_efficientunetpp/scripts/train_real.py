"""Fine-tune the flagship EfficientUNet++ on real angiograms (vessel masks, no catheter) + synthetic phantoms.

The recipe behind the shipped ``models/model.pt`` (see ``docs/README.md``):

- data: real ``{n}.png`` / ``{n}_gt.png`` pairs of one folder, minus the held-back ids (``--holdout``), mixed
  half and half with freshly generated phantoms (:class:`monai_angio.data.mixed.MixedAngioDataset`: the same
  field-of-view detection and normalisation as the bundle's ``inference.json``, random zoom, rotation, crop,
  gamma, noise, blur);
- loss: :class:`monai_angio.losses.PartialLabelLoss` (real "vessel" = artery, real "not vessel" = background
  *or* catheter; thin synthetic branches unknown);
- the shared recipe of :mod:`monai_angio.bundle.training`: MONAI ``SupervisedTrainer`` with AdamW and a cosine
  schedule, 2-core CPU friendly (256 px crops), checkpoints every epoch into ``--out`` (never over the shipped
  weights), resumable with ``--resume``.

Example (the command that produced the shipped weights is in the bundle README)::

    python bundles/xca_artery_catheter_efficientunetpp/scripts/train_real.py \
        --real ../shared/real/cimat_train --n-holdout 10 --holdout-seed 0 --out runs/real --cathlab
"""

from __future__ import annotations

import sys
from pathlib import Path

from monai_angio.bundle.training import recipe_parser, run_recipe
from monai_angio.losses import PartialLabelLoss
from monai_angio.networks import EfficientUNetPlusPlus

BUNDLE = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = recipe_parser(__doc__.split("\n\n")[0], default_init=str(BUNDLE / "models" / "model.pt"))
    p.add_argument("--focal-gamma", type=float, default=2.0, help="focal exponent of PartialLabelLoss (0 = CE)")
    p.add_argument(
        "--cldice", type=float, default=0.0, help="weight of the masked soft clDice on the artery channel (0 = off)"
    )
    p.add_argument("--cldice-iters", type=int, default=10, help="soft-skeleton iterations of the clDice term")
    args = p.parse_args(argv)
    net = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=3, backbone="efficientnet-b0")
    loss = PartialLabelLoss(
        gamma=args.focal_gamma, k=0.75, lambda_cldice=args.cldice, cldice_iters=args.cldice_iters
    )
    run_recipe(args, net, loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
