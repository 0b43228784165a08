"""Find a monai-angio bundle and read its configs: the one resolver and the one config loader of the package.

The bundles live in ``<repo>/bundles/<name>/`` in the MONAI model-zoo layout (``configs/``, ``docs/``, ``models/``,
``LICENSE``). A bundle is named by a path to its folder, or by its name, looked up in the folders of
``$MONAI_ANGIO_BUNDLES_DIR`` (``os.pathsep``-separated), then the repository's ``bundles/``, then ``./bundles``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

__all__ = [
    "BUNDLE_NAMES",
    "DEFAULT_BUNDLE",
    "bundles_dir",
    "bundle_search_dirs",
    "resolve_bundle",
    "bundle_path",
    "bundle_config_path",
    "load_bundle_config",
    "parse_config_overrides",
]

PathLike = Union[str, os.PathLike]

#: the flagship bundle (artery + catheter), the default of commands that take ``--bundle``
DEFAULT_BUNDLE = "xca_artery_catheter_efficientunetpp"

BUNDLE_NAMES = (
    DEFAULT_BUNDLE,
    "xca_vessel_unet3plus",
    "xca_temporal_cenet",
    "xca_major_vessel_unet",
)

_REPO_BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def bundles_dir() -> Path:
    """The first folder bundles are looked up in: ``$MONAI_ANGIO_BUNDLES_DIR``'s first entry, else ``<repo>/bundles``.

    ``bundles_dir() / "metadata_schema.json"`` is the project's metadata schema.
    """
    env = os.environ.get("MONAI_ANGIO_BUNDLES_DIR")
    if env:
        first = next((p for p in env.split(os.pathsep) if p), None)
        if first:
            return Path(first)
    return _REPO_BUNDLES


def bundle_search_dirs() -> List[Path]:
    """Folders searched for bundle names, in order (``$MONAI_ANGIO_BUNDLES_DIR``, repository, ``./bundles``)."""
    dirs: List[Path] = []
    env = os.environ.get("MONAI_ANGIO_BUNDLES_DIR")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.extend([_REPO_BUNDLES, Path.cwd() / "bundles"])
    return dirs


def resolve_bundle(bundle: PathLike) -> Path:
    """Return the root folder of a bundle given by path or by name.

    Args:
        bundle: a bundle folder (holding ``configs/``), or a bundle name such as
            ``xca_artery_catheter_efficientunetpp``.

    Returns:
        The resolved bundle root.

    Raises:
        FileNotFoundError: no such bundle (the message lists the folders tried and the known names).
    """
    p = Path(bundle).expanduser()
    if (p / "configs").is_dir():
        return p.resolve()
    tried = [str(p)]
    for d in bundle_search_dirs():
        cand = d / str(bundle)
        tried.append(str(cand))
        if (cand / "configs").is_dir():
            return cand.resolve()
    raise FileNotFoundError(
        f"bundle {str(bundle)!r} not found (looked in: {', '.join(tried)}); known bundles: {', '.join(BUNDLE_NAMES)}"
    )


def bundle_path(name: PathLike) -> Path:
    """Alias of :func:`resolve_bundle` (kept for configs and scripts that use this name)."""
    return resolve_bundle(name)


def bundle_config_path(name: PathLike, config: str = "inference") -> Path:
    """Return ``<bundle>/configs/<config>.json`` (``config="logging"`` -> ``logging.conf``).

    Raises:
        FileNotFoundError: no such bundle or config.
    """
    root = resolve_bundle(name)
    cfg = root / "configs"
    if config == "logging":
        path = cfg / "logging.conf"
    else:
        path = cfg / f"{config}.json"
        if not path.is_file():
            alt = sorted(cfg.glob(f"{config}.y*ml"))
            path = alt[0] if alt else path
    if not path.is_file():
        raise FileNotFoundError(f"{path}: bundle config not found")
    return path


def load_bundle_config(name: PathLike, config: Union[str, Sequence[str]] = "inference", **override: Any):
    """Read one or more configs of a bundle into a :class:`monai.bundle.ConfigParser`.

    ``bundle_root`` is set to the bundle folder, the metadata (when present) is loaded under ``_meta_`` and the
    ``override`` entries (config ids, ``#`` separated) are applied last (an id the config lacks is added; command
    lines check theirs first with :func:`parse_config_overrides`).

    Args:
        name: bundle name or folder.
        config: config name(s) without extension; several are merged in order (e.g. ``["train", "evaluate"]``).
        override: id -> value overrides.

    Returns:
        The parser (nothing is instantiated yet).
    """
    from monai.bundle import ConfigParser

    root = resolve_bundle(name)
    names = [config] if isinstance(config, str) else list(config)
    parser = ConfigParser()
    parser.read_config([str(bundle_config_path(root, c)) for c in names])
    meta = root / "configs" / "metadata.json"
    if meta.is_file():
        parser.read_meta(str(meta))
    parser["bundle_root"] = str(root)
    for key, value in override.items():
        parser[key] = value
    return parser


def parse_config_overrides(
    items: Sequence[str], bundle: Optional[PathLike] = None, config: str = "inference"
) -> Dict[str, Any]:
    """Config overrides from ``ID=VALUE`` texts (the ``--set`` of ``monai-angio segment`` / ``evaluate``).

    ``VALUE`` is read as JSON where it parses (``0.04``, ``null``, ``true``, ``[1, 2]``), else kept as text. With
    ``bundle``, every id must exist in that bundle's ``config`` (a typo would otherwise add an unused id and
    silently change nothing).

    Raises:
        ValueError: an item without ``=`` or with an empty id, an id given twice, or one the bundle lacks.
    """
    out: Dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"expected ID=VALUE (e.g. noise_threshold_sigma=0.04), got {item!r}")
        if key in out:
            raise ValueError(f"config id {key!r} set twice")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    if out and bundle is not None:
        parser = load_bundle_config(bundle, config)
        missing = [k for k in out if k not in parser]
        if missing:
            raise ValueError(
                f"bundle {resolve_bundle(bundle).name} has no config id {', '.join(map(repr, missing))} in its "
                f"{config} config; --set can only change ids it has"
            )
    return out
