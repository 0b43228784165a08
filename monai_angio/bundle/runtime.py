"""The fast CPU runtimes of a bundle's network: ONNX export, a weights-keyed cache, OpenVINO and ONNX Runtime.

A bundle runs its network in one of three runtimes:

- ``"torch"``: the eager PyTorch module (any device; the reference);
- ``"openvino"``: the same weights exported to ONNX (``torch.onnx.export``, dynamic batch and frame size) and
  compiled by OpenVINO for the CPU, once per input shape, in float32 (``INFERENCE_PRECISION_HINT=f32``: on CPUs
  with bf16 units OpenVINO would otherwise compute in bf16). Measured on a 2-core CPU at 512x512 it is the
  fastest runtime for the flagship (``benchmarks/benchmark_runtime.py``) and keeps logits within ~3e-4 of torch;
- ``"onnx"``: the same export run by ONNX Runtime on the CPU. The default graph optimisation level
  (``"extended"``: constant folding, Conv+BatchNorm folding, node fusions) keeps logits within 1e-3 of torch;
  ``"all"`` adds ONNX Runtime's blocked-layout (NCHWc) kernels, about 20 % faster, which reorder the
  convolution sums and move logits by up to ~5e-3 (argmax agreement still > 99.99 %).

``"auto"`` (the default of :func:`monai_angio.bundle.load_bundle`) picks OpenVINO on a CPU when it is installed
and the network has trained weights, else ONNX Runtime, and eager torch otherwise (GPU, random weights, or a
failed export, which is warned about).

The export is never downloaded: it is built once from the weights on the user's machine and kept in a cache
keyed by the SHA-256 of the weights file, the network definition, the network's source code and the exporter's
versions
(``$MONAI_ANGIO_CACHE`` or ``~/.cache/monai-angio/onnx``). A bundle may also ship ``models/model.onnx`` with a
``models/model.onnx.json`` sidecar naming the weights hash it was exported from; it is used only when that hash
matches. When no cache folder is writable the export is kept in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from monai_angio.utils import atomic_path

__all__ = [
    "RUNTIMES",
    "ORT_OPTIMIZATION_LEVELS",
    "OnnxNetwork",
    "OpenVinoNetwork",
    "onnx_available",
    "openvino_available",
    "export_onnx",
    "onnx_cache_dir",
    "onnx_cache_key",
    "network_code_sha256",
    "file_sha256",
    "exported_onnx",
    "onnx_network",
    "openvino_network",
    "describe_runtime",
]

PathLike = Union[str, os.PathLike]

#: The accepted values of ``runtime``.
RUNTIMES = ("auto", "torch", "onnx", "openvino")
#: ``ort_optimization`` name -> ONNX Runtime ``GraphOptimizationLevel`` member.
ORT_OPTIMIZATION_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
_OPSET = 17
_EXPORT_FORMAT = 1  # bump when the export settings change: old cache entries are then ignored


def onnx_available() -> bool:
    """Whether ONNX Runtime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def openvino_available() -> bool:
    """Whether OpenVINO can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def file_sha256(path: PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def onnx_cache_dir() -> Path:
    """The export cache folder: ``$MONAI_ANGIO_CACHE/onnx`` or ``~/.cache/monai-angio/onnx``."""
    root = os.environ.get("MONAI_ANGIO_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "monai-angio"
    return base / "onnx"


def network_code_sha256(network: torch.nn.Module) -> str:
    """SHA-256 over the source files of every module class in ``network`` (a code change makes a new export)."""
    import inspect
    import sys

    files = set()
    for m in network.modules():
        mod = sys.modules.get(type(m).__module__)
        try:
            path = inspect.getsourcefile(mod) if mod is not None else None
        except TypeError:  # built-in module
            path = None
        if path:
            files.add(path)
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(Path(path).name.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def onnx_cache_key(weights_sha256: str, network_def: Any, input_rank: int, code_sha256: str = "") -> str:
    """Cache key of an export: weights, network definition and code, input rank, torch version, export format."""
    desc = json.dumps(
        {
            "weights": weights_sha256,
            "network_def": network_def,
            "code": code_sha256,
            "rank": int(input_rank),
            "torch": torch.__version__,
            "opset": _OPSET,
            "format": _EXPORT_FORMAT,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(desc.encode("utf-8")).hexdigest()[:32]


def _example_input(input_shape: Sequence[int]) -> torch.Tensor:
    return torch.zeros((1, *[int(s) for s in input_shape]), dtype=torch.float32)


def export_onnx(network: torch.nn.Module, input_shape: Sequence[int], path: Optional[PathLike] = None) -> bytes:
    """Export a network to ONNX with a dynamic batch and dynamic spatial size.

    Args:
        network: the module (put in eval mode for the export; its mode is restored).
        input_shape: one example input's shape without the batch axis, e.g. ``(1, 512, 512)`` or
            ``(1, 5, 512, 512)`` for a temporal network; every axis after the channel axis is exported as dynamic.
        path: also write the model there (atomically).

    Returns:
        The serialised ONNX model.

    Raises:
        RuntimeError: the export failed (the cause is chained).
    """
    x = _example_input(input_shape)
    dynamic = {0: "batch", **{i: f"dim{i}" for i in range(2, x.ndim)}}
    was_training = network.training
    network.eval()
    buf = io.BytesIO()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = network(x)
            n_out = len(y) if isinstance(y, (list, tuple)) else 1
            names = ["logits"] + [f"output{i}" for i in range(1, n_out)]
            axes: Dict[str, Dict[int, str]] = {"image": dynamic}
            axes.update({n: {0: "batch"} for n in names})
            torch.onnx.export(
                network,
                (x,),
                buf,
                input_names=["image"],
                output_names=names,
                dynamic_axes=axes,
                opset_version=_OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as e:  # noqa: BLE001 - any exporter failure becomes one clear error
        raise RuntimeError(f"ONNX export failed: {type(e).__name__}: {e}") from e
    finally:
        network.train(was_training)
    data = buf.getvalue()
    if path is not None:
        with atomic_path(path, overwrite=True) as tmp:
            Path(tmp).write_bytes(data)
    return data


class _ExportedNetwork:
    """What the exported runtimes share: torch tensors in and out, batches run ``max_batch`` frames at a time."""

    max_batch: int = 1
    training: bool = False

    def _run(self, batch: np.ndarray) -> Sequence[np.ndarray]:
        """The model's outputs for one contiguous float32 slice of the batch."""
        raise NotImplementedError

    def __call__(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Run the model on ``x`` (``(B, C, *spatial)``, moved to the CPU as float32)."""
        arr = np.ascontiguousarray(torch.as_tensor(x).detach().cpu().float().numpy())
        step = self.max_batch
        parts = [self._run(arr[i : i + step]) for i in range(0, len(arr), step)]
        outs = parts[0] if len(parts) == 1 else [np.concatenate(o, axis=0) for o in zip(*parts)]
        tensors = tuple(torch.from_numpy(np.asarray(o)) for o in outs)
        return tensors[0] if len(tensors) == 1 else tensors

    def eval(self) -> "_ExportedNetwork":
        """No-op (an exported network is always in inference mode); returns self like ``nn.Module.eval``."""
        return self


class OnnxNetwork(_ExportedNetwork):
    """A callable that runs an ONNX model with ONNX Runtime on the CPU, taking and returning torch tensors.

    It stands in for the torch module wherever the bundle's inferer calls ``network(x)`` (``SimpleInferer``,
    ``SlidingWindowInferer``), so the bundle's pre- and postprocessing are unchanged.

    Args:
        model: path of an ``.onnx`` file or its serialised bytes.
        threads: intra-op threads (0: ``torch.get_num_threads()``).
        optimization: graph optimisation level, a key of :data:`ORT_OPTIMIZATION_LEVELS`.
        source: where the model came from, for messages (``cache``, ``bundle``, ``memory``).
        max_batch: largest batch given to one ONNX Runtime call; larger batches run in slices. ONNX Runtime keeps
            its memory arena at the peak of the largest batch it has run (about 230 MB per 512 x 512 frame for the
            flagship), so slices of 1 (the default) bound the arena at one frame's activations; per frame, batches
            are no faster on a CPU (``benchmarks/README.md``).

    Raises:
        ImportError: ONNX Runtime is not installed.
        ValueError: unknown optimisation level.
    """

    def __init__(
        self,
        model: Union[PathLike, bytes],
        threads: int = 0,
        optimization: str = "extended",
        source: str = "",
        max_batch: int = 1,
    ) -> None:
        import onnxruntime as ort

        if optimization not in ORT_OPTIMIZATION_LEVELS:
            raise ValueError(f"ort_optimization must be one of {sorted(ORT_OPTIMIZATION_LEVELS)}, got {optimization!r}")
        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads) if threads and threads > 0 else max(1, torch.get_num_threads())
        so.inter_op_num_threads = 1
        so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, ORT_OPTIMIZATION_LEVELS[optimization])
        so.log_severity_level = 3
        # no memory-pattern planning: the planned block roughly doubles the arena (about 100 MB more for one
        # 512 x 512 flagship frame) and costs no time here (benchmarks/README.md)
        so.enable_mem_pattern = False
        # idle worker threads sleep instead of spinning, so that the pre- and postprocessing between two calls (and
        # any other engine in the process) get the cores (benchmarks/README.md)
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        data = model if isinstance(model, (bytes, bytearray)) else str(model)
        self.session = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.threads = so.intra_op_num_threads
        self.optimization = optimization
        self.source = source
        self.max_batch = max(1, int(max_batch))

    def _run(self, batch: np.ndarray) -> Sequence[np.ndarray]:
        return self.session.run(self.output_names, {self.input_name: batch})

    def __repr__(self) -> str:
        return f"OnnxNetwork(threads={self.threads}, optimization={self.optimization!r}, source={self.source!r})"


class OpenVinoNetwork(_ExportedNetwork):
    """A callable that runs an ONNX model with OpenVINO on the CPU, taking and returning torch tensors.

    Like :class:`OnnxNetwork` it stands in for the torch module inside the bundle's inferer. The model is read
    once and compiled for each input shape it meets (a static shape lets OpenVINO plan its memory and pick its
    kernels: about 10 % faster than one dynamic-shape compilation, ``benchmarks/README.md``); the few most
    recent shapes stay compiled. Frames are run one at a time (``max_batch``), which bounds the memory at one
    frame's activations and is as fast per frame as a batch on a CPU.

    Args:
        model: path of an ``.onnx`` file or its serialised bytes.
        threads: inference threads (0: ``torch.get_num_threads()``).
        source: where the model came from, for messages (``cache``, ``bundle``, ``memory``).
        max_batch: largest batch given to one OpenVINO call; larger batches run in slices.
        max_shapes: how many compiled shapes are kept (least recently used dropped first).

    Raises:
        ImportError: OpenVINO is not installed.
    """

    def __init__(
        self,
        model: Union[PathLike, bytes],
        threads: int = 0,
        source: str = "",
        max_batch: int = 1,
        max_shapes: int = 4,
    ) -> None:
        import openvino as ov

        self._core = ov.Core()
        data = bytes(model) if isinstance(model, (bytes, bytearray)) else str(model)
        self._model = self._core.read_model(data)
        self.output_count = len(self._model.outputs)
        self.threads = int(threads) if threads and threads > 0 else max(1, torch.get_num_threads())
        self.precision = "f32"
        self.source = source
        self.max_batch = max(1, int(max_batch))
        self.max_shapes = max(1, int(max_shapes))
        self._compiled: Dict[Tuple[int, ...], Any] = {}

    def prepare(self, shape: Sequence[int]) -> "OpenVinoNetwork":
        """Compile for one call's input shape now (``(B, C, *spatial)``, B capped at ``max_batch``), so that a
        model OpenVINO cannot compile fails here rather than in the middle of a cine."""
        shape = tuple(int(d) for d in shape)
        self._request((min(shape[0], self.max_batch), *shape[1:]))
        return self

    def _request(self, shape: Tuple[int, ...]) -> Any:
        """The infer request compiled for ``shape`` (compiled on first use)."""
        req = self._compiled.pop(shape, None)
        if req is None:
            model = self._model.clone()
            model.reshape([int(d) for d in shape])
            config = {
                "INFERENCE_PRECISION_HINT": self.precision,
                "INFERENCE_NUM_THREADS": self.threads,
                "PERFORMANCE_HINT": "LATENCY",
            }
            req = self._core.compile_model(model, "CPU", config).create_infer_request()
            while len(self._compiled) >= self.max_shapes:
                self._compiled.pop(next(iter(self._compiled)))
        self._compiled[shape] = req  # most recently used last
        return req

    def _run(self, batch: np.ndarray) -> Sequence[np.ndarray]:
        result = self._request(tuple(batch.shape)).infer({0: batch})
        return [np.array(result[k], copy=True) for k in range(self.output_count)]  # the request reuses its buffers

    def __repr__(self) -> str:
        return f"OpenVinoNetwork(threads={self.threads}, precision={self.precision!r}, source={self.source!r})"


def _shipped_export(weights: Path, weights_sha: str) -> Optional[Path]:
    """``models/model.onnx`` beside the weights when its sidecar names the same weights hash."""
    onnx_file = weights.with_suffix(".onnx")
    sidecar = Path(str(onnx_file) + ".json")
    if not (onnx_file.is_file() and sidecar.is_file()):
        return None
    try:
        info = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return onnx_file if info.get("weights_sha256") == weights_sha else None


def exported_onnx(
    network: torch.nn.Module,
    weights: PathLike,
    network_def: Any,
    input_shape: Sequence[int],
    cache_dir: Optional[PathLike] = None,
) -> Tuple[Union[Path, bytes], str]:
    """The ONNX export of a network with trained weights: shipped, cached, or built now (and cached).

    Args:
        network: the torch network holding ``weights``.
        weights: the weights file the network was loaded from (its hash keys the cache).
        network_def: the bundle's network definition (part of the key: other widths, other export).
        input_shape: an example input shape without the batch axis (its rank is part of the key).
        cache_dir: cache folder (default :func:`onnx_cache_dir`).

    Returns:
        ``(model, source)``: the ``.onnx`` path (or the bytes when no cache folder is writable) and where it came
        from (``"bundle <path>"``, ``"cache <path>"``, ``"memory"``).

    Raises:
        RuntimeError: the export failed.
    """
    weights = Path(weights)
    sha = file_sha256(weights)
    shipped = _shipped_export(weights, sha)
    if shipped is not None:
        return shipped, f"bundle {shipped}"
    folder = Path(cache_dir) if cache_dir is not None else onnx_cache_dir()
    key = onnx_cache_key(sha, network_def, len(input_shape) + 1, network_code_sha256(network))
    target = folder / f"{key}.onnx"
    if target.is_file() and target.stat().st_size > 0:
        return target, f"cache {target}"
    data = export_onnx(network, input_shape)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, overwrite=True) as tmp:
            Path(tmp).write_bytes(data)
    except OSError:  # read-only home: keep the export in memory for this process
        return data, "memory"
    return target, f"cache {target}"


def _build_engine(
    factory: Callable[[Union[Path, bytes], str], Any],
    network: torch.nn.Module,
    weights: PathLike,
    network_def: Any,
    input_shape: Sequence[int],
    cache_dir: Optional[PathLike],
) -> Any:
    """``factory(model, source)`` on the network's export (:func:`exported_onnx`); a damaged cache entry is deleted
    and the export rebuilt once."""
    model, source = exported_onnx(network, weights, network_def, input_shape, cache_dir)
    try:
        return factory(model, source)
    except Exception:  # noqa: BLE001 - a damaged cache entry is rebuilt below; other failures re-raise
        if not (isinstance(model, Path) and source.startswith("cache")):
            raise
        model.unlink(missing_ok=True)
        model, source = exported_onnx(network, weights, network_def, input_shape, cache_dir)
        return factory(model, source)


def onnx_network(
    network: torch.nn.Module,
    weights: PathLike,
    network_def: Any,
    input_shape: Sequence[int],
    threads: int = 0,
    optimization: str = "extended",
    cache_dir: Optional[PathLike] = None,
) -> OnnxNetwork:
    """The ONNX Runtime version of a network with trained weights, exported once and cached.

    Args:
        network: the torch network holding ``weights``.
        weights: the weights file the network was loaded from (its hash keys the cache).
        network_def: the bundle's network definition (part of the key: other widths, other export).
        input_shape: an example input shape without the batch axis (its rank is part of the key).
        threads: ONNX Runtime intra-op threads (0: ``torch.get_num_threads()``).
        optimization: ONNX Runtime graph optimisation level (:data:`ORT_OPTIMIZATION_LEVELS`).
        cache_dir: cache folder (default :func:`onnx_cache_dir`).

    Raises:
        ImportError: ONNX Runtime is not installed.
        RuntimeError: the export failed.
    """
    return _build_engine(
        lambda m, src: OnnxNetwork(m, threads, optimization, source=src),
        network, weights, network_def, input_shape, cache_dir,
    )


def openvino_network(
    network: torch.nn.Module,
    weights: PathLike,
    network_def: Any,
    input_shape: Sequence[int],
    threads: int = 0,
    cache_dir: Optional[PathLike] = None,
) -> OpenVinoNetwork:
    """The OpenVINO version of a network with trained weights (the same cached ONNX export as :func:`onnx_network`).

    Args:
        network: the torch network holding ``weights``.
        weights: the weights file the network was loaded from (its hash keys the cache).
        network_def: the bundle's network definition.
        input_shape: an example input shape without the batch axis.
        threads: OpenVINO inference threads (0: ``torch.get_num_threads()``).
        cache_dir: cache folder (default :func:`onnx_cache_dir`).

    Raises:
        ImportError: OpenVINO is not installed.
        RuntimeError: the export failed.
    """
    return _build_engine(
        lambda m, src: OpenVinoNetwork(m, threads, source=src).prepare((1, *input_shape)),
        network, weights, network_def, input_shape, cache_dir,
    )


def describe_runtime(engine: Any) -> Mapping[str, Any]:
    """A JSON-friendly description of the runtime an engine runs on (for summaries)."""
    if isinstance(engine, OnnxNetwork):
        return {"runtime": "onnx", "threads": engine.threads, "optimization": engine.optimization}
    if isinstance(engine, OpenVinoNetwork):
        return {"runtime": "openvino", "threads": engine.threads, "precision": engine.precision}
    return {"runtime": "torch", "threads": torch.get_num_threads()}
