"""Import peers (segmentation_models_pytorch and its timm) for benchmarks only, beside this project's CPU torch.

PyPI's torchvision does not import beside the local CPU torch build (``torchvision::nms does not exist``), and
smp imports ``torchvision`` and ``huggingface_hub`` at module level although building an untrained network
needs neither. :func:`import_smp` installs stand-in modules for those two names (any attribute is an inert class)
and imports smp from a folder where it was installed without its dependencies::

    pip download --no-deps -d /tmp/peers_dl segmentation-models-pytorch timm
    pip install --no-deps --target /tmp/peers /tmp/peers_dl/*.whl

smp stays out of the package's dependencies; nothing here is imported by ``monai_angio``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Optional

__all__ = ["install_stubs", "import_smp"]

STUBBED = ("torchvision", "huggingface_hub", "safetensors")


class _AnyAttribute(type):
    """Metaclass of the stand-in classes: every attribute is another inert class."""

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _inert_class(attr)


def _inert_class(name: str) -> type:
    return _AnyAttribute(
        name,
        (object,),
        {"__new__": lambda c, *a, **k: object.__new__(c), "__init_subclass__": classmethod(lambda c, **k: None)},
    )


def _module_getattr(attr: str) -> Any:
    if attr.startswith("__"):
        raise AttributeError(attr)
    return _inert_class(attr)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torchvision.*``, ``huggingface_hub.*``, ``safetensors.*`` and returns empty stand-in packages."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if name.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        m = types.ModuleType(spec.name)
        m.__path__ = []  # type: ignore[attr-defined]
        m.__version__ = "0.0+benchmark-stub"  # type: ignore[attr-defined]
        m.__getattr__ = _module_getattr  # type: ignore[attr-defined]
        return m

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install_stubs() -> None:
    """Put the stand-in modules first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubFinder())


def import_smp(folder: Optional[str]) -> Optional[types.ModuleType]:
    """Import ``segmentation_models_pytorch`` from ``folder`` with the stand-ins, or None if it is not there."""
    if not folder:
        return None
    install_stubs()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        import segmentation_models_pytorch as smp
    except Exception as e:  # noqa: BLE001 - a peer that does not import is reported, not fatal
        print(f"segmentation_models_pytorch not importable from {folder}: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    return smp
