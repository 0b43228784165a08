"""Loading of local (never downloaded) pretrained weights into network sub-modules."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Optional, Union

import torch
from torch import nn

from monai_angio.errors import AngioInputError

__all__ = ["load_local_state_dict"]


def _unwrap(obj: object) -> Mapping[str, torch.Tensor]:
    """Return the tensor mapping held by a checkpoint (plain state dict or ``{"state_dict": ...}``)."""
    if isinstance(obj, nn.Module):
        return obj.state_dict()
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model", "network"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
        return obj  # type: ignore[return-value]
    raise TypeError(f"unsupported checkpoint content of type {type(obj).__name__}")


def load_local_state_dict(
    module: nn.Module,
    path: Union[str, "os.PathLike[str]"],
    prefix: Optional[str] = None,
    ignore_prefixes: Sequence[str] = (),
) -> nn.Module:
    """Load a local state dict file into ``module`` strictly, with an error that says what does not match.

    No download ever happens: ``path`` must be an existing file written by ``torch.save``. The file may hold
    the module's own state dict, a ``{"state_dict": ...}`` / ``{"model": ...}`` wrapper, or the state dict of a
    whole network whose keys for ``module`` start with ``prefix`` (e.g. ``"encoder."``); keys starting with any of
    ``ignore_prefixes`` (e.g. an unused classifier) are dropped before the strict comparison.

    Args:
        module: the module to fill.
        path: file written by ``torch.save``.
        prefix: key prefix to strip (only keys with this prefix are used) when present in the file.
        ignore_prefixes: key prefixes (after stripping) that are not compared.

    Returns:
        ``module``, with the weights loaded.

    Raises:
        AngioInputError: the file is missing, unreadable, or its keys/shapes do not match ``module``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise AngioInputError("pretrained weights file not found (weights are never downloaded)", path)
    try:
        state = dict(_unwrap(torch.load(path, map_location="cpu", weights_only=True)))
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        raise AngioInputError(f"cannot read pretrained weights: {e}", path) from e
    if prefix and any(k.startswith(prefix) for k in state):
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    state = {k: v for k, v in state.items() if not any(k.startswith(p) for p in ignore_prefixes)}
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong_shape = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} shape mismatches (e.g. {wrong_shape[:3]})")
        raise AngioInputError(
            f"pretrained weights do not match {type(module).__name__}: " + "; ".join(parts), path
        )
    module.load_state_dict(state, strict=True)
    return module
