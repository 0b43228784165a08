"""MONAI decathlon-style datalists for the synthetic data sets.

``{"training": [...], "validation": [...], "test": [...]}`` where every entry is a dict with file paths relative to
the datalist file (``image``, ``label``, ``label_vessel``, ``ground_truth``, ``dicom``) plus scalars such as
``spacing_mm``, ``catheter_french``, ``stenosis_rc`` and, for cine entries, ``frame``. Entries of the same case
(all frames of a cine) always fall in the same split.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_write

__all__ = ["PATH_KEYS", "split_cases", "make_datalist"]

#: entry keys holding file paths (made relative to the datalist folder).
PATH_KEYS = ("image", "label", "label_vessel", "ground_truth", "dicom")


def split_cases(
    case_ids: Sequence[str], val_fraction: float = 0.2, test_fraction: float = 0.1, seed: int = 0
) -> Dict[str, List[str]]:
    """Shuffle case ids (seeded) and split them into training / validation / test.

    Counts are ``round(fraction * n)``; at least one case stays in training when ``n >= 1``.
    """
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise AngioInputError(f"invalid split fractions val={val_fraction}, test={test_fraction}")
    ids = list(dict.fromkeys(case_ids))
    order = np.random.default_rng(seed).permutation(len(ids))
    ids = [ids[i] for i in order]
    n = len(ids)
    n_test = int(round(test_fraction * n))
    n_val = int(round(val_fraction * n))
    while n > 0 and n_test + n_val >= n:
        if n_val >= n_test and n_val > 0:
            n_val -= 1
        else:
            n_test -= 1
    return {
        "training": sorted(ids[n_test + n_val :]),
        "validation": sorted(ids[n_test : n_test + n_val]),
        "test": sorted(ids[:n_test]),
    }


def _relative(value: str, root: Path) -> str:
    p = Path(value)
    if not p.is_absolute():
        return p.as_posix()
    return Path(os.path.relpath(p, root)).as_posix()


def make_datalist(
    entries: Sequence[Dict[str, Any]],
    datalist_path: Union[str, os.PathLike, None] = None,
    val_fraction: float = 0.2,
    test_fraction: float = 0.1,
    seed: int = 0,
    case_key: str = "case",
    overwrite: bool = False,
    check_exists: bool = True,
    split: Optional[Dict[str, Sequence[str]]] = None,
) -> Dict[str, List[Dict[str, Any]]]:
    """Build (and optionally write) a decathlon-style datalist, splitting by case.

    Args:
        entries: one dict per training sample. Path values (keys in :data:`PATH_KEYS`) may be absolute or relative
            to the datalist folder; absolute ones are made relative. Entries sharing ``entry[case_key]`` (e.g. the
            frames of one cine) go to the same split; without it the image path identifies the case.
        datalist_path: where to write the JSON (atomic); ``None`` only returns the dict.
        val_fraction: fraction of cases for validation.
        test_fraction: fraction of cases for test.
        seed: split seed.
        case_key: key grouping entries into cases.
        overwrite: replace an existing datalist.
        check_exists: raise ``AngioInputError`` if a referenced file does not exist (needs ``datalist_path``).
        split: a precomputed ``{"training": [case ids], ...}`` (e.g. from :func:`split_cases`) so that several
            datalists of one data set (stills, cine frames) share their splits; cases absent from it go to training.

    Returns:
        ``{"training": [...], "validation": [...], "test": [...]}``.
    """
    root = Path(datalist_path).parent.resolve() if datalist_path is not None else Path.cwd()
    grouped: "OrderedDict[str, List[Dict[str, Any]]]" = OrderedDict()
    for e in entries:
        if "image" not in e:
            raise AngioInputError(f"datalist entry without 'image': {e}", datalist_path)
        item = dict(e)
        for k in PATH_KEYS:
            if isinstance(item.get(k), (str, os.PathLike)):
                item[k] = _relative(os.fspath(item[k]), root)
                if check_exists and datalist_path is not None and not (root / item[k]).exists():
                    raise AngioInputError(f"datalist entry refers to a missing file {item[k]!r}", datalist_path)
        cid = str(item.get(case_key, item["image"]))
        grouped.setdefault(cid, []).append(item)
    if split is None:
        split = split_cases(list(grouped), val_fraction, test_fraction, seed)
    assigned = {cid: name for name, ids in split.items() for cid in ids}
    out: Dict[str, List[Dict[str, Any]]] = {"training": [], "validation": [], "test": []}
    for cid, items in grouped.items():
        out.setdefault(assigned.get(cid, "training"), []).extend(items)
    if datalist_path is not None:
        with atomic_write(datalist_path, "w", overwrite=overwrite, encoding="utf-8") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    return out
