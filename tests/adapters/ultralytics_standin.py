"""A stand-in for Ultralytics ``Results`` with the real attribute names and types, filled from
the arrays the real package gave (fixtures/adapters/ultralytics, made by its script)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "adapters" / "ultralytics"


class Tensor:
    """What prelabel may call on a CPU ``torch.Tensor``: ``cpu()``, ``numpy()``, ``shape``,
    ``dtype``; named ``Tensor`` so the recorded type names compare."""

    def __init__(self, data: npt.NDArray[Any]) -> None:
        self._data = data

    def cpu(self) -> Tensor:
        return self

    def numpy(self) -> npt.NDArray[Any]:
        return self._data

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> str:
        return f"torch.{self._data.dtype}"


@dataclass
class Boxes:
    xyxy: Tensor
    conf: Tensor
    cls: Tensor
    id: Tensor | None


@dataclass
class OBB:
    xyxyxyxy: Tensor
    conf: Tensor
    cls: Tensor
    id: Tensor | None


@dataclass
class Masks:
    xy: list[npt.NDArray[np.float32]]


@dataclass
class Keypoints:
    xy: Tensor
    conf: Tensor | None


@dataclass
class Results:
    orig_shape: tuple[int, int]
    path: str
    names: dict[int, str]
    boxes: Boxes | None = None
    masks: Masks | None = None
    keypoints: Keypoints | None = None
    obb: OBB | None = None


def load() -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    meta = json.loads((FIXTURE / "results.json").read_text())
    with np.load(FIXTURE / "results.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def standins() -> dict[str, Results]:
    """One stand-in per recorded case, by case name."""
    meta, arrays = load()
    names = {int(k): v for k, v in meta["names"].items()}
    out = {}
    for rec in meta["results"]:
        case, attrs = rec["case"], rec["attrs"]

        def tensor(key: str, case: str = case) -> Tensor | None:
            full = f"{case}/{key}"
            return Tensor(arrays[full]) if full in arrays else None

        r = Results(tuple(rec["orig_shape"]), rec["path"], dict(names))  # type: ignore[arg-type]
        if attrs["boxes"]["type"] != "None":
            r.boxes = Boxes(
                tensor("boxes.xyxy"), tensor("boxes.conf"), tensor("boxes.cls"), tensor("boxes.id")
            )  # type: ignore[arg-type]
        if attrs["obb"]["type"] != "None":
            r.obb = OBB(
                tensor("obb.xyxyxyxy"), tensor("obb.conf"), tensor("obb.cls"), tensor("obb.id")
            )  # type: ignore[arg-type]
        if attrs["keypoints"]["type"] != "None":
            r.keypoints = Keypoints(tensor("keypoints.xy"), tensor("keypoints.conf"))  # type: ignore[arg-type]
        if attrs["masks"]["type"] != "None":
            n = len(attrs["masks.xy"]["items"])
            r.masks = Masks([arrays[f"{case}/masks.xy/{i}"] for i in range(n)])
        out[case] = r
    return out


def describe(value: Any) -> dict[str, Any]:
    """The fixture script's description of a value, for the stand-in's attributes."""
    if value is None:
        return {"type": "None"}
    if isinstance(value, Tensor):
        return {"type": "Tensor", "dtype": value.dtype, "shape": list(value.shape)}
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, list):
        return {"type": "list", "items": [describe(v) for v in value]}
    return {"type": type(value).__name__}
