"""``monai-angio segment``: run a segmentation bundle on angiograms and write labels, overlays and reports.

For every input file (DICOM XA cine or still, PNG/JPG/TIFF, MP4/AVI, NIfTI) this writes, into ``--out``:

- ``<stem>_labels.nii.gz``: the label map, ``(H, W, T)`` on disk (``docs/design.md``), uint8, with the
  input's pixel spacing and frame time in ``pixdim``;
- ``<stem>_overlay.png``: the labels over the image (artery red, catheter green) with a legend and the
  frame index; a contact sheet of a few frames for a cine;
- ``<stem>_overlay.gif``: the overlay over every frame, for cines;
- ``<stem>_seg.dcm``: a DICOM Segmentation (highdicom) when the input is DICOM;
- ``<stem>_summary.json``: file, frames, classes, pixel counts, calibration (when the DICOM geometry allows),
  timings.

A bad file is reported and skipped; the command exits with status 1 if any file failed.

Python API: :func:`segment_files` (and :func:`load_bundle` / :class:`SegmentationBundle` to reuse a
loaded network across calls).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch

from monai_angio.apps.batch import (
    SUPPORTED_SUFFIXES,
    dicom_calibration,
    expand_inputs,
    file_stem,
    frame_time_from_meta,
    is_dicom_input,
    is_supported,
    jsonable,
    load_angiogram_file,
    output_paths,
    parse_frames,
    spacing_from_meta,
    write_dicom_seg,
    write_label_nifti,
)
from monai_angio.errors import AngioInputError
from monai_angio.transforms import RemoveSmallComponents, TemporalWindow
from monai_angio.utils import atomic_write

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
    "register",
    "run",
]

_DEFAULT_MULTICLASS_NAMES = {0: "background", 1: "artery", 2: "catheter"}
_DEFAULT_BINARY_NAMES = {0: "background", 1: "vessel"}
PathLike = Union[str, os.PathLike]


# ----------------------------------------------------------------------------------------------------
# bundle loading
# ----------------------------------------------------------------------------------------------------


def _bundle_search_dirs() -> List[Path]:
    dirs = []
    env = os.environ.get("MONAI_ANGIO_BUNDLES_DIR") or os.environ.get("MONAI_ANGIO_BUNDLES")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(Path(__file__).resolve().parents[2] / "bundles")
    dirs.append(Path.cwd() / "bundles")
    return dirs


def resolve_bundle(bundle: PathLike) -> Path:
    """Find a bundle folder from a path or a name under the repository's ``bundles/`` folder.

    Names are looked up in ``$MONAI_ANGIO_BUNDLES_DIR`` (``os.pathsep``-separated folders), then the
    repository's ``bundles/``, then ``./bundles``.

    Args:
        bundle: a bundle folder, or a bundle name such as ``xca_artery_catheter_efficientunetpp``.

    Returns:
        The bundle root folder (holding ``configs/inference.json``).

    Raises:
        FileNotFoundError: no such bundle.
    """
    p = Path(bundle).expanduser()
    if (p / "configs").is_dir():
        return p.resolve()
    tried = [str(p)]
    for d in _bundle_search_dirs():
        cand = d / str(bundle)
        tried.append(str(cand))
        if (cand / "configs").is_dir():
            return cand.resolve()
    raise FileNotFoundError(f"bundle {bundle!r} not found (looked in: {', '.join(tried)})")


def _find_num_neighbors(parser: Any, raw: Any) -> Optional[int]:
    """Temporal window half-width of a bundle, or None for a per-frame (2D) bundle."""
    for key in ("num_neighbors", "num_neighbours", "temporal_neighbors"):
        if key in raw:
            return int(parser.get_parsed_content(key))
    if "num_frames" in raw:
        return (int(parser.get_parsed_content("num_frames")) - 1) // 2

    found: List[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "TemporalWindow" in str(node.get("_target_", "")):
                found.append(node.get("num_neighbors", 1))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(raw.get("preprocessing"))
    if found:
        value = found[0]
        if isinstance(value, str) and value.startswith("@"):
            value = parser.get_parsed_content(value[1:])
        elif isinstance(value, str) and value.startswith("$"):
            value = eval(value[1:], {}, {})  # noqa: S307 - bundle configs are trusted code, like MONAI's own parser
        return int(value)
    return None


def _class_names(meta: dict, out_channels: Optional[int]) -> Dict[int, str]:
    try:
        channel_def = meta["network_data_format"]["outputs"]["pred"]["channel_def"]
        names = {int(k): str(v) for k, v in channel_def.items()}
        if out_channels == 1 and 1 not in names:
            names = {0: "background", 1: names.get(0, "vessel")}
        if len(names) >= 2:
            return names
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    if out_channels is not None and out_channels >= 3:
        return dict(_DEFAULT_MULTICLASS_NAMES)
    return dict(_DEFAULT_BINARY_NAMES)


def _load_state_dict(path: Path, device: torch.device) -> dict:
    obj = torch.load(str(path), map_location=device, weights_only=True)
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "network", "net"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise RuntimeError(f"{path}: not a state_dict checkpoint")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}


@dataclass
class SegmentationBundle:
    """A bundle's network, inferer and the facts ``segment`` needs to run it.

    Attributes:
        name: bundle folder name.
        root: bundle folder.
        network: the network in eval mode on ``device``.
        inferer: a MONAI inferer (``inferer(inputs, network)``).
        num_neighbors: temporal half-window ``N`` (input ``(B, 1, 2N+1, H, W)``), or None for 2D bundles.
        class_names: label value -> class name (``0`` is background).
        weights: the checkpoint loaded, or None for random weights.
        device: torch device.
        divisor: spatial sizes are edge-padded to a multiple of this before inference.
        resize_to: ``(H, W)`` the bundle's preprocessing resizes to (``Resized`` in ``preprocessing``), or
            None: frames are then resized to it (area / bilinear) and the logits resized back (bilinear).
        otsu: the bundle's ``postprocessing`` thresholds single-channel probabilities with Otsu
            (``OtsuThresholdd``) instead of 0.5.
        min_component_size: the bundle's ``RemoveSmallComponentsd`` size (pixels), 0 if it has none.
    """

    name: str
    root: Path
    network: torch.nn.Module
    inferer: Callable
    num_neighbors: Optional[int]
    class_names: Dict[int, str]
    weights: Optional[Path]
    device: torch.device
    divisor: int = 32
    resize_to: Optional[tuple] = None
    otsu: bool = False
    min_component_size: int = 0

    @property
    def temporal(self) -> bool:
        """Whether the bundle takes temporal windows of ``2N+1`` frames."""
        return self.num_neighbors is not None

    def _window(self, frames: np.ndarray, k: int) -> np.ndarray:
        """``(T, H, W)`` -> ``(1, 2N+1, H, W)`` around frame ``k`` (edges repeat the first/last frame)."""
        n = int(self.num_neighbors or 0)
        out = TemporalWindow(num_neighbors=n)(frames, k)
        return np.asarray(out, dtype=np.float32).reshape(1, 2 * n + 1, *frames.shape[1:])

    @torch.no_grad()
    def predict(
        self,
        frames: np.ndarray,
        indices: Optional[Sequence[int]] = None,
        batch_size: int = 4,
        progress: bool = False,
        filename: Optional[str] = None,
    ) -> np.ndarray:
        """Segment frames of a cine.

        Each frame (2D bundles) or each ``2N+1`` window (temporal bundles) is scaled to ``[0, 1]`` by its
        min/max, resized to :attr:`resize_to` if the bundle's preprocessing resizes, edge-padded to a multiple of
        :attr:`divisor`, run through the inferer, and cropped (and resized) back to the input size.
        Multi-channel outputs are arg-maxed; single-channel outputs are thresholded at probability 0.5, or per
        frame with Otsu's threshold when the bundle's post-processing does so (:attr:`otsu`).

        Args:
            frames: ``(T, H, W)`` raw intensities.
            indices: frames to segment (default all).
            batch_size: frames per forward pass.
            progress: show a tqdm bar over frames.
            filename: named in error messages.

        Returns:
            ``(len(indices), H, W)`` uint8 label map.

        Raises:
            AngioInputError: wrong dimensionality, empty, or non-finite values.
        """
        from tqdm import tqdm

        from monai_angio.transforms.postprocess import otsu_threshold

        frames = np.asarray(frames, dtype=np.float32)
        if frames.ndim != 3 or 0 in frames.shape:
            raise AngioInputError(f"expected a (T, H, W) image, got shape {tuple(frames.shape)}", filename)
        if not np.isfinite(frames).all():
            raise AngioInputError("image contains NaN or infinite values", filename)
        t, h, w = frames.shape
        indices = list(range(t)) if indices is None else [int(i) for i in indices]
        for i in indices:
            if not 0 <= i < t:
                raise AngioInputError(f"frame {i} requested but the input has {t} frame(s)", filename)
        d = self.divisor
        rh, rw = self.resize_to if self.resize_to else (h, w)
        ph, pw = (-rh) % d, (-rw) % d
        pad = ((0, 0), (0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
        out = np.zeros((len(indices), h, w), dtype=np.uint8)
        self.network.eval()
        bar = tqdm(total=len(indices), desc="frames", unit="frame", leave=False, disable=None if progress else True)
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            batch = []
            for k in chunk:
                x = self._window(frames, k) if self.temporal else frames[k][None]  # (1, [2N+1,] H, W)
                lo, hi = float(x.min()), float(x.max())
                x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
                batch.append(x)
            x = np.stack(batch)  # (B, 1, [2N+1,] H, W)
            xt = torch.as_tensor(x, dtype=torch.float32)
            if (rh, rw) != (h, w):
                xt = _resize(xt, (rh, rw))
            xt = torch.as_tensor(np.pad(xt.numpy(), pad if xt.ndim == 4 else ((0, 0),) + pad, mode="edge"))
            xt = xt.to(self.device)
            y = self.inferer(xt, self.network)
            if isinstance(y, (list, tuple)):
                y = y[0]
            elif isinstance(y, dict):
                y = next(iter(y.values()))
            y = torch.as_tensor(y)
            if y.ndim == 5:  # (B, C, 1, H, W) from a 3D-shaped head
                y = y[:, :, y.shape[2] // 2]
            y = y[..., pad[2][0] : pad[2][0] + rh, pad[3][0] : pad[3][0] + rw].float()
            if (rh, rw) != (h, w):
                y = torch.nn.functional.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
            if y.shape[1] == 1:
                prob = torch.sigmoid(y[:, 0])
                if self.otsu:
                    thresholds = [otsu_threshold(p.cpu().numpy()) for p in prob]
                    lab = torch.stack([(p > t) for p, t in zip(prob, thresholds)]).to(torch.uint8)
                else:
                    lab = (prob > 0.5).to(torch.uint8)
            else:
                lab = torch.argmax(y, dim=1).to(torch.uint8)
            out[start : start + len(chunk)] = lab.cpu().numpy()
            bar.update(len(chunk))
        bar.close()
        return out


def _resize(x: torch.Tensor, size: tuple) -> torch.Tensor:
    """Resize the last two axes of ``(B, C, [T,] H, W)`` (area when shrinking, else bilinear)."""
    shape = x.shape
    flat = x.reshape(shape[0], -1, shape[-2], shape[-1])
    shrink = size[0] <= shape[-2] and size[1] <= shape[-1]
    mode = "area" if shrink else "bilinear"
    kw = {} if shrink else {"align_corners": False}
    out = torch.nn.functional.interpolate(flat, size=tuple(size), mode=mode, **kw)
    return out.reshape(*shape[:-2], *size)


def _find_resize(parser: Any) -> Optional[tuple]:
    """``(H, W)`` of a ``Resize(d)`` step in the bundle's ``preprocessing``, if there is one."""
    try:
        pre = parser.get_parsed_content("preprocessing", instantiate=True)
    except Exception:  # noqa: BLE001 - no or unusual preprocessing: pad instead
        return None
    for t in getattr(pre, "transforms", ()):
        r = getattr(t, "resizer", t)
        if type(r).__name__ == "Resize" and getattr(r, "size_mode", "all") == "all":
            ss = r.spatial_size
            ss = [ss, ss] if isinstance(ss, int) else list(ss)
            if len(ss) >= 2 and all(int(v) > 0 for v in ss[-2:]):
                return int(ss[-2]), int(ss[-1])
    return None


def _find_postprocessing(parser: Any, raw: Any) -> tuple:
    """``(otsu, min_component_size)`` from the ``OtsuThresholdd`` / ``RemoveSmallComponentsd`` steps of the
    bundle's ``postprocessing`` (read from the config, not instantiated: it also holds writers)."""
    otsu, min_size = False, 0
    steps = raw.get("postprocessing", {}) if isinstance(raw, dict) else {}
    steps = steps.get("transforms", []) if isinstance(steps, dict) else []
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        target = str(step.get("_target_", "")) if isinstance(step, dict) else ""
        if target.endswith("OtsuThresholdd") or target.endswith("OtsuThreshold"):
            otsu = True
        elif target.endswith("RemoveSmallComponentsd") or target.endswith("RemoveSmallComponents"):
            try:
                min_size = int(parser.get_parsed_content(f"postprocessing#transforms#{i}#min_size"))
            except Exception:  # noqa: BLE001 - no explicit size: the transform's default is not known here
                min_size = 0
    return otsu, min_size


@torch.no_grad()
def _probe_out_channels(network: torch.nn.Module, num_neighbors: Optional[int], device: torch.device) -> Optional[int]:
    """Number of output channels, from one forward pass on a small blank input (None if that fails)."""
    shape = (1, 1, 64, 64) if num_neighbors is None else (1, 1, 2 * num_neighbors + 1, 64, 64)
    try:
        y = network.eval()(torch.zeros(shape, device=device))
        if isinstance(y, (list, tuple)):
            y = y[0]
        return int(y.shape[1])
    except Exception:  # noqa: BLE001 - unusual input requirements: rely on the metadata
        return None


def load_bundle(
    bundle: PathLike,
    device: Union[str, torch.device] = "cpu",
    weights: Optional[PathLike] = None,
    allow_random_weights: bool = False,
) -> SegmentationBundle:
    """Load a bundle's ``network_def``, ``inferer`` and ``models/model.pt`` for inference.

    Args:
        bundle: bundle folder or name (see :func:`resolve_bundle`).
        device: ``"cpu"``, ``"cuda"`` or a torch device.
        weights: checkpoint to load instead of ``<bundle>/models/model.pt``.
        allow_random_weights: if the checkpoint is missing, keep the random initial weights (for demos and
            tests only: the output is meaningless) instead of raising.

    Returns:
        A ready :class:`SegmentationBundle`.

    Raises:
        FileNotFoundError: no bundle, or no weights (the message says how to get them).
        RuntimeError: CUDA requested but not available, or the checkpoint does not fit the network.
    """
    from monai.bundle import ConfigParser

    root = resolve_bundle(bundle)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but CUDA is not available; use --device cpu")
    parser = ConfigParser()
    cfg_dir = root / "configs"
    inference = cfg_dir / "inference.json"
    if not inference.is_file():
        alt = sorted(cfg_dir.glob("inference.y*ml"))
        if not alt:
            raise FileNotFoundError(f"{root}: bundle has no configs/inference.json")
        inference = alt[0]
    parser.read_config(str(inference))
    meta: dict = {}
    meta_file = cfg_dir / "metadata.json"
    if meta_file.is_file():
        parser.read_meta(str(meta_file))
        meta = json.loads(meta_file.read_text())
    parser["bundle_root"] = str(root)
    if "device" in parser.get():
        parser["device"] = f"$torch.device('{device}')"
    raw = parser.get()
    for key in ("network_def", "inferer"):
        if key not in raw:
            raise FileNotFoundError(f"{inference}: bundle config has no {key!r}")
    network = parser.get_parsed_content("network_def", instantiate=True)
    inferer = parser.get_parsed_content("inferer", instantiate=True)
    num_neighbors = _find_num_neighbors(parser, raw)
    otsu, min_size = _find_postprocessing(parser, raw)

    ckpt = Path(weights) if weights is not None else root / "models" / "model.pt"
    if ckpt.is_file():
        network.load_state_dict(_load_state_dict(ckpt, device))
        used: Optional[Path] = ckpt
    elif allow_random_weights:
        warnings.warn(
            f"{ckpt} not found: bundle {root.name} runs with RANDOM weights; its output is meaningless", stacklevel=2
        )
        used = None
    else:
        raise FileNotFoundError(
            f"bundle {root.name} has no trained weights at {ckpt}. Train them with\n"
            f"  monai-angio train {root.name} --data DATALIST.json --out runs/{root.name}\n"
            f"then copy runs/{root.name}/models/model.pt to {root / 'models' / 'model.pt'} "
            f"(or pass --weights PATH)."
        )
    network = network.to(device).eval()

    out_channels = _probe_out_channels(network, num_neighbors, device)
    try:
        declared = int(meta["network_data_format"]["outputs"]["pred"]["num_channels"])
    except (KeyError, TypeError, ValueError):
        declared = None
    if out_channels is None:
        out_channels = declared
    elif declared is not None and declared != out_channels:
        warnings.warn(
            f"{root.name}: metadata declares {declared} output channels but the network gives {out_channels}; "
            "using default class names",
            stacklevel=2,
        )
        meta = {}
    return SegmentationBundle(
        name=root.name,
        root=root,
        network=network,
        inferer=inferer,
        num_neighbors=num_neighbors,
        class_names=_class_names(meta, out_channels),
        weights=used,
        device=device,
        resize_to=_find_resize(parser),
        otsu=otsu,
        min_component_size=min_size,
    )


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
        warnings: problems that did not stop the file (e.g. DICOM SEG refused).
    """

    input: Path
    ok: bool
    outputs: Dict[str, Path] = field(default_factory=dict)
    error: Optional[str] = None
    summary: Optional[dict] = None
    labels: Optional[np.ndarray] = None
    warnings: List[str] = field(default_factory=list)


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
) -> Result:
    """Segment one file with a loaded bundle and write its outputs (see the module docstring).

    Never raises for a bad input: the problem is returned in :attr:`Result.error`.

    Args:
        path: input file.
        model: a loaded bundle (:func:`load_bundle`).
        out_dir: output folder (created).
        overwrite: replace existing outputs; otherwise a file whose outputs exist is refused up front.
        frames: ``"all"``, an index, or a list/spec of indices (:func:`parse_frames`).
        write_seg: write a DICOM SEG for DICOM inputs.
        write_gif: write an animated GIF overlay for cines.
        min_component_size: remove connected components smaller than this (pixels, per label) if > 0; None uses
            the bundle's own ``RemoveSmallComponentsd`` size (0 if it has none).
        stem: base name of the outputs (default: the input name without extension).
        protected: paths that must never be written (the inputs).
        progress: show a per-frame progress bar.
        keep_labels: keep the label array in the result.

    Returns:
        A :class:`Result`.
    """
    from monai_angio.apps.overlay import save_overlay_gif, save_overlay_png

    path = Path(path)
    t0 = time.perf_counter()
    outs = output_paths(path, out_dir, stem)
    res = Result(input=path, ok=False)
    guard = {str(Path(p).resolve()) for p in protected} | {str(path.resolve())}
    clash = [str(p) for p in outs.values() if str(p.resolve()) in guard]
    if clash:
        res.error = f"{path}: output {clash[0]} would overwrite an input; choose another --out"
        return res
    is_dicom = is_dicom_input(path)
    if not overwrite:
        existing = [str(p) for k, p in outs.items() if p.exists() and (k != "seg" or (is_dicom and write_seg))]
        if existing:
            res.error = f"{path}: output {existing[0]} exists; refusing to overwrite (use --overwrite)"
            return res
    try:
        images, meta = load_angiogram_file(path)
        t_load = time.perf_counter()
        idx = parse_frames(frames, images.shape[0], str(path))
        labels = model.predict(images, idx, progress=progress, filename=str(path))
        if min_component_size is None:
            min_component_size = model.min_component_size
        if min_component_size > 0:
            labels = _remove_small(labels, min_component_size)
        t_inf = time.perf_counter()

        spacing = spacing_from_meta(meta)
        frame_time = frame_time_from_meta(meta)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_label_nifti(outs["labels"], labels, spacing, frame_time, overwrite)
        res.outputs["labels"] = outs["labels"]
        save_overlay_png(
            outs["overlay"],
            images[idx],
            labels,
            class_names={k: v for k, v in model.class_names.items() if k > 0},
            frame_indices=idx,
            title=f"{path.name} - {model.name}" + ("" if model.weights else " (RANDOM weights)"),
            overwrite=overwrite,
        )
        res.outputs["overlay"] = outs["overlay"]
        if write_gif and len(idx) > 1:
            try:
                save_overlay_gif(
                    outs["gif"], images[idx], labels, frame_time_ms=frame_time or 100.0, overwrite=overwrite
                )
                res.outputs["gif"] = outs["gif"]
            except Exception as e:  # noqa: BLE001 - the GIF is a convenience
                res.warnings.append(f"GIF not written: {e}")
        if write_seg and is_dicom:
            try:
                write_dicom_seg(outs["seg"], path, labels, idx, model.class_names, model.name, overwrite)
                res.outputs["seg"] = outs["seg"]
            except Exception as e:  # noqa: BLE001 - highdicom may refuse unusual sources
                msg = f"DICOM SEG not written ({type(e).__name__}: {e})"
                res.warnings.append(msg)
                warnings.warn(f"{path}: {msg}", stacklevel=2)
        t_write = time.perf_counter()

        names = {v: k for k, v in model.class_names.items()}
        counts = {
            model.class_names[v]: [int((lab == v).sum()) for lab in labels] for v in sorted(model.class_names) if v > 0
        }
        summary = {
            "file": str(path),
            "bundle": model.name,
            "weights": str(model.weights) if model.weights else None,
            "random_weights": model.weights is None,
            "device": str(model.device),
            "temporal_neighbors": model.num_neighbors,
            "input_shape": [int(s) for s in images.shape],
            "frames": idx,
            "num_frames_segmented": len(idx),
            "classes": {str(k): int(v) for k, v in names.items()},
            "pixel_counts": {k: int(sum(v)) for k, v in counts.items()},
            "pixel_counts_per_frame": counts,
            "spacing_mm": spacing,
            "frame_time_ms": frame_time,
            "calibration": dicom_calibration(meta),
            "min_component_size": int(min_component_size),
            "outputs": {k: str(v) for k, v in res.outputs.items()},
            "warnings": list(res.warnings),
            "timing_s": {
                "load": round(t_load - t0, 4),
                "inference": round(t_inf - t_load, 4),
                "write": round(t_write - t_inf, 4),
            },
        }
        summary["timing_s"]["total"] = round(time.perf_counter() - t0, 4)
        with atomic_write(outs["summary"], "w", overwrite=overwrite, encoding="utf-8") as f:
            json.dump(jsonable(summary), f, indent=2)
        res.outputs["summary"] = outs["summary"]
        summary["outputs"]["summary"] = str(outs["summary"])
        res.summary = summary
        res.labels = labels if keep_labels else None
        res.ok = True
    except AngioInputError as e:
        res.error = str(e) if str(path) in str(e) else f"{path}: {e}"
    except FileExistsError as e:
        res.error = f"{path}: {e}"
    except Exception as e:  # noqa: BLE001 - one bad file must not stop a batch
        res.error = f"{path}: {type(e).__name__}: {e}"
    return res


def _remove_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Remove connected components smaller than ``min_size`` pixels, per label and per frame."""
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
        min_component_size: small-component removal (pixels), 0 = off, None = the bundle's own setting.
        weights: checkpoint instead of ``<bundle>/models/model.pt``.
        allow_random_weights: run with random weights when no checkpoint exists (demos/tests only).
        progress: show tqdm progress bars.

    Returns:
        Results in input order.
    """
    from tqdm import tqdm

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    model = (
        bundle
        if isinstance(bundle, SegmentationBundle)
        else load_bundle(bundle, device=device, weights=weights, allow_random_weights=allow_random_weights)
    )
    files = expand_inputs(paths, exclude=out_dir)
    stems: Dict[str, int] = {}
    results = []
    for f in tqdm(files, desc="files", unit="file", disable=None if progress else True):
        s = file_stem(f)
        n = stems.get(s, 0)
        stems[s] = n + 1
        stem = s if n == 0 else f"{s}_{n + 1}"
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
                progress=progress,
            )
        )
    return results


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
        "--bundle", default="xca_artery_catheter_efficientunetpp", help="bundle name under bundles/ or a path"
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
        help="remove label components smaller than this many pixels (default: the bundle's post-processing; 0 = off)",
    )
    p.add_argument("--weights", default=None, help="checkpoint to use instead of <bundle>/models/model.pt")
    p.add_argument(
        "--random-weights", action="store_true", help="run even without a checkpoint (random weights; demo only)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``segment``; 0 if every file succeeded, 1 if any failed, 2 if the bundle could not be loaded."""
    try:
        model = load_bundle(
            args.bundle, device=args.device, weights=args.weights, allow_random_weights=args.random_weights
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
    print(f"{len(results) - len(failed)} of {len(results)} file(s) segmented into {args.out}")
    return 1 if failed else 0
