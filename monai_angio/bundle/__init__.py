"""Bundles: locate them, read their configs, validate their metadata, and run their inference config.

- :mod:`.locate`: :func:`resolve_bundle` (path, name, ``$MONAI_ANGIO_BUNDLES_DIR``) and :func:`load_bundle_config`;
- :mod:`.runner`: :class:`BundleRunner` / :func:`load_bundle`, the single inference path (the bundle's own
  ``preprocessing``, ``network_def``, ``inferer`` and ``postprocessing``, per frame or temporal window);
- :mod:`.cine`: :class:`CineFile`, a file's frames read on demand by a bundle's loader (streamed cines);
- :mod:`.hooks`: the functions bundle configs call by name (datalists, inference items, metadata helpers);
- :mod:`.metadata`: offline ``metadata.json`` validation against ``bundles/metadata_schema.json``;
- :mod:`.inferers`: the configs' inferers: :class:`ImageOnlyInferer` (MONAI's ``SimpleInferer``, image only) and
  :class:`MultiScaleInferer` (large frames also run at the size the network learned real images at);
- :mod:`.evaluation`: :func:`evaluate_real`, a bundle and a Frangi baseline scored on images with vessel masks (the
  engine of ``monai-angio evaluate``).

Names are imported from their submodule on first use (:func:`monai_angio.utils.lazy.lazy_exports`): finding a
bundle (:mod:`.locate`) does not import torch or MONAI; :class:`BundleRunner` does.
"""

from monai_angio.utils.lazy import lazy_exports

__all__ = [
    "BUNDLE_NAMES",
    "DEFAULT_BUNDLE",
    "bundles_dir",
    "bundle_search_dirs",
    "resolve_bundle",
    "bundle_path",
    "bundle_config_path",
    "load_bundle_config",
    "load_metadata_schema",
    "metadata_schema_path",
    "validate_metadata",
    "validate_bundle_metadata",
    "BundleRunner",
    "load_bundle",
    "load_state_dict",
    "class_names_from_metadata",
    "CineFile",
    "ImageOnlyInferer",
    "MultiScaleInferer",
    "main_output",
    "evaluate_real",
]

# where each name lives: imported on first use (PEP 562), so that importing the package stays cheap
_EXPORTS = {
    "locate": [
        "BUNDLE_NAMES", "DEFAULT_BUNDLE", "bundle_config_path", "bundle_path", "bundle_search_dirs", "bundles_dir",
        "load_bundle_config", "resolve_bundle",
    ],
    "metadata": ["load_metadata_schema", "metadata_schema_path", "validate_bundle_metadata", "validate_metadata"],
    "runner": ["BundleRunner", "class_names_from_metadata", "load_bundle", "load_state_dict"],
    "inferers": ["ImageOnlyInferer", "MultiScaleInferer", "main_output"],
    "cine": ["CineFile"],
    "evaluation": ["evaluate_real"],
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
