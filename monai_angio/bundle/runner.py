"""Run a bundle's own ``inference.json`` on frames: the single inference path of the package.

:class:`BundleRunner` builds the bundle's ``preprocessing``, ``network_def``, ``inferer`` and ``postprocessing``
from its config with MONAI's ``ConfigParser`` and applies them exactly as configured; it adds nothing of its
own between them. What it does decide is *where* each step runs over a cine:

- the loader (``LoadAngiogramd``/``LoadImaged``, the leading steps that read the file, and the ``ToRowMajord`` that
  turns MONAI's ``(x, y)`` in-plane order into the row-major order the networks take) runs once per file; the
  reorientation's trace is dropped from the loaded image, so :meth:`BundleRunner.load` returns row-major
  ``(T, H, W)`` and the postprocessing's ``Invertd`` gives :meth:`BundleRunner.predict` row-major labels, while
  MONAI's own callers of the config get the prediction back in MONAI's order ("Axis convention", ``docs/design.md``);
- the steps before the per-frame selector (``SelectFramed`` or ``TemporalWindowd``, anything with a
  ``frame_key``) run once on the whole cine (e.g. the temporal bundle's intensity scaling of the whole run);
- the selector and every later step run per frame ``k`` on ``{"image": cine, "frame": k}``, exactly like the
  config's own datalist path (``python -m monai.bundle run``), which lists one item per frame;
- the network runs on batches of frames; the postprocessing runs per frame, without its writers (``Save*``):
  writing is the caller's job;
- a file opened with :meth:`BundleRunner.open` (a :class:`~monai_angio.bundle.cine.CineFile`) is streamed: the
  loader reads 32 frames at a time, and when the only whole-cine steps are field-of-view masks
  (:attr:`BundleRunner.streams`) they run on the mean frame of a first pass, which is what they compute from a
  whole cine; the labels are the same, and the cine is never held whole.

So a new preprocessing step in a bundle (field-of-view masking, a normalisation) is used by every caller: the
``segment`` CLI, the demo, the tutorials, the benchmarks and MONAI's own bundle commands.

The network itself runs in eager torch or, on a CPU, in OpenVINO or ONNX Runtime (``runtime="auto"``, the
default, picks OpenVINO, else ONNX Runtime, when installed and the weights are trained;
:mod:`monai_angio.bundle.runtime`). The exported network is called by the bundle's own inferer exactly where the
torch module would be.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from monai.data import MetaTensor
from monai.utils import TraceKeys

from monai_angio.bundle.cine import DEFAULT_WINDOW, CineFile
from monai_angio.bundle.inferers import main_output
from monai_angio.bundle.locate import bundle_config_path, load_bundle_config, resolve_bundle
from monai_angio.bundle.runtime import RUNTIMES, onnx_available, onnx_network, openvino_available, openvino_network
from monai_angio.errors import AngioInputError
from monai_angio.transforms.layout import RC, ToRowMajor, layout_of
from monai_angio.transforms.limits import check_frame_size
from monai_angio.transforms.readers import check_frame_indices, count_frames
from monai_angio.transforms.validation import check_finite, check_segmentable, get_filename

__all__ = [
    "BundleRunner",
    "load_bundle",
    "load_state_dict",
    "class_names_from_metadata",
    "DIAGNOSTIC_KEYS",
    "EXTRA_MAP_KEYS",
]

PathLike = Union[str, os.PathLike]

#: item keys a bundle's pre- or postprocessing may fill with a per-frame measurement, collected into
#: ``BundleRunner.diagnostics``
DIAGNOSTIC_KEYS = (
    "noise_sigma", "vessel_polarity", "vessel_polarity_inverted", "major_mm_per_px", "major_scale_prior"
)

#: item keys a bundle's postprocessing may fill with a second binary map besides the label map (the major-artery map
#: of :class:`~monai_angio.transforms.MajorArteryMapd` or :class:`~monai_angio.transforms.ArteryBranchLabeld`),
#: collected into ``BundleRunner.extra_maps``
EXTRA_MAP_KEYS = ("major",)

#: exported runtime -> (availability check, its name in messages, the pip package that provides it); the checks
#: look the module functions up at call time, so tests can patch ``onnx_available`` / ``openvino_available`` here
_EXPORTED: Dict[str, Any] = {
    "openvino": (lambda: openvino_available(), "OpenVINO", "openvino"),
    "onnx": (lambda: onnx_available(), "ONNX Runtime", "onnxruntime"),
}

_DEFAULT_MULTICLASS_NAMES = {0: "background", 1: "artery", 2: "catheter"}
_DEFAULT_BINARY_NAMES = {0: "background", 1: "vessel"}
_LOADERS = ("LoadAngiogramd", "LoadImaged", "LoadAngiogram", "LoadImage")
# the reorientation to row-major that follows the loader is a loading step too (its trace is dropped by ``load``)
_REORIENT = ("ToRowMajord", "ToRowMajor")


def _weights_problem(error: BaseException, path: Path) -> str:
    """Our own words for why ``torch.load(weights_only=True)`` failed (PyTorch's text suggests unsafe loading)."""
    if isinstance(error, EOFError) or path.stat().st_size == 0:
        return "the file is empty or truncated"
    if isinstance(error, pickle.UnpicklingError):
        return "it holds Python objects other than tensors, or is not a checkpoint at all"
    if isinstance(error, OSError):
        return f"cannot read it: {error.strerror or type(error).__name__}"
    text = str(error).lower()
    if "zip" in text or "central directory" in text or "archive" in text:
        return "the file is corrupt (not a complete PyTorch archive)"
    return "the file is corrupt or from an incompatible PyTorch version"


def load_state_dict(path: PathLike, device: Union[str, torch.device] = "cpu") -> Dict[str, torch.Tensor]:
    """Read a network state dict safely (``weights_only=True``) from a MONAI or plain PyTorch checkpoint.

    Accepts ``{"model": sd}`` (MONAI ``CheckpointSaver``), ``{"state_dict": sd}`` and a bare state dict, and strips
    ``module.`` prefixes (DDP).

    Raises:
        AngioInputError: the file is missing, not a checkpoint, or holds arbitrary pickled objects.
    """
    path = Path(path)
    if not path.is_file():
        raise AngioInputError("weights file not found", path)
    try:
        obj = torch.load(str(path), map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as e:
        raise AngioInputError(
            f"not a readable weights file ({_weights_problem(e, path)}); it must be a PyTorch state_dict saved "
            "with torch.save (objects other than tensors are refused for safety)",
            path,
        ) from None
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "network", "net"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise AngioInputError("not a state_dict checkpoint (expected a dict of tensors)", path)
    return {(k[7:] if k.startswith("module.") else k): v for k, v in obj.items()}


def class_names_from_metadata(meta: Mapping, out_channels: Optional[int] = None) -> Dict[int, str]:
    """Label value -> class name from ``network_data_format.outputs.pred.channel_def`` (defaults if absent).

    A single-channel (sigmoid) output yields ``{0: background, 1: <its name>}``. Where the postprocessing merges
    network channels (a major-artery / branch network's two artery classes both become label 1), ``pred`` holds a
    ``label_def`` of the label map's values, which is used instead of ``channel_def``.
    """
    try:
        pred = meta["network_data_format"]["outputs"]["pred"]
        if isinstance(pred.get("label_def"), Mapping) and len(pred["label_def"]) >= 2:
            return {int(k): str(v) for k, v in pred["label_def"].items()}
        names = {int(k): str(v) for k, v in pred["channel_def"].items()}
        out_channels = out_channels or int(pred.get("num_channels", len(names)))
        if out_channels == 1 and 1 not in names:
            names = {0: "background", 1: names.get(0, "vessel")}
        if len(names) >= 2:
            return names
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    if out_channels is not None and out_channels >= 3:
        return dict(_DEFAULT_MULTICLASS_NAMES)
    return dict(_DEFAULT_BINARY_NAMES)


def _name(t: Any) -> str:
    return type(t).__name__


def _min_size(t: Any) -> int:
    """The ``min_size`` of a ``RemoveSmallComponents(d)`` step."""
    op = getattr(t, "remover", t)
    return int(getattr(op, "min_size", 0) or 0)


def _flatten(compose: Any) -> List[Any]:
    return list(getattr(compose, "transforms", [compose]))


@dataclass
class BundleRunner:
    """A bundle's inference config, instantiated and ready to segment frames (see the module docstring).

    Attributes:
        name: bundle folder name.
        root: bundle folder.
        network: the network in eval mode on ``device``.
        inferer: the bundle's MONAI inferer.
        loader: the loading steps of the preprocessing (run once per file by :meth:`load`).
        cine_steps: preprocessing steps run once on the whole loaded cine.
        frame_steps: preprocessing steps run per frame (starting with the frame selector, if any).
        post_steps: postprocessing without writers.
        class_names: label value -> class name (0 is background).
        weights: the checkpoint loaded, or None for random weights.
        device: torch device.
        num_neighbors: temporal half-window ``N`` of a temporal bundle, None for a per-frame bundle.
        frame_key: the key the frame selector reads (``"frame"``).
        min_component_size: the ``min_size`` of the bundle's ``RemoveSmallComponentsd`` step (0 if none).
        runtime: ``"torch"``, ``"openvino"`` or ``"onnx"``: what runs the network (an exported runtime falls back
            to ``"torch"`` with a warning if the export fails and that runtime was not demanded).
        requested_runtime: what the caller asked for (``"auto"``, ``"torch"``, ``"onnx"``, ``"openvino"``).
        threads: CPU threads of the OpenVINO or ONNX Runtime engine (0: torch's thread count).
        ort_optimization: ONNX Runtime graph optimisation level (:data:`~monai_angio.bundle.runtime.ORT_OPTIMIZATION_LEVELS`).
        engine: the callable the inferer runs (the torch module, an :class:`~monai_angio.bundle.runtime.OpenVinoNetwork`
            or an :class:`~monai_angio.bundle.runtime.OnnxNetwork`), built on the first batch.
        overrides: the config id -> value overrides the bundle was loaded with (recorded in outputs).
        diagnostics: per-frame values the preprocessing measured in the last :meth:`predict`, by key of
            :data:`DIAGNOSTIC_KEYS` (e.g. ``"noise_sigma"`` from the flagship's ``NoiseAdaptiveSmoothd``), in frame order.
        extra_maps: the second maps the postprocessing made in the last :meth:`predict`, by key of
            :data:`EXTRA_MAP_KEYS` (``"major"``: the major arteries of a major-artery / branch network), each ``uint8``
            shaped like the label map.
    """

    name: str
    root: Path
    network: torch.nn.Module
    inferer: Callable
    loader: List[Any]
    cine_steps: List[Any]
    frame_steps: List[Any]
    post_steps: List[Any]
    class_names: Dict[int, str]
    weights: Optional[Path]
    device: torch.device
    num_neighbors: Optional[int] = None
    frame_key: Optional[str] = "frame"
    min_component_size: int = 0
    runtime: str = "torch"
    requested_runtime: str = "torch"
    threads: int = 0
    ort_optimization: str = "extended"
    engine: Any = field(default=None, repr=False)
    parser: Any = field(default=None, repr=False)
    overrides: Dict[str, Any] = field(default_factory=dict)
    diagnostics: Dict[str, List[float]] = field(default_factory=dict, repr=False)
    extra_maps: Dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------------------------------- building

    @classmethod
    def from_bundle(
        cls,
        bundle: PathLike,
        device: Union[str, torch.device] = "cpu",
        weights: Optional[PathLike] = None,
        allow_random_weights: bool = False,
        config: str = "inference",
        runtime: str = "auto",
        threads: int = 0,
        ort_optimization: str = "extended",
        **override: Any,
    ) -> "BundleRunner":
        """Instantiate a bundle's inference config.

        Args:
            bundle: bundle folder or name (:func:`~monai_angio.bundle.locate.resolve_bundle`).
            device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a torch device.
            weights: checkpoint instead of ``<bundle>/models/model.pt``.
            allow_random_weights: without a checkpoint keep the random initial weights (demos and tests only: the
                output is meaningless) instead of raising.
            config: the config name (``inference``).
            runtime: ``"auto"`` (on a CPU with trained weights OpenVINO when installed, else ONNX Runtime when
                installed; else torch), ``"torch"`` (eager), ``"openvino"`` or ``"onnx"`` (an error if unavailable).
            threads: OpenVINO / ONNX Runtime threads (0: torch's thread count).
            ort_optimization: ONNX Runtime graph optimisation level (``"extended"`` keeps logits within 1e-3 of
                torch; ``"all"`` is faster, within ~5e-3).
            override: config id -> value overrides applied before instantiation.

        Raises:
            FileNotFoundError: no bundle, no config, or no weights (the message says how to get them).
            RuntimeError: CUDA requested but not available, OpenVINO or ONNX Runtime demanded but unusable, or the
                checkpoint does not fit the network.
            ValueError: an unknown runtime.
            AngioInputError: an unreadable weights file.
        """
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}; got {runtime!r}")
        root = resolve_bundle(bundle)
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda requested but CUDA is not available; use --device cpu")
        if runtime in _EXPORTED and device.type != "cpu":
            raise RuntimeError(f"--runtime {runtime} runs on the CPU only; use --runtime torch with --device cuda")
        if runtime in _EXPORTED and not _EXPORTED[runtime][0]():
            raise RuntimeError(
                f"--runtime {runtime} needs {_EXPORTED[runtime][1]}: pip install {_EXPORTED[runtime][2]} "
                "(or use --runtime torch)"
            )
        path = bundle_config_path(root, config)
        parser = load_bundle_config(root, config, **override)
        raw = parser.get()
        if "device" in raw:
            parser["device"] = f"$torch.device('{device}')"
        for key in ("network_def", "preprocessing", "postprocessing"):
            if key not in raw:
                raise FileNotFoundError(f"{path}: bundle config has no {key!r}")
        network = parser.get_parsed_content("network_def", instantiate=True)
        inferer = (
            parser.get_parsed_content("inferer", instantiate=True) if "inferer" in raw else _default_inferer()
        )
        pre = _flatten(parser.get_parsed_content("preprocessing", instantiate=True))
        post = _flatten(parser.get_parsed_content("postprocessing", instantiate=True))

        n_load = 0
        while n_load < len(pre) and _name(pre[n_load]) in _LOADERS + _REORIENT:
            n_load += 1
        sel = next((i for i in range(n_load, len(pre)) if hasattr(pre[i], "frame_key")), None)
        cine_steps = pre[n_load:sel] if sel is not None else []
        frame_steps = pre[sel:] if sel is not None else pre[n_load:]
        selector = pre[sel] if sel is not None else None
        window = getattr(selector, "window", None)
        num_neighbors = int(window.num_neighbors) if window is not None else None
        post_steps = [t for t in post if not _name(t).startswith("Save")]
        min_size = next((_min_size(t) for t in post_steps if _name(t).startswith("RemoveSmallComponents")), 0)

        ckpt = Path(weights) if weights is not None else root / "models" / "model.pt"
        if ckpt.is_file():
            sd = load_state_dict(ckpt, "cpu")
            try:
                network.load_state_dict(sd)
            except RuntimeError as e:
                raise RuntimeError(f"{ckpt}: checkpoint does not fit the network of bundle {root.name}: {e}") from e
            used: Optional[Path] = ckpt
        elif weights is not None:
            raise FileNotFoundError(f"{ckpt}: weights file not found")
        elif allow_random_weights:
            warnings.warn(
                f"{ckpt} not found: bundle {root.name} runs with RANDOM weights; its output is meaningless",
                stacklevel=2,
            )
            used = None
        else:
            raise FileNotFoundError(
                f"bundle {root.name} has no trained weights at {ckpt}. Train them with\n"
                f"  monai-angio train {root.name} --data DATALIST.json --out runs/{root.name}\n"
                f"and pass --weights runs/{root.name}/models/model.pt (or copy it to {ckpt})."
            )
        network = network.to(device).eval()
        if runtime in _EXPORTED and used is None:
            raise RuntimeError(
                f"--runtime {runtime} needs trained weights; bundle {root.name} runs with random weights"
            )
        chosen = runtime if runtime != "auto" else "torch"
        if runtime == "auto" and device.type == "cpu" and used is not None:
            chosen = next((r for r in ("openvino", "onnx") if _EXPORTED[r][0]()), "torch")
        meta_file = root / "configs" / "metadata.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        out_channels = raw.get("num_classes") if isinstance(raw.get("num_classes"), int) else None
        return cls(
            name=root.name,
            root=root,
            network=network,
            inferer=inferer,
            loader=pre[:n_load],
            cine_steps=cine_steps,
            frame_steps=frame_steps,
            post_steps=post_steps,
            class_names=class_names_from_metadata(meta, out_channels),
            weights=used,
            device=device,
            num_neighbors=num_neighbors,
            frame_key=getattr(selector, "frame_key", None),
            min_component_size=min_size,
            runtime=chosen,
            requested_runtime=runtime,
            threads=int(threads),
            ort_optimization=ort_optimization,
            engine=None if chosen in _EXPORTED else network,
            parser=parser,
            overrides=dict(override),
        )

    # ------------------------------------------------------------------------------------------- running

    @property
    def temporal(self) -> bool:
        """Whether the bundle takes temporal windows of ``2N+1`` frames."""
        return self.num_neighbors is not None

    def network_engine(self, example: torch.Tensor) -> Any:
        """The callable that runs the network: the torch module, or its OpenVINO / ONNX Runtime export.

        The export is built (or read from the cache) on the first call, from the shape of the first batch; if it
        fails and that runtime was not demanded, the runner warns and falls back to torch.

        Raises:
            RuntimeError: ``runtime="openvino"`` or ``"onnx"`` was demanded and the export or engine failed.
        """
        if self.engine is not None:
            return self.engine
        if self.runtime not in _EXPORTED or self.weights is None:
            self.runtime, self.engine = "torch", self.network
            return self.engine
        label = _EXPORTED[self.runtime][1]
        try:
            net_def = self.parser.get("network_def") if self.parser is not None else type(self.network).__name__
            shape = tuple(example.shape[1:])
            if self.runtime == "openvino":
                self.engine = openvino_network(self.network, self.weights, net_def, shape, self.threads)
            else:
                self.engine = onnx_network(
                    self.network, self.weights, net_def, shape, self.threads, self.ort_optimization
                )
        except Exception as e:  # noqa: BLE001 - any export/engine failure: fall back or report
            if self.requested_runtime == self.runtime:
                raise RuntimeError(f"bundle {self.name}: {label} unusable: {e}") from e
            warnings.warn(f"bundle {self.name}: {label} unusable, running eager torch ({e})", stacklevel=2)
            self.runtime, self.engine = "torch", self.network
        return self.engine

    @property
    def reads_frames(self) -> bool:
        """Whether the bundle's loader reads chosen frames of a file (``LoadAngiogramd`` with ``read_frames``)."""
        return bool(self.loader) and _name(self.loader[0]) == "LoadAngiogramd"

    @property
    def streams(self) -> bool:
        """Whether :meth:`predict` can segment a :class:`~monai_angio.bundle.cine.CineFile` a window of frames at a
        time: a per-frame bundle whose loader reads chosen frames (``LoadAngiogramd``) and whose only whole-cine
        steps are field-of-view masks, which the mean frame gives exactly. Otherwise (the temporal bundle scales
        the intensities of the whole run) the cine is read whole."""
        return (
            not self.temporal
            and self.frame_key is not None
            and self.reads_frames
            and all(_name(t) == "FieldOfViewd" for t in self.cine_steps)
        )

    def load(self, path: PathLike, frames: Optional[Sequence[int]] = None) -> MetaTensor:
        """Read a file with the bundle's own loading steps -> row-major ``MetaTensor (T, H, W)``.

        The loader's ``ToRowMajord`` step is applied, and its entry removed from ``applied_operations``: to the
        rest of the pipeline the image was loaded row-major, so the postprocessing's ``Invertd`` leaves the
        labels of :meth:`predict` row-major.

        Args:
            path: the file.
            frames: read only these frames (file frame indices, in the order given); ``LoadAngiogramd`` decodes
                just those, another loader reads the file whole and the frames are picked from it.

        Raises:
            AngioInputError: unreadable file, wrong shape or a frame outside the file (the file is named); the
                values are checked by :meth:`predict`.
        """
        d: Dict[str, Any] = {"image": str(path)}
        picks = None if frames is None else [int(k) for k in frames]
        if picks is not None and self.reads_frames:
            d[getattr(self.loader[0], "read_frames_key", "read_frames")] = picks
            picks = None
        try:
            for t in self.loader:
                d = t(d)
        except AngioInputError:
            raise
        except Exception as e:  # noqa: BLE001 - any reader failure: name the file and the problem
            raise AngioInputError(f"cannot read ({type(e).__name__}: {e})", path) from e
        img = d["image"]
        if not isinstance(img, MetaTensor):
            img = MetaTensor(torch.as_tensor(np.asarray(img)))
        if img.ndim == 2:
            img = img[None]
        if img.ndim != 3 or 0 in img.shape:
            raise AngioInputError(f"expected a (T, H, W) angiogram, got shape {tuple(img.shape)}", path)
        if layout_of(img) != RC:  # a config without ToRowMajord: the app still gets rows first (nothing to invert)
            img = ToRowMajor()(img)
        img.applied_operations = [op for op in img.applied_operations if op.get(TraceKeys.CLASS_NAME) not in _REORIENT]
        if picks is not None:  # a loader that reads whole files
            check_frame_indices(picks, int(img.shape[0]), os.fspath(path))
            img = img[picks]
        return img

    def open(self, path: PathLike, window: int = DEFAULT_WINDOW) -> CineFile:
        """A file's frames, read on demand with the bundle's own loading steps (:class:`~monai_angio.bundle.cine.CineFile`).

        Only the header and the first frame are read here (an unreadable file or an oversized frame fails now);
        :meth:`predict` then streams a :attr:`streams` bundle's cine ``window`` frames at a time.

        Raises:
            AngioInputError: unreadable file or wrong shape, named.
        """
        if not self.reads_frames:  # a loader that reads whole files:
            whole = self.load(path)  # read once, not once per window

            def _pick(_path: PathLike, frames: Sequence[int]) -> MetaTensor:
                return whole[[int(k) for k in frames]]

            return CineFile(path, _pick, int(whole.shape[0]), window=window, first=whole[:1])
        first = self.load(path, frames=[0])
        return CineFile(path, self.load, count_frames(path), window=window, first=first)

    def _prepare(self, cine: Any, filename: Optional[str]) -> Dict[str, Any]:
        if isinstance(cine, MetaTensor):
            img = cine
        else:
            arr = np.asarray(cine, dtype=np.float32)
            img = MetaTensor(torch.as_tensor(arr))
            if filename:
                img.meta["filename_or_obj"] = filename
        if img.ndim != 3 or 0 in img.shape:
            raise AngioInputError(f"expected a (T, H, W) image, got shape {tuple(img.shape)}", filename)
        name = filename or get_filename(img)
        check_finite(img, name)
        check_segmentable(img.as_tensor(), name)
        d: Dict[str, Any] = {"image": img}
        for t in self.cine_steps:
            d = t(d)
        return d

    def _frame_item(self, base: Mapping[str, Any], k: int) -> Dict[str, Any]:
        d = dict(base)
        if self.frame_key is not None:
            d[self.frame_key] = k
        else:
            d["image"] = base["image"][k : k + 1]
        for t in self.frame_steps:
            d = t(d)
        return d

    def _streamed_keys(self, cine: CineFile, name: Optional[str]) -> Dict[str, Any]:
        """First pass over a streamed cine: check every frame's values, then run the whole-cine steps (field-of-view
        masks) on the mean frame, which gives them exactly what the whole cine would; returns what they add to the
        item (the mask under its key)."""
        h, w = cine.frame_shape
        check_frame_size(h, w, name)
        total = np.zeros((h, w), dtype=np.float64)
        contrast, chunk = False, None
        for lo in range(0, len(cine), cine.window):
            chunk = cine.read(range(lo, min(len(cine), lo + cine.window)))
            check_finite(chunk, name)
            arr = np.asarray(torch.as_tensor(chunk).as_subclass(torch.Tensor).cpu())
            flat = arr.reshape(arr.shape[0], -1)
            contrast = contrast or bool(np.any(flat.max(axis=1) > flat.min(axis=1)))
            total += arr.sum(axis=0, dtype=np.float64)
        if not contrast:  # every frame constant: the same error as for a cine in memory
            check_segmentable(chunk.as_tensor(), name)
        mean = MetaTensor(torch.from_numpy((total / len(cine)).astype(np.float32)[None]), meta=dict(chunk.meta))
        mean.applied_operations = list(chunk.applied_operations)
        d: Dict[str, Any] = {"image": mean}
        for t in self.cine_steps:
            d = t(d)
        return {k: v for k, v in d.items() if k != "image"}

    def _infer(self, items: List[Dict[str, Any]], out: np.ndarray, at: int, name: Optional[str]) -> None:
        """Network and postprocessing for preprocessed frame items; their labels go to ``out[at:]``."""
        h, w = out.shape[1:]
        shapes = {tuple(it["image"].shape) for it in items}
        groups = [items] if len(shapes) == 1 else [[it] for it in items]
        preds: List[Any] = []
        for group in groups:
            x = torch.stack([torch.as_tensor(it["image"]).as_subclass(torch.Tensor) for it in group])
            y = main_output(self.inferer(x.to(self.device), self.network_engine(x))).float().cpu()
            if y.ndim == 5:  # (B, C, 1, H, W) from a 3D-shaped head
                y = y[:, :, y.shape[2] // 2]
            preds.extend(y[i] for i in range(y.shape[0]))
        for j, (it, p) in enumerate(zip(items, preds)):
            seen = [key for key in DIAGNOSTIC_KEYS if key in it]
            for key in seen:
                self.diagnostics.setdefault(key, []).append(float(it[key]))
            img = it["image"]
            it["pred"] = MetaTensor(p, meta=dict(getattr(img, "meta", {})))
            for step in self.post_steps:
                it = step(it)
            for key in DIAGNOSTIC_KEYS:  # measurements of the postprocessing (e.g. the major map's scale)
                if key in it and key not in seen:
                    self.diagnostics.setdefault(key, []).append(float(it[key]))
            out[at + j] = self._frame_map(it["pred"], h, w, "pred", name)
            for key in EXTRA_MAP_KEYS:
                if key in it:
                    extra = self.extra_maps.setdefault(key, np.zeros_like(out))
                    extra[at + j] = self._frame_map(it[key], h, w, key, name)

    def _frame_map(self, value: Any, h: int, w: int, key: str, name: Optional[str]) -> np.ndarray:
        """A postprocessed ``(..., h, w)`` map of one frame (the label map or an extra map) as ``uint8`` ``(h, w)``."""
        arr = np.asarray(torch.as_tensor(value).detach().cpu())
        arr = arr.reshape(arr.shape[-2:]) if arr.size == h * w else arr
        if arr.shape != (h, w):
            raise AngioInputError(
                f"bundle {self.name}: postprocessing returned shape {arr.shape} for a {h}x{w} frame "
                f"under {key!r} (it must restore the input size, e.g. with Invertd)",
                name,
            )
        return np.rint(arr).astype(np.uint8)

    @torch.no_grad()
    def predict(
        self,
        frames: Any,
        indices: Optional[Sequence[int]] = None,
        batch_size: int = 4,
        progress: bool = False,
        filename: Optional[str] = None,
    ) -> np.ndarray:
        """Segment frames of a cine with the bundle's own pre-/postprocessing.

        Args:
            frames: ``(T, H, W)`` raw intensities (array, tensor, or the MetaTensor of :meth:`load`, whose
                metadata such as the pixel spacing the bundle's transforms may use), or the
                :class:`~monai_angio.bundle.cine.CineFile` of :meth:`open`: a :attr:`streams` bundle then reads
                it twice, a window of frames at a time (the mean frame for the field of view, then the frames to
                segment), so that memory does not grow with the cine's length beyond the ``uint8`` labels; the
                labels are the same as from the whole cine in memory.
            indices: frames to segment (default all).
            batch_size: frames per forward pass (frames of one cine share their shape).
            progress: show progress over frames (:func:`~monai_angio.utils.progress.make_progress`: a tqdm bar on a
                terminal, a plain line every few frames or seconds when stderr goes to a log file).
            filename: named in error messages.

        Returns:
            ``(len(indices), H, W)`` uint8 label map in the input's pixel grid.

        Raises:
            AngioInputError: wrong dimensionality, empty, non-finite values, too small / too large, no contrast
                (constant frames), a frame index out of range, or a bundle whose postprocessing does not return the
                input's size.
        """
        from monai_angio.utils.progress import make_progress

        stream = isinstance(frames, CineFile) and self.streams
        if isinstance(frames, CineFile):
            filename = filename or frames.path
            if not stream:  # whole-cine steps that the mean frame does not reproduce: read it whole
                frames = frames.read(range(len(frames)))
        t, h, w = (int(s) for s in (frames.shape if hasattr(frames, "shape") else np.shape(frames)))
        indices = list(range(t)) if indices is None else [int(i) for i in indices]
        bad = [i for i in indices if not 0 <= i < t]
        if bad:
            raise AngioInputError(f"frame {bad[0]} requested but the input has {t} frame(s)", filename)
        base = self._streamed_keys(frames, filename) if stream else self._prepare(frames, filename)
        self.diagnostics, self.extra_maps = {}, {}
        out = np.zeros((len(indices), h, w), dtype=np.uint8)
        self.network.eval()
        batch = max(1, int(batch_size))
        window = max(batch, frames.window) if stream else len(indices)
        bar = make_progress(progress, total=len(indices), desc="frames", unit="frame", leave=False)
        for lo in range(0, len(indices), window):
            group = indices[lo : lo + window]
            if stream:  # this window's frames, decoded now
                positions = sorted(set(group))
                base = {**base, "image": frames.read(positions)}
                where = {k: i for i, k in enumerate(positions)}
            for b in range(0, len(group), batch):
                chunk = group[b : b + batch]
                items = [self._frame_item(base, where[k] if stream else k) for k in chunk]
                self._infer(items, out, lo + b, filename)
                bar.update(len(chunk))
        bar.close()
        return out


def _default_inferer() -> Callable:
    from monai.inferers import SimpleInferer

    return SimpleInferer()


def load_bundle(
    bundle: PathLike,
    device: Union[str, torch.device] = "cpu",
    weights: Optional[PathLike] = None,
    allow_random_weights: bool = False,
    runtime: str = "auto",
    **override: Any,
) -> BundleRunner:
    """Instantiate a bundle's inference config for :meth:`BundleRunner.predict` (see :meth:`BundleRunner.from_bundle`)."""
    return BundleRunner.from_bundle(
        bundle, device=device, weights=weights, allow_random_weights=allow_random_weights, runtime=runtime, **override
    )
