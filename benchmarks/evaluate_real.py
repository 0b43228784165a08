"""Evaluate a segmentation bundle on real angiograms with binary vessel masks, next to a Frangi baseline.

The same command as ``monai-angio evaluate`` (:mod:`monai_angio.apps.evaluate`; engine
:mod:`monai_angio.bundle.evaluation`), kept here so the commands in the READMEs keep working. Run by hand (not a
timed test), e.g. on the CIMAT folder (``{n}.png`` + ``{n}_gt.png``)::

    OMP_NUM_THREADS=1 python3 benchmarks/evaluate_real.py /data/cimat_train --out /tmp/eval_shipped
    python3 benchmarks/evaluate_real.py /data/cimat_train --out /tmp/eval_m1 --weights runs/m1/models/model.pt \\
        --n-holdout 10 --holdout-seed 0          # only the 10 images held back by seed 0 (split_datalist)
    python3 benchmarks/evaluate_real.py /data/DCA1 --layout dca1 --out /tmp/eval_dca1 --ids 1,2,3
    python3 benchmarks/evaluate_real.py /data/cimat_train --out /tmp/eval_512 --zoom 1.7067   # 300 px data at 512 px

Outputs, in ``--out`` (keep it outside the repository for real data; nothing is overwritten without
``--overwrite``): ``per_image.csv``, ``summary.json``, ``contact_sheet.png`` and the printed summary table.
"""

from __future__ import annotations

import sys

from monai_angio.bundle import evaluation as _engine
from monai_angio.bundle.evaluation import *  # noqa: F401,F403 - the engine's public names, as before the move
from monai_angio.apps import evaluate as _app  # noqa: I001 - after the engine: its evaluate_real draws the sheet
from monai_angio.apps.evaluate import add_arguments, evaluate_real, main, run, save_contact_sheet

__all__ = [n for n in _engine.__all__ if n != "evaluate_real"] + [n for n in _app.__all__ if n != "register"]

if __name__ == "__main__":
    sys.exit(main())
