"""``monai-angio segment``: run a segmentation bundle on angiograms and write labels, overlays and reports.

For every input file (DICOM XA cine or still, PNG/JPG/TIFF, MP4/AVI, NIfTI) this writes, into ``--out``:

- ``<stem>_labels.nii.gz``: the label map, uint8, x (the column) first as NIfTI and MONAI read it: ``(W, H, T)``
  on disk, ``pixdim = (col_mm, row_mm, frame_time_ms)`` ("Axis convention", ``docs/design.md``), so it overlays
  the input in NIfTI viewers and in MONAI; ``--nifti-row-first`` (deprecated) writes the ``(H, W, T)`` of
  monai-angio 0.1;
- ``<stem>_major.nii.gz``: only from a bundle run with its major-artery map on (the flagship's
  ``--set major_map=true``): the arteries at least 2 mm wide at their origin (1) on the label map's grid and axes;
- ``<stem>_overlay.png``: the labels over the image (artery red, catheter green) with a legend and the
  frame index; a contact sheet of a few frames for a cine;
- ``<stem>_overlay.gif``: the overlay over every frame, for cines;
- ``<stem>_seg.dcm``: a de-identified DICOM Segmentation when the input is DICOM (still or multi-frame cine,
  every SEG frame referencing its source frame; ``docs/dicom_output.md``);
- ``<stem>_summary.json``: file name, frames, classes, pixel counts, calibration (when the DICOM geometry
  allows), warnings, timings. It is written last: it is the completion record of the input.

The segmentation itself is the bundle's own ``inference.json`` (preprocessing, network, inferer,
postprocessing), run by :class:`monai_angio.bundle.BundleRunner`; this module only finds the inputs and writes
the outputs. A bad file is reported and skipped; the command exits with status 1 if any file failed. The
outputs of one input are written all or nothing: each file atomically (temporary name, then rename), the
summary last, and a failed input's written files are removed. An input whose outputs exist without their
summary (a run killed mid-file) is incomplete: a rerun replaces those leftovers without ``--overwrite``.

Privacy (``docs/privacy.md``): the DICOM SEG is de-identified unless ``keep_patient_data``; the summary holds
the input's file name, not its path, unless ``record_input_path``; ``anonymous_names`` names the outputs
``case0001_*`` and keeps the input name out of every output; a source declaring ``BurnedInAnnotation YES``
gives a warning (its overlays show the burned-in text; ``write_overlays=False`` skips them).

Python API: :func:`segment_files` (and :func:`monai_angio.bundle.load_bundle` to reuse a loaded bundle).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from monai_angio.bundle.diagnostics import diagnostic_value, diagnostic_values
from monai_angio.bundle.locate import DEFAULT_BUNDLE, resolve_bundle
from monai_angio.data.inputs import (
    SUPPORTED_SUFFIXES,
    expand_inputs,
    file_stem,
    is_dicom_input,
    is_supported,
    output_paths,
    parse_frames,
)
from monai_angio.errors import AngioInputError
from monai_angio.transforms.readers import frame_time_from_meta, spacing_from_meta
from monai_angio.utils import atomic_write, jsonable, scrub_paths
from monai_angio.utils.progress import track

if TYPE_CHECKING:  # torch, MONAI and the runner load only when a bundle is used (fast ``--help``)
    import torch

    from monai_angio.bundle.runner import BundleRunner, load_bundle

    SegmentationBundle = BundleRunner

__all__ = [
    "SUPPORTED_SUFFIXES",
    "SegmentationBundle",
    "Result",
    "resolve_bundle",
    "load_bundle",
    "expand_inputs",
    "output_paths",
    "parse_frames",
    "segment_file",
    "segment_files",
    "incomplete_leftovers",
    "register",
    "run",
]

PathLike = Union[str, os.PathLike]


def __getattr__(name: str) -> Any:
    """The runner's names, imported on first use (PEP 562) so that importing this module stays cheap.

    ``SegmentationBundle`` is the deprecated name of :class:`monai_angio.bundle.BundleRunner` (the loaded bundle
    ``segment`` runs); ``BundleRunner`` and ``load_bundle`` are :mod:`monai_angio.bundle.runner`'s.
    """
    if name in ("SegmentationBundle", "BundleRunner", "load_bundle"):
        from monai_angio.bundle import runner

        value = runner.BundleRunner if name == "SegmentationBundle" else getattr(runner, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: where a DICOM calibration's pixel size holds, printed after the overlay's scale bar
_SCALE_NOTES = {"dicom-isocenter": "at isocentre", "dicom-imager": "at the detector"}


def _dicom_calibration(meta: dict) -> Optional[dict]:
    """DICOM-geometry calibration (isocentre, else imager spacing) for the summary, or None without geometry."""
    from monai_angio.qca import calibrate_from_dicom

    try:
        cal = calibrate_from_dicom(meta)
    except (ValueError, TypeError):  # CalibrationError: no geometry (e.g. PNG input)
        return None
    return {"mm_per_px": float(cal.mm_per_px), "source": str(cal.source), "details": jsonable(cal.details)}


@dataclass
class Result:
    """Outcome of segmenting one input file.

    Attributes:
        input: the input file.
        ok: True when every required output was written.
        outputs: kind (``labels``, ``overlay``, ``gif``, ``seg``, ``summary``) -> written path.
        error: why the file failed (None when ``ok``).
        summary: the summary dict written to ``<stem>_summary.json``.
        labels: the ``(F, H, W)`` label map of the segmented frames (not kept by the CLI).
        warnings: problems that did not stop the file (e.g. DICOM SEG refused); also in the summary.
        notes: what was done beyond the plain run (e.g. leftovers of an interrupted run replaced); printed only.
    """

    input: Path
    ok: bool
    outputs: Dict[str, Path] = field(default_factory=dict)
    error: Optional[str] = None
    summary: Optional[dict] = None
    labels: Optional[np.ndarray] = None
    warnings: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


#: outputs whose presence without ``<stem>_summary.json`` marks an input left incomplete by an interrupted run
_PARTIAL_KINDS = ("labels", "major", "overlay", "gif", "seg")


def incomplete_leftovers(outs: Dict[str, Path]) -> List[Path]:
    """The outputs of an input left incomplete by an interrupted run: present while its summary is missing.

    The summary is written last, so it is the completion record: an input with a summary is complete, one with
    some outputs and no summary was stopped mid-way (killed, power loss) and its leftovers may be replaced.

    Args:
        outs: the input's outputs (:func:`monai_angio.data.inputs.output_paths`).
    """
    if outs["summary"].exists() or outs["summary"].is_symlink():
        return []
    return [outs[k] for k in _PARTIAL_KINDS if outs[k].is_file()]


def _one_line(text: str) -> str:
    """The first line of an error message (decoders append pages of their own log), marked when cut."""
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    if len(lines) <= 1:
        return str(text).strip()
    return lines[0].rstrip() + " [...]"


def segment_file(
    path: PathLike,
    model: SegmentationBundle,
    out_dir: PathLike,
    overwrite: bool = False,
    frames: Union[str, int, Sequence[int], None] = "all",
    write_seg: bool = True,
    write_gif: bool = True,
    min_component_size: Optional[int] = None,
    stem: Optional[str] = None,
    protected: Iterable[PathLike] = (),
    progress: bool = False,
    keep_labels: bool = True,
    keep_patient_data: bool = False,
    record_input_path: bool = False,
    write_overlays: bool = True,
    anonymous: bool = False,
    nifti_row_first: bool = False,
) -> Result:
    """Segment one file with a loaded bundle and write its outputs (see the module docstring).

    Never raises for a bad input: the problem is returned in :attr:`Result.error`.

    Args:
        path: input file.
        model: a loaded bundle (:func:`load_bundle`).
        out_dir: output folder (created).
        overwrite: replace existing outputs; otherwise a file whose outputs exist is refused up front, unless
            they are the leftovers of an interrupted run (:func:`incomplete_leftovers`), which are replaced.
        frames: ``"all"``, an index, or a list/spec of indices (:func:`parse_frames`).
        write_seg: write a DICOM SEG for DICOM inputs.
        write_gif: write an animated GIF overlay for cines.
        min_component_size: after the bundle's own postprocessing, additionally remove connected components
            smaller than this (pixels, per label) if > 0; None or 0: only the bundle's own postprocessing.
        stem: base name of the outputs (default: the input name without extension).
        protected: paths that must never be written (the inputs).
        progress: show a per-frame progress bar.
        keep_labels: keep the label array in the result.
        nifti_row_first: deprecated: write the label NIfTI rows first ``(H, W, T)`` as monai-angio 0.1 did.
        keep_patient_data: DICOM SEG with the source's patient and study data (default: de-identified).
        record_input_path: the summary's ``file`` is the input path as given (default: the file name only).
        write_overlays: write the PNG (and GIF) overlays.
        anonymous: keep the input's name out of every output: the summary's ``file``, the overlay title and
            the warnings show ``stem`` instead (unless ``record_input_path``).

    Returns:
        A :class:`Result`.
    """
    from monai_angio.apps.overlay import save_overlay_gif, save_overlay_png
    from monai_angio.data.dicom_seg import write_dicom_seg
    from monai_angio.data.writers import write_nifti_cine

    path = Path(path)
    t0 = time.perf_counter()
    outs = output_paths(path, out_dir, stem)
    res = Result(input=path, ok=False)
    guard = {os.path.realpath(p) for p in protected} | {os.path.realpath(path)}  # realpath: no error on loops
    clash = [str(p) for p in outs.values() if os.path.realpath(p) in guard]
    if clash:
        res.error = f"{path}: output {clash[0]} would overwrite an input; choose another --out"
        return res
    is_dicom = is_dicom_input(path)
    shown = (stem or file_stem(path)) if anonymous else path.name
    leftovers = [] if overwrite else incomplete_leftovers(outs)
    if leftovers:  # an interrupted run: its half-set is replaced, as if --overwrite were given for this input
        res.notes.append(
            "outputs of an interrupted run found without their summary; replacing "
            + ", ".join(p.name for p in leftovers)
        )
        for p in leftovers:
            p.unlink(missing_ok=True)
    if not overwrite:
        wanted = {"labels", "major", "summary"} | ({"overlay", "gif"} if write_overlays else set())
        wanted |= {"seg"} if is_dicom and write_seg else set()
        existing = [str(p) for k, p in outs.items() if k in wanted and (p.exists() or p.is_symlink())]
        if existing:
            res.error = f"{path}: output {existing[0]} exists; refusing to overwrite (use --overwrite)"
            return res
    writing: Optional[Path] = None  # the output being written, named in a disk-full or permission error
    try:
        # the header and the first frame only: the loader refuses an oversized frame before decoding, and the
        # frames are then decoded a window at a time by predict and by the overlays (memory does not grow with T)
        images = model.open(path)
        meta = dict(images.meta)
        t_load = time.perf_counter()
        idx = parse_frames(frames, images.shape[0], str(path))
        labels = model.predict(images, idx, progress=progress, filename=str(path))
        views = images if idx == list(range(images.shape[0])) else images.subset(idx)
        if meta.get("burned_in_annotation"):  # read with the DICOM header by the loader
            res.warnings.append(
                "the source declares BurnedInAnnotation YES: its pixels may show patient data as text"
                + (", and the PNG/GIF overlays copy those pixels (use --no-overlays)" if write_overlays else "")
            )
        noise = _noise_note(model)
        if noise is not None and noise[1]:
            res.warnings.append(noise[1])
        polarity = _polarity_note(model)
        if polarity is not None and polarity[1]:
            res.warnings.append(polarity[1])
        extra = int(min_component_size or 0)
        if extra > 0:
            labels = _remove_small(labels, extra)
        t_inf = time.perf_counter()

        spacing = spacing_from_meta(meta)
        frame_time = frame_time_from_meta(meta)
        dicom_cal = _dicom_calibration(meta)
        writing = Path(out_dir)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        if write_overlays:
            writing = outs["overlay"]
            save_overlay_png(
                outs["overlay"],
                views,
                labels,
                class_names={k: v for k, v in model.class_names.items() if k > 0},
                frame_indices=idx,
                title=f"{shown} - {model.name}" + ("" if model.weights else " (RANDOM weights)"),
                overwrite=overwrite,
                mm_per_px=None if dicom_cal is None else dicom_cal["mm_per_px"],
                scale_note=None if dicom_cal is None else _SCALE_NOTES.get(dicom_cal["source"]),
            )
            res.outputs["overlay"] = outs["overlay"]
        if write_overlays and write_gif and len(idx) > 1:
            writing = outs["gif"]
            try:
                save_overlay_gif(
                    outs["gif"], views, labels, frame_time_ms=frame_time or 100.0, overwrite=overwrite
                )
                res.outputs["gif"] = outs["gif"]
            except (OSError, ValueError, RuntimeError) as e:  # the GIF is a convenience
                res.warnings.append(f"GIF not written: {e}")
        input_shape = [int(n) for n in images.shape]
        del images, views  # the overlays were the last users of the pixels
        writing = outs["labels"]
        write_nifti_cine(
            outs["labels"], labels, tuple(spacing or (1.0, 1.0)), frame_time or 1.0, np.uint8, overwrite, label=True,
            row_first=nifti_row_first,
        )  # fmt: skip
        res.outputs["labels"] = outs["labels"]
        major = _major_map(model, labels.shape)
        major_scale: Tuple[Optional[float], str] = (None, "")
        if major is not None:
            writing = outs["major"]
            write_nifti_cine(
                outs["major"], major, tuple(spacing or (1.0, 1.0)), frame_time or 1.0, np.uint8, overwrite,
                label=True, row_first=nifti_row_first,
            )  # fmt: skip
            res.outputs["major"] = outs["major"]
            major_scale = _major_scale_note(model)
            if major_scale[1]:
                res.warnings.append(major_scale[1])
        elif overwrite and outs["major"].is_file():  # a major map of an earlier run no longer matches the labels
            outs["major"].unlink()
        if write_seg and is_dicom:
            writing = outs["seg"]
            seg = write_dicom_seg(
                outs["seg"],
                path,
                labels,
                idx,
                model.class_names,
                f"monai-angio {model.name}",
                overwrite=overwrite,
                include_patient_data=keep_patient_data,
            )
            res.outputs["seg"] = outs["seg"]
            res.warnings.extend(w for w in seg.warnings if "BurnedInAnnotation" not in w)  # already said once
        t_write = time.perf_counter()

        names = {v: k for k, v in model.class_names.items()}
        counts = {
            model.class_names[v]: [int((lab == v).sum()) for lab in labels] for v in sorted(model.class_names) if v > 0
        }
        if not record_input_path:  # no input path (nor, with anonymous names, input name) in any written text
            res.warnings = scrub_paths(res.warnings, path, shown, name_too=anonymous)
        summary = {
            "file": str(path) if record_input_path else shown,
            "bundle": model.name,
            "weights": str(model.weights) if model.weights else None,
            "random_weights": model.weights is None,
            "device": str(model.device),
            "runtime": model.runtime,
            "ort_optimization": model.ort_optimization if model.runtime == "onnx" else None,
            "config_overrides": dict(getattr(model, "overrides", {}) or {}),
            "noise_sigma": None if noise is None else round(noise[0], 4),
            "vessel_polarity": None if polarity is None else round(polarity[0], 3),
            "major_map": None if major is None else {
                "mm_per_px": major_scale[0],
                "min_origin_diameter_mm": _major_criterion(model),
                "refined": _major_refined(model),
                "frames_scaled_by_widest_artery": _major_prior_frames(model),
                "pixels": int(major.sum()),
            },
            "temporal_neighbors": model.num_neighbors,
            "input_shape": input_shape,
            "frames": idx,
            "num_frames_segmented": len(idx),
            "classes": {str(k): int(v) for k, v in names.items()},
            "pixel_counts": {k: int(sum(v)) for k, v in counts.items()},
            "pixel_counts_per_frame": counts,
            "spacing_mm": spacing,
            "frame_time_ms": frame_time,
            "labels_nifti_axes": "row,column,frame" if nifti_row_first else "column,row,frame",
            "calibration": dicom_cal if record_input_path else scrub_paths(dicom_cal, path, shown, name_too=anonymous),
            "min_component_size": int(model.min_component_size),
            "extra_min_component_size": extra,
            "patient_data": "kept in the DICOM SEG" if keep_patient_data and "seg" in res.outputs else "none",
            "outputs": {k: str(v) for k, v in res.outputs.items()},
            "warnings": list(res.warnings),
            "timing_s": {
                "load": round(t_load - t0, 4),
                "inference": round(t_inf - t_load, 4),
                "write": round(t_write - t_inf, 4),
            },
        }
        summary["timing_s"]["total"] = round(time.perf_counter() - t0, 4)
        writing = outs["summary"]
        with atomic_write(outs["summary"], "w", overwrite=overwrite, encoding="utf-8") as f:
            json.dump(jsonable(summary), f, indent=2)
        res.outputs["summary"] = outs["summary"]
        summary["outputs"]["summary"] = str(outs["summary"])
        res.summary = summary
        res.labels = labels if keep_labels else None
        res.ok = True
    except AngioInputError as e:
        res.error = _one_line(str(e) if str(path) in str(e) else f"{path}: {e}")
        if "cannot decode video (" in res.error:  # the decoder's log cut: say what it means
            res.error = res.error.replace(" [...]", ")").replace("cannot decode video", "no frame could be read", 1)
    except FileExistsError as e:
        res.error = f"{path}: {e}"
    except OSError as e:  # disk full, permission denied, ...: name the output when writing one
        where = f"cannot write {writing}" if writing is not None else "cannot read it"
        res.error = f"{path}: {where}: {e.strerror or _one_line(str(e))}"
    except Exception as e:  # noqa: BLE001 - one bad file must not stop a batch
        res.error = _one_line(f"{path}: {type(e).__name__}: {e}")
    if not res.ok:  # all or nothing: no partial set of outputs is left behind for a failed input
        for written in res.outputs.values():
            Path(written).unlink(missing_ok=True)
        res.outputs = {}
    return res


def _major_map(model: Any, shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """The bundle's major-artery map of the segmented frames (``MajorArteryMapd``, when its config turns it on)."""
    major = (getattr(model, "extra_maps", None) or {}).get("major")
    if major is None or tuple(major.shape) != tuple(shape):
        return None
    return (np.asarray(major) > 0).astype(np.uint8)


def _major_map_op(model: Any) -> Any:
    """The ``MajorArteryMap`` of the bundle's ``MajorArteryMapd`` step, or None."""
    for step in getattr(model, "post_steps", None) or []:
        op = getattr(step, "op", None)
        if type(step).__name__ == "MajorArteryMapd" and op is not None:
            return op
    return None


def _major_criterion(model: Any) -> Optional[float]:
    """The origin diameter (mm) of the bundle's major-artery map: its ``MajorArteryMapd``'s criterion."""
    op = _major_map_op(model)
    return None if op is None else float(op.min_origin_diameter_mm)


def _major_refined(model: Any) -> Optional[bool]:
    """Whether the bundle's major-artery map has its learned refiner (``major_refiner``), None without the map."""
    op = _major_map_op(model)
    return None if op is None else getattr(op, "refiner", None) is not None


def _major_scale_note(model: Any) -> Tuple[Optional[float], str]:
    """The major map's median mm/px and a warning for frames it could not scale (their map is empty) or scaled only
    by the widest-artery prior."""
    values = np.asarray(diagnostic_values(model, "major_mm_per_px"), float)
    if values.size == 0:
        return None, ""
    ok = np.isfinite(values)
    mm = round(float(np.median(values[ok])), 4) if ok.any() else None
    notes = []
    if not ok.all():
        why_prior = (
            "too little artery for the widest-artery prior" if _major_widest_mm(model) is not None
            else "the widest-artery prior off (major_map_widest_artery_mm null)"
        )
        notes.append(
            f"major-artery map empty on {int((~ok).sum())} of {values.size} frame(s): no catheter to scale the 2 mm "
            f"criterion by, no DICOM pixel spacing and {why_prior} (give the pixel size with --set "
            "major_map_mm_per_px=MM); the label map is unaffected"
        )
    if n_prior := _major_prior_frames(model):
        notes.append(
            f"major-artery map of {n_prior} of {values.size} frame(s) scaled by its widest artery, assumed "
            f"{_major_widest_mm(model):g} mm wide (no catheter, no DICOM pixel spacing): the 2 mm criterion is "
            "approximate there (give the pixel size with --set major_map_mm_per_px=MM)"
        )
    return mm, "; ".join(notes)


def _major_prior_frames(model: Any) -> int:
    """How many frames the major map scaled by the widest-artery prior (``"artery-width"``)."""
    return int((np.asarray(diagnostic_values(model, "major_scale_prior"), float) > 0).sum())


def _major_widest_mm(model: Any) -> Optional[float]:
    """The widest-artery diameter (mm) the bundle's major-artery map assumes without another scale, or None."""
    op = _major_map_op(model)
    return None if op is None else getattr(op, "widest_artery_mm", None)


def _polarity_note(model: Any) -> Optional[Tuple[float, str]]:
    """``(lowest frame polarity, warning or "")`` from the runner's ``vessel_polarity`` diagnostics
    (:func:`~monai_angio.transforms.vessel_polarity`: positive where vessels are darker than their surroundings);
    None if the bundle does not measure it. Warns about an image that looks inverted, or says that it was inverted."""
    lowest = diagnostic_value(model, "vessel_polarity", min)
    if lowest is None:
        return None
    if diagnostic_value(model, "vessel_polarity_inverted", max):
        return lowest, (
            "the image was inverted before segmentation (invert_intensity), so that its vessels are dark; "
            f"measured polarity {lowest:+.2f}"
        )
    if lowest >= 0:
        return lowest, ""
    return lowest, (
        f"the vessels look brighter than their surroundings (polarity {lowest:+.2f}; X-ray angiograms are "
        "positive): the image may be inverted (a MONOCHROME1 frame that lost its tag, an inverted export) and the "
        "network expects dark vessels; if so, run again with --set invert_intensity=true (or auto)"
    )


def _noise_note(model: Any) -> Optional[Tuple[float, str]]:
    """``(largest frame noise, warning or "")`` from the runner's ``noise_sigma`` diagnostics; None if the bundle
    does not measure noise. The warning names the bundle's noise switch when it is off."""
    from monai_angio.transforms.denoise import NOISY_FRAME_SIGMA

    worst = diagnostic_value(model, "noise_sigma", max)
    if worst is None:
        return None
    if worst <= NOISY_FRAME_SIGMA:
        return worst, ""
    smoothing = next((t.op for t in model.frame_steps if type(t).__name__ == "NoiseAdaptiveSmoothd"), None)
    on = smoothing is not None and smoothing.threshold_sigma is not None
    return worst, (
        f"noisy input: frame noise {worst:.3f} of the normalised range, above the {NOISY_FRAME_SIGMA} of the "
        "network's training images; "
        + (
            "frames above noise_threshold_sigma were smoothed"
            + (": check the catheter mask before calibrating QCA from it" if "catheter" in model.class_names.values()
               else "")
            if on
            else "expect lower accuracy (the bundle README, 'Acquisition shifts'); --set noise_threshold_sigma=0.04 "
            "smooths such frames"
        )
    )


def _remove_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Remove connected components smaller than ``min_size`` pixels, per label and per frame."""
    from monai_angio.transforms.postprocess import RemoveSmallComponents

    op = RemoveSmallComponents(min_size=min_size)
    return np.stack([np.asarray(op(lab[None]))[0] for lab in labels]).astype(np.uint8)


def segment_files(
    paths: Union[PathLike, Sequence[PathLike]],
    bundle: Union[PathLike, SegmentationBundle],
    out_dir: PathLike,
    overwrite: bool = False,
    device: Union[str, torch.device] = "cpu",
    frames: Union[str, int, Sequence[int], None] = "all",
    write_seg: bool = True,
    write_gif: bool = True,
    min_component_size: Optional[int] = None,
    weights: Optional[PathLike] = None,
    allow_random_weights: bool = False,
    progress: bool = True,
    include_patterns: Sequence[str] = (),
    exclude_patterns: Sequence[str] = (),
    keep_patient_data: bool = False,
    record_input_path: bool = False,
    write_overlays: bool = True,
    anonymous_names: bool = False,
    nifti_row_first: bool = False,
) -> List[Result]:
    """Segment angiogram files with a bundle; one :class:`Result` per input file.

    Folders are expanded to their supported files (the output folder is skipped). A bad file is
    reported in its result and skipped; the others go on.

    Args:
        paths: files and/or folders (a single path is accepted).
        bundle: bundle name or folder, or an already loaded :class:`SegmentationBundle`.
        out_dir: output folder.
        overwrite: replace existing outputs.
        device: torch device for inference.
        frames: frame selection for every file (see :func:`parse_frames`).
        write_seg: write DICOM SEG for DICOM inputs.
        write_gif: write animated GIF overlays for cines.
        min_component_size: extra small-component removal (pixels) after the bundle's own postprocessing.
        weights: checkpoint instead of ``<bundle>/models/model.pt``.
        allow_random_weights: run with random weights when no checkpoint exists (demos/tests only).
        progress: show progress on stderr: tqdm bars on a terminal; otherwise (a log file) one line per input
            file, plus the runner's per-frame progress (:mod:`monai_angio.utils.progress`).
        include_patterns: glob patterns; files found in folders are taken only if they match one
            (:func:`monai_angio.data.inputs.matches_patterns`: the file name or the path relative to the folder).
        exclude_patterns: glob patterns; files found in folders that match one are skipped.
        keep_patient_data: DICOM SEGs keep the source's patient and study data (default: de-identified).
        record_input_path: summaries hold the input path as given (default: the file name only).
        write_overlays: write PNG/GIF overlays.
        nifti_row_first: deprecated: write the label NIfTI rows first ``(H, W, T)`` as monai-angio 0.1 did.
        anonymous_names: name the outputs ``case0001_*``, ``case0002_*``, ... in input order instead of after the
            input files, and keep the input names out of every output (the mapping is in the results only).

    Returns:
        Results in input order.

    Raises:
        NotADirectoryError: ``out_dir`` is an existing file (checked before any work).
    """
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise NotADirectoryError(f"--out {out_dir} is an existing file, not a folder")
    from monai_angio.bundle.runner import BundleRunner, load_bundle

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    model = (
        bundle
        if isinstance(bundle, BundleRunner)
        else load_bundle(bundle, device=device, weights=weights, allow_random_weights=allow_random_weights)
    )
    patterns = dict(include_patterns=include_patterns, exclude_patterns=exclude_patterns)
    files = expand_inputs(paths, exclude=out_dir, **patterns)
    results = [  # a folder that yields nothing (e.g. a folder named like an image) is said, not silently skipped
        _empty_folder(Path(p), bool(include_patterns or exclude_patterns))
        for p in paths
        if Path(p).is_dir() and not expand_inputs([p], exclude=out_dir, **patterns)
    ]
    stems: Dict[str, int] = {}
    for i, f in enumerate(track(files, progress, desc="files", unit="file", label=str)):
        renamed = False
        if anonymous_names:
            stem = f"case{i + 1:04d}"
        else:
            s = file_stem(f)
            n = stems.get(s, 0)
            stems[s] = n + 1
            stem = s if n == 0 else f"{s}_{n + 1}"
            renamed = n > 0
        if f.is_symlink() and not f.exists():
            results.append(Result(input=f, ok=False, error=f"{f}: broken link or symlink loop"))
            continue
        if not f.exists():
            results.append(Result(input=f, ok=False, error=f"{f}: no such file"))
            continue
        if f.is_file() and not is_supported(f):
            problem = f"unsupported file type (supported: {', '.join(SUPPORTED_SUFFIXES)}, DICOM)"
            results.append(Result(input=f, ok=False, error=f"{f}: {problem}"))
            continue
        results.append(
            segment_file(
                f,
                model,
                out_dir,
                overwrite=overwrite,
                frames=frames,
                write_seg=write_seg,
                write_gif=write_gif,
                min_component_size=min_component_size,
                stem=stem,
                protected=files,
                nifti_row_first=nifti_row_first,
                progress=progress,
                keep_patient_data=keep_patient_data,
                record_input_path=record_input_path,
                write_overlays=write_overlays,
                anonymous=anonymous_names,
            )
        )
        if renamed:
            results[-1].notes.append(f"another input is also named {file_stem(f)}: outputs named {stem}_*")
    return results


def _empty_folder(path: Path, filtered: bool) -> Result:
    """The failed :class:`Result` of a folder input that yields no file."""
    why = "matching --include/--exclude " if filtered else ""
    return Result(input=path, ok=False, error=f"{path}: folder holds no supported input file {why}(nothing to do)")


# ----------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``segment`` sub-command."""
    p = subparsers.add_parser(
        "segment",
        help="segment angiograms (DICOM, PNG/JPG/TIFF, MP4/AVI, NIfTI) with a bundle",
        description=(
            "Segment arteries (and catheter) in angiograms with a monai-angio bundle. Writes, per input, a NIfTI "
            "label map, a PNG overlay (GIF for cines), a DICOM SEG for DICOM inputs and a summary JSON."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (folders are searched recursively)")
    p.add_argument(
        "--bundle", default=DEFAULT_BUNDLE, help="bundle name under bundles/ or a path"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--frames", default="all", help="'all' (default), a frame index K, or a list like '0,5,10-12'")
    p.add_argument("--no-seg", action="store_true", help="do not write DICOM SEG files")
    p.add_argument("--no-gif", action="store_true", help="do not write animated GIF overlays for cines")
    p.add_argument(
        "--min-size",
        type=int,
        default=None,
        help="after the bundle's own post-processing, also remove label components smaller than this many pixels",
    )
    p.add_argument("--weights", default=None, help="checkpoint to use instead of <bundle>/models/model.pt")
    p.add_argument(
        "--set", action="append", default=[], metavar="ID=VALUE", dest="overrides",
        help="override a config id of the bundle's inference.json (repeatable; VALUE read as JSON), e.g. "
        "noise_threshold_sigma=null to skip the smoothing of very noisy frames (the flagship's README)",
    )  # fmt: skip
    p.add_argument(
        "--runtime",
        choices=("auto", "torch", "openvino", "onnx"),
        default="auto",
        help="what runs the network: auto (default: on a CPU with the bundle's trained weights OpenVINO, else ONNX "
        "Runtime, whichever is installed; else torch), torch (eager PyTorch, any device), openvino or onnx (CPU "
        "only; the same exported network, float32)",
    )
    p.add_argument(
        "--ort-optimization",
        choices=("extended", "all"),
        default=None,
        help="ONNX Runtime's graph optimisation (implies --runtime onnx when --runtime is auto): extended (logits "
        "within 1e-3 of torch) or all (its blocked NCHWc kernels, 1.2-1.3x faster than extended, logits within "
        "~5e-3; labels unchanged on the measured real images)",
    )
    p.add_argument(
        "--random-weights", action="store_true", help="run even without a checkpoint (random weights; demo only)"
    )
    p.add_argument(
        "--include", action="append", default=[], metavar="GLOB",
        help="for folder inputs: take only files whose name or path relative to the folder matches GLOB "
        "(repeatable; e.g. 'images/*' or '*.dcm')",
    )  # fmt: skip
    p.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB",
        help="for folder inputs: skip files whose name or relative path matches GLOB (repeatable; e.g. '*_label.png')",
    )  # fmt: skip
    p.add_argument(
        "--keep-patient-data", action="store_true",
        help="DICOM SEG keeps the source's patient and study data and UIDs (default: de-identified; docs/privacy.md)",
    )  # fmt: skip
    p.add_argument(
        "--anonymous-names", action="store_true",
        help="name outputs case0001_*, case0002_*, ... instead of after the inputs and keep input names out of "
        "every output; the mapping is printed (and written only with --name-map)",
    )  # fmt: skip
    p.add_argument("--name-map", default=None, metavar="FILE", help="with --anonymous-names: write the mapping as JSON")
    p.add_argument(
        "--record-input-path", action="store_true",
        help="summary JSON holds the input path as given (default: only the file name)",
    )  # fmt: skip
    p.add_argument(
        "--no-overlays", action="store_true",
        help="write no PNG/GIF overlays (they copy the image pixels, burned-in text included)",
    )  # fmt: skip
    p.add_argument(
        "--nifti-row-first", action="store_true",
        help="deprecated: write <stem>_labels.nii.gz rows first, (H, W, T), as monai-angio 0.1 did "
        "(default: (W, H, T), x first, as NIfTI viewers and MONAI read it)",
    )  # fmt: skip
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``segment``; 0 if every file succeeded, 1 if any failed, 2 if the bundle or --out is unusable."""
    if Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"error: --out {args.out} is an existing file, not a folder; give a folder", file=sys.stderr)
        return 2
    if getattr(args, "name_map", None) and not getattr(args, "anonymous_names", False):
        print("error: --name-map needs --anonymous-names", file=sys.stderr)
        return 2
    if getattr(args, "nifti_row_first", False):
        print(
            "warning: --nifti-row-first is deprecated and will be removed in monai-angio 0.4: it writes label maps "
            "rows first, transposed against the input in NIfTI viewers and MONAI; read the default (W, H, T) file "
            "as labels[x, y, t] instead",
            file=sys.stderr,
        )
    from monai_angio.bundle.locate import parse_config_overrides
    from monai_angio.bundle.runner import load_bundle

    runtime = getattr(args, "runtime", "auto")
    ort_level = getattr(args, "ort_optimization", None)
    if ort_level is not None and runtime == "auto":  # an ONNX Runtime setting asks for ONNX Runtime
        runtime = "onnx"
    try:
        model = load_bundle(
            args.bundle,
            device=args.device,
            weights=args.weights,
            allow_random_weights=args.random_weights,
            runtime=runtime,
            ort_optimization=ort_level or "extended",
            **parse_config_overrides(getattr(args, "overrides", []), args.bundle),
        )
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results = segment_files(
        args.inputs,
        model,
        args.out,
        overwrite=args.overwrite,
        frames=args.frames,
        write_seg=not args.no_seg,
        write_gif=not args.no_gif,
        min_component_size=args.min_size,
        include_patterns=getattr(args, "include", []),
        exclude_patterns=getattr(args, "exclude", []),
        keep_patient_data=getattr(args, "keep_patient_data", False),
        record_input_path=getattr(args, "record_input_path", False),
        nifti_row_first=getattr(args, "nifti_row_first", False),
        write_overlays=not getattr(args, "no_overlays", False),
        anonymous_names=getattr(args, "anonymous_names", False),
    )
    if not results:
        print("error: no supported input files found", file=sys.stderr)
        return 1
    failed = [r for r in results if not r.ok]
    for r in results:
        if r.ok:
            counts = ", ".join(f"{k} {v} px" for k, v in (r.summary or {}).get("pixel_counts", {}).items())
            print(f"ok    {r.input} -> {r.outputs.get('labels')} ({counts})")
            for w in r.warnings:
                print(f"warn  {r.input}: {w}", file=sys.stderr)
        else:
            print(f"FAIL  {r.error}", file=sys.stderr)
        for n in r.notes:
            print(f"note  {r.input}: {n}", file=sys.stderr)
    print(f"{len(results) - len(failed)} of {len(results)} file(s) segmented into {args.out}")
    if getattr(args, "name_map", None):
        _write_name_map(args.name_map, results, args.overwrite)
    return 1 if failed else 0


def _write_name_map(path: PathLike, results: Sequence[Result], overwrite: bool = False) -> None:
    """Write the ``--anonymous-names`` mapping (output stem -> input path) as JSON, atomically."""
    mapping = {}
    for r in results:
        if r.ok and "summary" in r.outputs:
            mapping[Path(r.outputs["summary"]).name[: -len("_summary.json")]] = str(r.input)
    with atomic_write(path, "w", overwrite=overwrite, encoding="utf-8") as f:
        json.dump(mapping, f, indent=2)
    print(f"name map: {path} (it links the anonymous names to the input files: keep it private)")
