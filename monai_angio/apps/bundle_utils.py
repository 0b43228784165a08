"""Deprecated: the bundle helpers moved to :mod:`monai_angio.bundle`.

- locating bundles and reading configs: :mod:`monai_angio.bundle.locate`;
- metadata validation: :mod:`monai_angio.bundle.metadata`;
- the functions bundle configs call by name: :mod:`monai_angio.bundle.hooks`.

This module re-exports those names so that configs and scripts written for earlier versions keep working; it
will be removed in a later release. Its ``fire``-free command line is gone: ``fire`` is a dependency, so use
MONAI's own ``python -m monai.bundle run ...``.
"""

from __future__ import annotations

import warnings

from monai_angio.bundle.hooks import (
    center_to_meta,
    channel_output_transform,
    inference_items,
    load_datalist,
    resize_to_original,
    spacing_from_datalist,
    tag_frame,
)
from monai_angio.bundle.locate import (
    BUNDLE_NAMES,
    bundle_config_path,
    bundle_path,
    bundles_dir,
    load_bundle_config,
)
from monai_angio.bundle.metadata import load_metadata_schema, validate_bundle_metadata, validate_metadata

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
    "inference_items",
    "channel_output_transform",
    "spacing_from_datalist",
    "center_to_meta",
    "tag_frame",
    "resize_to_original",
]

warnings.warn(
    "monai_angio.apps.bundle_utils is deprecated; use monai_angio.bundle (hooks, locate, metadata)",
    DeprecationWarning,
    stacklevel=2,
)
