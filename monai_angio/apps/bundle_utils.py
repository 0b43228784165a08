"""Helpers to locate the monai-angio MONAI bundles, load their configs and validate their metadata.

The bundles live in ``<repo>/bundles/<name>/`` in the MONAI model-zoo layout (``configs/``, ``docs/``,
``models/``, ``LICENSE``). Set the environment variable ``MONAI_ANGIO_BUNDLES_DIR`` to use another folder.

Besides path helpers this module holds the small pieces the bundle configs refer to by name:

- :func:`load_datalist`: one split of a ``monai-angio synth`` datalist with paths resolved against its folder;
- :func:`channel_output_transform`: an Ignite ``output_transform`` selecting one channel of ``pred`` and
  ``label`` so that MONAI's ``MeanDice`` handler reports a per-class Dice;

and an offline metadata validator (:func:`validate_metadata`) implementing the subset of JSON Schema used by
``bundles/metadata_schema.json`` (our own schema of the fields the model zoo requires).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "BUNDLE_NAMES",
    "bundles_dir",
    "bundle_path",
    "bundle_config_path",
    "load_bundle_config",
    "load_metadata_schema",
    "validate_metadata",
    "validate_bundle_metadata",
    "load_datalist",
    "channel_output_transform",
    "spacing_from_datalist",
    "center_to_meta",
    "tag_frame",
    "resize_to_original",
    "parse_bundle_args",
    "main",
]

BUNDLE_NAMES = (
    "xca_artery_catheter_efficientunetpp",
    "xca_vessel_unet3plus",
    "xca_temporal_cenet",
    "xca_major_vessel_unet",
)


def bundles_dir() -> Path:
    """Return the folder holding the bundles (``$MONAI_ANGIO_BUNDLES_DIR`` or ``<repo>/bundles``)."""
    env = os.environ.get("MONAI_ANGIO_BUNDLES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "bundles"


def bundle_path(name: str) -> Path:
    """Return the root folder of bundle ``name`` (one of :data:`BUNDLE_NAMES` or a path to a bundle folder).

    Raises:
        FileNotFoundError: if the folder does not exist or has no ``configs/metadata.json``.
    """
    candidate = Path(name)
    root = candidate if (candidate / "configs").is_dir() else bundles_dir() / name
    if not (root / "configs" / "metadata.json").is_file():
        raise FileNotFoundError(f"{root}: not a bundle folder (no configs/metadata.json); known: {BUNDLE_NAMES}")
    return root


def bundle_config_path(name: str, config: str = "inference") -> Path:
    """Return ``<bundle>/configs/<config>.json`` (``config`` may also be ``"logging"`` -> ``logging.conf``)."""
    root = bundle_path(name)
    path = root / "configs" / ("logging.conf" if config == "logging" else f"{config}.json")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: bundle config not found")
    return path


def load_bundle_config(name: str, config: str | Sequence[str] = "inference", **override: Any):
    """Read one or more configs of a bundle into a :class:`monai.bundle.ConfigParser`.

    ``bundle_root`` is set to the bundle folder, the metadata is loaded under ``_meta_`` and ``override``
    entries (config ids, ``#`` separated) are applied last.

    Args:
        name: bundle name or folder.
        config: config name(s) without ``.json``; several are merged in order (e.g. ``["train", "evaluate"]``).
        override: id -> value overrides.
    """
    from monai.bundle import ConfigParser

    root = bundle_path(name)
    names = [config] if isinstance(config, str) else list(config)
    parser = ConfigParser()
    parser.read_config([str(bundle_config_path(name, c)) for c in names])
    parser.read_meta(str(root / "configs" / "metadata.json"))
    parser["bundle_root"] = str(root)
    for key, value in override.items():
        parser[key] = value
    return parser


# ----------------------------------------------------------------------------------------- metadata validation


def load_metadata_schema() -> dict:
    """Load ``bundles/metadata_schema.json`` (the project's own schema of the model-zoo metadata fields)."""
    with open(bundles_dir() / "metadata_schema.json", encoding="utf-8") as f:
        return json.load(f)


_TYPES: Mapping[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _validate(value: Any, schema: Mapping, path: str, errors: list[str], root: Mapping) -> None:
    if "$ref" in schema:  # only local references: {"$ref": "<name in definitions>"}
        schema = root["definitions"][schema["$ref"]]
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            errors.append(f"{path}: expected {'/'.join(types)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: string shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']!r}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                _validate(item, schema["items"], f"{path}[{i}]", errors, root)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required field {key!r}")
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{path}: fewer than {schema['minProperties']} entries")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                _validate(item, props[key], f"{path}.{key}", errors, root)
            elif isinstance(extra, dict):
                _validate(item, extra, f"{path}.{key}", errors, root)
            elif extra is False:
                errors.append(f"{path}: unexpected field {key!r}")


def validate_metadata(meta: Mapping, schema: Mapping | None = None) -> list[str]:
    """Validate a bundle ``metadata.json`` dictionary; return the list of problems (empty when valid).

    Besides the schema (types, required fields, enums, patterns) it checks that ``version`` is the newest
    entry of ``changelog`` and that every output ``channel_def`` has ``num_channels`` entries.

    Args:
        meta: the parsed metadata.
        schema: schema dict; defaults to :func:`load_metadata_schema`.
    """
    schema = load_metadata_schema() if schema is None else schema
    errors: list[str] = []
    _validate(meta, schema, "metadata", errors, schema)
    if errors:
        return errors
    changelog = meta["changelog"]
    if meta["version"] not in changelog:
        errors.append(f"metadata.version: {meta['version']!r} has no changelog entry")
    else:

        def _key(v: str) -> tuple:
            return tuple(int(p) for p in v.split("."))

        if max(changelog, key=_key) != meta["version"]:
            errors.append("metadata.version: not the newest changelog entry")
    for side in ("inputs", "outputs"):
        for key, fmt in meta["network_data_format"][side].items():
            nch, cdef = fmt["num_channels"], fmt["channel_def"]
            if len(cdef) != nch:
                errors.append(f"metadata.network_data_format.{side}.{key}: channel_def has {len(cdef)} "
                              f"entries but num_channels is {nch}")
            if sorted(int(k) for k in cdef) != list(range(len(cdef))):
                errors.append(f"metadata.network_data_format.{side}.{key}: channel_def keys must be 0..{nch - 1}")
    return errors


def validate_bundle_metadata(name: str) -> list[str]:
    """Validate ``configs/metadata.json`` of bundle ``name`` (see :func:`validate_metadata`)."""
    with open(bundle_path(name) / "configs" / "metadata.json", encoding="utf-8") as f:
        return validate_metadata(json.load(f))


# ------------------------------------------------------------------------------------- config building blocks


def load_datalist(
    data_list_file_path: str | os.PathLike, split: str = "training", label_key: str = "label"
) -> list[dict]:
    """Load one split of a decathlon-style datalist (as written by ``monai-angio synth``).

    Relative paths are resolved against the folder of the datalist file (MONAI
    ``load_decathlon_datalist(..., base_dir=...)``). If ``label_key`` is not ``"label"`` (e.g.
    ``"label_vessel"`` for the binary bundles), that entry is copied to ``"label"`` so that MONAI's default
    ``prepare_batch`` finds it. Entries without the label (test splits) are kept as they are.

    Raises:
        AngioInputError: if the file is missing, has no such split, or the split is empty.
    """
    from monai.data import load_decathlon_datalist

    from monai_angio.errors import AngioInputError

    path = Path(data_list_file_path).expanduser().resolve()
    if not path.is_file():
        raise AngioInputError("datalist file not found (run `monai-angio synth` or set dataset_dir)", path)
    try:
        items = load_decathlon_datalist(str(path), True, split, base_dir=str(path.parent))
    except (ValueError, KeyError) as e:
        raise AngioInputError(f"cannot read split {split!r}: {e}", path) from e
    if not items:
        raise AngioInputError(f"split {split!r} is empty", path)
    if label_key != "label":
        for item in items:
            if label_key in item:
                item["label"] = item[label_key]
    return _collatable(items)


def _collatable(items: list[dict]) -> list[dict]:
    """Make optional per-entry values batchable: MONAI collates dicts key by key, so a key that is ``None`` in
    some entries (e.g. ``stenosis_rc`` of a phantom without lesion) and a list in others cannot be batched.
    Such ``None`` values become NaN of the same length as the other entries (``center_to_meta`` reads NaN as "no
    lesion"); a key that is ``None`` everywhere is dropped.
    """
    keys = {k for item in items for k, v in item.items() if v is None}
    for key in keys:
        filled = [item[key] for item in items if item.get(key) is not None]
        for item in items:
            if not filled:
                item.pop(key, None)
            elif item.get(key) is None:
                item[key] = (np.full(np.shape(filled[0]), np.nan).tolist() if np.ndim(filled[0]) else float("nan"))
    return items


def spacing_from_datalist(
    data: Mapping, keys: Sequence[str] = ("image", "label"), spacing_key: str = "spacing_mm"
) -> dict:
    """Give images without a known pixel size the datalist's ``spacing_mm`` (mm per pixel) as MONAI affine.

    ``monai-angio synth`` stores the true in-plane spacing of each phantom in the datalist. PNG stills carry
    none, so the loader sets 1 mm (``meta["spacing_source"] == "unknown"``); this function rewrites the affine
    of those tensors to ``diag(s, s, 1)`` so that later spatial transforms (``Resized``) keep track of the
    spacing and mm metrics (``SurfaceDistanceMMMetric``) use it. Tensors whose loader found a spacing
    (DICOM, NIfTI) are left alone, as are entries without ``spacing_key``.
    """
    import torch
    from monai.data import MetaTensor

    out = dict(data)
    value = out.get(spacing_key)
    if value is None:
        return out
    row, col = (float(value),) * 2 if np.ndim(value) == 0 else (float(value[0]), float(value[1]))
    for key in keys:
        t = out.get(key)
        if not isinstance(t, MetaTensor) or t.meta.get("spacing_source", "unknown") != "unknown":
            continue
        t = t.clone()
        affine = torch.eye(3, dtype=torch.float64)
        affine[0, 0], affine[1, 1] = row, col
        t.affine = affine
        t.meta["spacing_source"] = "datalist"
        out[key] = t
    return out


def center_to_meta(
    data: Mapping, key: str = "label", center_key: str = "stenosis_rc", meta_key: str = "stenosis_center_rc"
) -> dict:
    """Copy ``data[center_key]`` (row, col in original pixels) into ``data[key].meta[meta_key]``.

    The centre is rescaled from the original size (``meta["spatial_shape"]``) to the current one, so it can be
    applied after ``Resized``. ``monai_angio.metrics.LocalF1Metric`` reads it from there (the ignite handler
    passes only ``y_pred`` and ``y``). Entries whose ``center_key`` is missing or ``None`` (no lesion) get the
    image centre, so that every item of a batch carries the key (MONAI collates metadata key by key).
    """
    from monai.data import MetaTensor

    out = dict(data)
    center = out.get(center_key)
    t = out.get(key)
    if not isinstance(t, MetaTensor):
        return out
    current = np.asarray(t.shape[-2:], dtype=float)
    if center is not None and not np.all(np.isfinite(np.asarray(center, dtype=float))):
        center = None  # NaN placeholder written by load_datalist for entries without a lesion
    if center is None:  # no lesion: the image centre (LocalF1Metric's own fallback), so every item has the key
        rc = current // 2
    else:
        original = np.asarray(t.meta.get("spatial_shape", current), dtype=float).ravel()[-2:]
        rc = np.asarray(center, dtype=float).ravel()[:2] * current / np.maximum(original, 1)
    t = t.clone()
    t.meta[meta_key] = rc
    out[key] = t
    return out


def tag_frame(data: Mapping, key: str = "image", frame_key: str = "frame") -> dict:
    """Store the cine frame index as ``meta["patch_index"]`` so that ``SaveImaged`` writes one file per frame.

    ``SaveImaged`` appends ``_<patch_index>`` to the output name (``cine_000_seg_3.nii.gz`` for frame 3).
    """
    from monai.data import MetaTensor

    out = dict(data)
    t = out.get(key)
    if frame_key in out and isinstance(t, MetaTensor):
        t = t.clone()
        t.meta["patch_index"] = int(out[frame_key])
        out[key] = t
    return out


def resize_to_original(img: Any, mode: str = "bilinear") -> Any:
    """Resize a channel-first 2D prediction back to the original in-plane size ``meta["spatial_shape"][-2:]``.

    Used where MONAI ``Invertd`` cannot follow the preprocessing (the temporal window replaces the image and
    its transform history). A tensor without that metadata, or already of that size, is returned unchanged.
    """
    from monai.data import MetaTensor
    from monai.transforms import Resize

    if not isinstance(img, MetaTensor) or "spatial_shape" not in img.meta:
        return img
    size = [int(v) for v in np.asarray(img.meta["spatial_shape"]).ravel()[-2:]]
    if list(img.shape[-2:]) == size:
        return img
    return Resize(spatial_size=size, mode=mode)(img)


def channel_output_transform(channel: int, keys: Sequence[str] = ("pred", "label")) -> Callable:
    """Ignite ``output_transform`` returning ``(preds, labels)`` restricted to one one-hot channel.

    Used with ``monai.handlers.MeanDice(include_background=True)`` to report the Dice of one class (e.g.
    ``channel=1`` artery, ``channel=2`` catheter) next to the key metric.

    Args:
        channel: channel index to keep (the channel axis is 0 for decollated items).
        keys: keys of the prediction and the label in each decollated output item.
    """
    from monai.handlers import from_engine

    getter = from_engine(list(keys))

    def _transform(output: Any) -> tuple:
        return tuple([t[channel : channel + 1] for t in values] for values in getter(output))

    return _transform


# ------------------------------------------------------------------------------------------ command line


def _parse_value(text: str) -> Any:
    """Parse a command-line value the way ``fire`` does: a Python literal when it is one, else the string."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_bundle_args(argv: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``COMMAND --key value ...`` (``--key=value`` too; a trailing ``--flag`` means ``True``).

    Returns:
        the command and the keyword arguments, values parsed as Python literals where possible.

    Raises:
        ValueError: for a missing command or a positional argument after the command.
    """
    args = list(argv)
    if not args or args[0].startswith("--"):
        raise ValueError(
            "usage: python -m monai_angio.apps.bundle_utils {run,run_workflow,ckpt_export} --key value ..."
        )
    command, rest, kwargs = args[0], args[1:], {}
    positional: list[str] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        if not token.startswith("--"):
            positional.append(token)
            i += 1
            continue
        key = token[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            kwargs[key] = _parse_value(value)
            i += 1
        elif i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            kwargs[key] = _parse_value(rest[i + 1])
            i += 2
        else:
            kwargs[key] = True
            i += 1
    if positional:
        if command == "ckpt_export" and len(positional) == 1:
            kwargs["net_id"] = positional[0]
        else:
            raise ValueError(f"unexpected positional arguments {positional}")
    return command, kwargs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m monai_angio.apps.bundle_utils run|run_workflow|ckpt_export ...``.

    The same commands and arguments as ``python -m monai.bundle ...`` (e.g. ``run --config_file
    configs/train.json --dataset_dir DIR --epochs 2``), without needing the optional ``fire`` package that
    MONAI's own command line requires.
    """
    import sys

    from monai.bundle import scripts

    command, kwargs = parse_bundle_args(sys.argv[1:] if argv is None else argv)
    allowed = ("run", "run_workflow", "ckpt_export", "verify_net_in_out")
    if command not in allowed:
        raise SystemExit(f"unknown command {command!r}; choose from {allowed}")
    getattr(scripts, command)(**kwargs)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
