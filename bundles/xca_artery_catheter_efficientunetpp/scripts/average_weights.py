"""Average the weights of fine-tunes that start from the same model (a "model soup") into one ``model.pt``.

The shipped stage-14 weights are the uniform average of four 800-iteration fine-tunes of stage 12 (see
``docs/README.md``)::

    python bundles/xca_artery_catheter_efficientunetpp/scripts/average_weights.py \\
        runs/r14/model.pt runs/r15/model.pt runs/r16/model.pt runs/r17/model.pt --out runs/soup/model.pt

The output holds CPU float32 tensors; it is never written over an existing file unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from monai_angio.bundle.runner import load_state_dict
from monai_angio.bundle.training import average_state_dicts
from monai_angio.utils import atomic_path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", help="model.pt files of fine-tunes from the same initial weights")
    p.add_argument("--out", required=True, help="where to write the averaged model.pt")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        print(f"{out}: exists; refusing to overwrite (use --overwrite)", file=sys.stderr)
        return 1
    if any(Path(w).resolve() == out.resolve() for w in args.weights):
        print(f"{out}: is one of the inputs; write the average elsewhere", file=sys.stderr)
        return 1
    states = []
    for w in args.weights:
        states.append(load_state_dict(w))
        print(f"read {w} ({len(states[-1])} tensors)", flush=True)
    avg = average_state_dicts(states)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, overwrite=args.overwrite) as tmp:
        torch.save(avg, str(tmp))
    print(f"wrote the average of {len(states)} state dicts -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
