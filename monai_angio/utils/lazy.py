"""Lazy package exports (PEP 562): a package's public names are imported from their submodule on first use.

A package ``__init__`` that imports every submodule eagerly makes ``import monai_angio.<package>`` cost as much as
its heaviest submodule (torch, MONAI, ignite), even for a caller that needs one light function. With
:func:`lazy_exports` the ``__init__`` only names where each public name lives::

    __all__ = ["LoadAngiogram", "read_angiogram"]
    __getattr__, __dir__ = lazy_exports(__name__, {"io": ["LoadAngiogram"], "readers": ["read_angiogram"]})

``from monai_angio.transforms import read_angiogram`` and ``monai_angio.transforms.LoadAngiogram`` keep working
(and return the very same objects as the submodules); only the submodule that defines the name is imported, the
first time the name is used, and the value is then cached on the package.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]], submodules: Sequence[str] = ()
) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` functions for a package whose exports load on first use.

    Args:
        package: the package's ``__name__``.
        exports: submodule name relative to the package (e.g. ``"io"``) -> the public names it defines.
        submodules: submodules that are themselves exported as attributes (``monai_angio.data.synthetic``).

    Returns:
        ``(__getattr__, __dir__)``, to assign at module level in the package ``__init__``.

    Raises:
        ValueError: a name is listed for two submodules.
    """
    where: Dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is listed for both {where[name]!r} and {module!r}")
            where[name] = module
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in subs:
            return importlib.import_module(f"{package}.{name}")
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # cached: later look-ups bypass __getattr__
        return value

    def __dir__() -> List[str]:
        return sorted(set(vars(sys.modules[package])) | set(where) | subs)

    return __getattr__, __dir__
