"""Loading of local (never downloaded) pretrained weights into network sub-modules."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Optional, Union

import torch
from torch import nn

from monai_angio.errors import AngioInputError

__all__ = ["load_local_state_dict", "split_class_channel"]


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


def split_class_channel(
    state: Mapping[str, torch.Tensor], weight_key: str, bias_key: str, channel: int
) -> dict[str, torch.Tensor]:
    """A copy of ``state`` whose output layer gains a class that shares ``channel``'s probability, split in half.

    The layer's output channel ``channel`` is duplicated as a new last channel and both copies' biases are lowered
    by ``log 2``: after a softmax the two classes get half the old class's probability each and every other class
    keeps its own, so the summed probability -- and the label map that merges the two -- is exactly the old
    network's. Fine-tuning then learns to tell the two apart (e.g. major arteries from smaller branches,
    :mod:`monai_angio.losses.partial`) from an unchanged starting point.

    Args:
        state: the old network's state dict.
        weight_key: the output layer's weight (``(C, ...)``).
        bias_key: its bias (``(C,)``).
        channel: the class to split.

    Returns:
        a new state dict (CPU tensors) whose layer has ``C + 1`` output channels.

    Raises:
        KeyError: a key is not in ``state``.
        ValueError: ``channel`` is out of range.
    """
    out = {k: v.detach().cpu().clone() for k, v in state.items()}
    w, b = out[weight_key], out[bias_key]
    if not 0 <= channel < w.shape[0]:
        raise ValueError(f"channel {channel} out of range for {w.shape[0]} output channels")
    half = torch.log(torch.tensor(2.0, dtype=b.dtype))
    b[channel] = b[channel] - half  # ``out`` holds clones: the caller's state is untouched
    out[weight_key] = torch.cat([w, w[channel : channel + 1]], 0)
    out[bias_key] = torch.cat([b, b[channel : channel + 1]], 0)
    return out
