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

Experimental (not shipped; bundle README, "Major arteries apart from branches"): ``--branch-class`` trains 4 classes
(background, major artery, catheter, branch) from a 3-class ``--init`` whose artery channel is split in two;
``--split-head`` trains only an :class:`~monai_angio.networks.ArterySplitNetwork` head on the frozen ``--init``;
``--device-weight W`` weighs the background under a phantom's dark devices (code 7) W times in the focal term
("Wires and leads called artery").

Example (the command that produced the shipped weights is in the bundle README)::

    python bundles/xca_artery_catheter_efficientunetpp/scripts/train_real.py \
        --real ../shared/real/cimat_train --n-holdout 10 --holdout-seed 0 --out runs/real --cathlab
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, Optional

import torch

from monai_angio.bundle.runner import load_state_dict
from monai_angio.bundle.training import load_initial_weights, recipe_parser, run_recipe
from monai_angio.losses import BRANCH, DEVICE, PartialLabelLoss
from monai_angio.networks import ArterySplitNetwork, EfficientUNetPlusPlus, split_class_channel

BUNDLE = Path(__file__).resolve().parents[1]
HEAD = "segmentation_head.0"  # the network's output layer, split by --branch-class


def main(argv=None) -> int:
    p = recipe_parser(__doc__.split("\n\n")[0], default_init=str(BUNDLE / "models" / "model.pt"))
    p.add_argument("--focal-gamma", type=float, default=2.0, help="focal exponent of PartialLabelLoss (0 = CE)")
    p.add_argument(
        "--cldice", type=float, default=0.0, help="weight of the masked soft clDice on the artery channel (0 = off)"
    )
    p.add_argument("--cldice-iters", type=int, default=10, help="soft-skeleton iterations of the clDice term")
    p.add_argument(
        "--branch-class",
        action="store_true",
        help="4 classes: background, major artery (>= 2 mm at origin), catheter, branch; phantoms teach the split, "
        "real masks only 'vessel'. A 3-class --init gets its artery channel split in two (split_class_channel)",
    )
    p.add_argument(
        "--branch-weight",
        type=float,
        default=1.0,
        help="with --branch-class: weight of phantom thin-branch pixels in the focal term (they are few)",
    )
    p.add_argument(
        "--device-weight",
        type=float,
        default=None,
        help="weight of the background pixels under a phantom's dark devices (guidewires, sternal wires, clips, "
        "leads: code 7) in the focal term; unset: they are plain background, as in stages 1-16",
    )
    p.add_argument(
        "--split-head",
        action="store_true",
        help="train only a major-artery / branch head (ArterySplitNetwork) on the frozen 3-class --init network "
        "(implies --branch-class; real images carry no split, so --real-fraction 0 is the sensible choice)",
    )
    args = p.parse_args(argv)
    args.branch_class = bool(args.branch_class or args.split_head)
    classes = 4 if args.branch_class else 3
    if args.split_head:
        base = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=3, backbone="efficientnet-b0")
        if args.init and not args.resume:
            load_initial_weights(base, args.init)
            print(f"frozen base from {args.init}", flush=True)
        args.init = ""
        net = ArterySplitNetwork(base, freeze_base=True)
    else:
        net = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=classes, backbone="efficientnet-b0")
    loss = PartialLabelLoss(
        gamma=args.focal_gamma,
        k=0.75,
        lambda_cldice=args.cldice,
        cldice_iters=args.cldice_iters,
        num_classes=classes,
        code_weights=_code_weights(args),
    )
    if args.branch_class and not args.split_head and args.init and not args.resume:
        args.init = _four_class_init(args.init, args.out)
    run_recipe(args, net, loss)
    return 0


def _code_weights(args) -> Optional[Dict[int, float]]:
    """The focal term's per-code weights asked for by ``--branch-weight`` / ``--device-weight`` (None: none)."""
    weights = {}
    if args.branch_class:
        weights[BRANCH] = args.branch_weight
    if args.device_weight is not None:
        weights[DEVICE] = args.device_weight
    return weights or None


def _four_class_init(path: str, out: str) -> str:
    """A 3-class ``--init`` checkpoint with the artery channel split into major artery + branch, saved in ``out``."""
    sd = load_state_dict(path)
    if sd[HEAD + ".weight"].shape[0] == 4:
        return path
    target = Path(out) / "init_4class.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(split_class_channel(sd, HEAD + ".weight", HEAD + ".bias", channel=1), target)
    return str(target)


if __name__ == "__main__":
    sys.exit(main())
