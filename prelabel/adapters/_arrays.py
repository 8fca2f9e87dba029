"""Tensors and arrays alike, without importing torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.errors import InputError


def to_numpy(value: Any, what: str) -> npt.NDArray[Any]:
    """``value`` as a numpy array: a torch tensor through ``.detach().cpu().numpy()``, anything
    else through ``np.asarray``. A tensor on a GPU is copied to the CPU (as Ultralytics'
    ``Results.cpu()`` does); one that cannot be is an :class:`InputError` naming ``what``."""
    if isinstance(value, np.ndarray):
        return value
    try:
        if hasattr(value, "detach"):
            value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        if hasattr(value, "numpy"):
            value = value.numpy()
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(None, what, f"cannot be read as an array ({type(exc).__name__})") from None


def optional_numpy(value: Any, what: str) -> npt.NDArray[Any] | None:
    return None if value is None else to_numpy(value, what)
