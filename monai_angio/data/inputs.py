"""Input discovery for batch jobs: which files to read, what their outputs are called, which frames to take.

One place for it: the ``segment`` CLI, the bundle hooks (``python -m monai.bundle run --input ...``) and the
benchmarks expand their inputs here. DICOM detection itself lives with the reader
(:func:`monai_angio.transforms.readers.is_dicom_path`).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

from monai_angio.errors import AngioInputError
from monai_angio.transforms.readers import SUPPORTED_EXTENSIONS, is_dicom_path

__all__ = [
    "SUPPORTED_SUFFIXES",
    "OUTPUT_ENDINGS",
    "is_dicom_input",
    "is_supported",
    "file_stem",
    "expand_inputs",
    "matches_patterns",
    "output_paths",
    "parse_frames",
]

PathLike = Union[str, os.PathLike]

#: File name endings that batch jobs accept (besides extension-less DICOM files).
SUPPORTED_SUFFIXES = SUPPORTED_EXTENSIONS


def is_dicom_input(path: PathLike) -> bool:
    """Whether ``path`` is a DICOM file (by extension, or by the ``DICM`` preamble for extension-less names)."""
    return is_dicom_path(path)


def is_supported(path: Path) -> bool:
    """Whether ``segment`` can read the file (by extension; extension-less DICOM files too)."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    if any(name.endswith(s) for s in SUPPORTED_SUFFIXES):
        return True
    return "." not in name and is_dicom_path(path)


def file_stem(path: Path) -> str:
    """File name without its extension (``.nii.gz`` counts as one)."""
    name = path.name
    return name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else path.stem


OUTPUT_ENDINGS = ("_labels.nii.gz", "_overlay.png", "_overlay.gif", "_seg.dcm", "_summary.json")


def matches_patterns(relative: PathLike, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> bool:
    """Whether a file found in a folder passes ``--include`` / ``--exclude`` glob patterns.

    Each pattern (:mod:`fnmatch` syntax, case-sensitive; ``*`` also crosses ``/``) is matched against the file
    name and against its path relative to the folder that was given (``/``-separated), e.g. ``*_label.png`` or
    ``labels/*``. A file is kept when it matches at least one ``include`` pattern (or there are none) and no
    ``exclude`` pattern.

    Args:
        relative: the file's path relative to the given folder.
        include: patterns a file must match (any of them); empty: every file.
        exclude: patterns that drop a file (any of them).
    """
    rel = Path(relative).as_posix()
    names = (Path(rel).name, rel)

    def _hit(patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(n, pat) for pat in patterns for n in names)

    return (not include or _hit(include)) and not _hit(exclude)


def expand_inputs(
    paths: Iterable[PathLike],
    exclude: Optional[PathLike] = None,
    include_patterns: Sequence[str] = (),
    exclude_patterns: Sequence[str] = (),
) -> List[Path]:
    """Expand folders to the supported files they hold (recursively, sorted); keep files as given.

    So that a re-run does not segment its own outputs, a folder expansion never takes files from inside
    ``exclude`` (the output folder) when it is a sub-folder, and skips files named like ``segment`` outputs
    (``*_labels.nii.gz``, ``*_overlay.png``, ...) when the output folder is the input folder itself.
    Files given explicitly are always kept. ``include_patterns`` / ``exclude_patterns`` filter the files found
    in folders (:func:`matches_patterns`; e.g. ``exclude_patterns=["*_label.png", "masks/*"]`` so that
    ground-truth masks lying beside the images are not segmented).

    Args:
        paths: files and/or folders.
        exclude: the output folder.
        include_patterns: glob patterns; a file found in a folder is taken only if it matches one of them.
        exclude_patterns: glob patterns; a file found in a folder that matches one of them is skipped.

    Returns:
        Files, without duplicates, in the given order.
    """
    out: List[Path] = []
    seen = set()
    excl = _resolve(Path(exclude)) if exclude is not None else None
    for p in paths:
        p = Path(p)
        if _resolve(p) is None:  # a symlink loop: kept, so that the batch reports it and goes on
            found = [p]
        elif p.is_dir():
            found = []
            same = excl is not None and excl == _resolve(p)
            for f in sorted(p.rglob("*")):
                if not f.is_file() or not is_supported(f):
                    continue
                rf = _resolve(f)
                if rf is None:
                    continue
                if same and f.name.lower().endswith(OUTPUT_ENDINGS) and rf.parent == excl:
                    continue
                if excl is not None and not same and excl in rf.parents:
                    continue
                if not matches_patterns(f.relative_to(p), include_patterns, exclude_patterns):
                    continue
                found.append(f)
        else:
            found = [p]
        for f in found:
            key = str(_resolve(f) or f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def _resolve(path: Path) -> Optional[Path]:
    """``path.resolve()``, or None for a symlink loop (``RuntimeError`` / ``OSError`` from the resolver)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def output_paths(path: PathLike, out_dir: PathLike, stem: Optional[str] = None) -> Dict[str, Path]:
    """Output files for one input: keys ``labels``, ``major``, ``overlay``, ``gif``, ``seg``, ``summary``."""
    s = stem or file_stem(Path(path))
    d = Path(out_dir)
    return {
        "labels": d / f"{s}_labels.nii.gz",
        "major": d / f"{s}_major.nii.gz",
        "overlay": d / f"{s}_overlay.png",
        "gif": d / f"{s}_overlay.gif",
        "seg": d / f"{s}_seg.dcm",
        "summary": d / f"{s}_summary.json",
    }


def parse_frames(
    spec: Union[str, int, Sequence[int], None], num_frames: int, filename: Optional[str] = None
) -> List[int]:
    """Frame selection: ``"all"``/None, an index ``K``, or a list like ``"0,5,10-12"`` (0-based, inclusive).

    Raises:
        AngioInputError: an index outside ``[0, num_frames)`` or an unreadable spec.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return list(range(num_frames))
    if isinstance(spec, int):
        idx = [spec]
    elif isinstance(spec, str):
        idx = []
        try:
            for part in spec.split(","):
                part = part.strip()
                if "-" in part[1:]:
                    a, b = part.split("-", 1)
                    idx.extend(range(int(a), int(b) + 1))
                elif part:
                    idx.append(int(part))
        except ValueError:
            raise AngioInputError(f"cannot read frame selection {spec!r} (use 'all', K or e.g. '0,5,10-12')", filename)
    else:
        idx = [int(i) for i in spec]
    bad = [i for i in idx if not 0 <= i < num_frames]
    if bad or not idx:
        raise AngioInputError(f"frame(s) {bad or spec} requested but the input has {num_frames} frame(s)", filename)
    return sorted(dict.fromkeys(idx))
