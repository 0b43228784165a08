"""Offline validation of a bundle's ``configs/metadata.json`` against ``bundles/metadata_schema.json``.

The validator implements the subset of JSON Schema used by the project's own schema of the fields the MONAI model
zoo requires (types, required fields, enums, patterns, local ``$ref``), so ``verify_metadata`` needs no network.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Mapping

from monai_angio.bundle.locate import bundles_dir, resolve_bundle

__all__ = ["load_metadata_schema", "validate_metadata", "validate_bundle_metadata", "metadata_schema_path"]


def metadata_schema_path() -> str:
    """Path of the project's metadata schema (pass it as ``meta_file``/``filepath`` to ``verify_metadata``)."""
    return str(bundles_dir() / "metadata_schema.json")


def load_metadata_schema() -> dict:
    """Load ``bundles/metadata_schema.json`` (the project's own schema of the model-zoo metadata fields)."""
    with open(metadata_schema_path(), encoding="utf-8") as f:
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
    if "$ref" in schema:  # local references only: {"$ref": "#/definitions/<name>"}
        schema = root["definitions"][str(schema["$ref"]).rsplit("/", 1)[-1]]
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
    entry of ``changelog`` and that every output ``channel_def`` has ``num_channels`` entries. A one-channel
    (sigmoid) output may instead list the two values of its thresholded label map, ``{"0": "background",
    "1": <name>}``: MONAI Label reads ``channel_def`` as label value -> name, and the label map a binary bundle
    returns holds 1 for the structure.

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
            binary_label_map = side == "outputs" and nch == 1 and len(cdef) == 2 and cdef.get("0") == "background"
            if len(cdef) != nch and not binary_label_map:
                errors.append(f"metadata.network_data_format.{side}.{key}: channel_def has {len(cdef)} "
                              f"entries but num_channels is {nch}")
            if sorted(int(k) for k in cdef) != list(range(len(cdef))):
                errors.append(f"metadata.network_data_format.{side}.{key}: channel_def keys must be "
                              f"0..{len(cdef) - 1}")
    return errors


def validate_bundle_metadata(name: str | os.PathLike) -> list[str]:
    """Validate ``configs/metadata.json`` of bundle ``name`` (see :func:`validate_metadata`)."""
    with open(resolve_bundle(name) / "configs" / "metadata.json", encoding="utf-8") as f:
        return validate_metadata(json.load(f))
