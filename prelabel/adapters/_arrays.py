"""Tensors and arrays alike, without importing torch."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from prelabel.annotations import _array


def to_numpy(value: Any, what: str) -> npt.NDArray[Any]:
    """``value`` as a numpy array, as every constructor converts its input
    (:func:`prelabel.annotations._array`): a torch tensor through
    ``.detach().cpu().numpy()`` (on a GPU it is copied to the CPU, as Ultralytics'
    ``Results.cpu()`` does; a bfloat16 one as float32), anything else through ``np.asarray``;
    one that cannot be converted is an :class:`InputError` naming ``what``."""
    return _array(value, what, "an array")


def optional_numpy(value: Any, what: str) -> npt.NDArray[Any] | None:
    return None if value is None else to_numpy(value, what)


def check_flag(value: Any, param: str) -> bool:
    """A True/False keyword (``with_boxes``): a string such as ``"no"`` is not taken as true."""
    import numpy as np

    from prelabel.annotations import _bad, _described

    if not isinstance(value, bool | np.bool_):
        raise _bad(param, f"expected True or False, got {_described(value)}")
    return bool(value)
