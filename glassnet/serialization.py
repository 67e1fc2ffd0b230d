"""Save and load models and state dicts as data, never code.

A ``.glass`` file is a NumPy ``.npz`` archive: one array per parameter plus ``__glassnet__``, a JSON header with
the format version, the architecture (each layer's class name and constructor arguments) and a SHA-256 of the
contents. Loading uses ``allow_pickle=False`` and rebuilds only known layer classes. Saving writes a temporary file
beside the target and renames it over the target, so a failed save leaves the previous file intact.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any, Mapping

import numpy as np

from . import nn
from .nn import Module
from .tensor import Tensor

__all__ = ["save", "load", "register_layer", "LAYERS"]

FORMAT, VERSION, HEADER = "glassnet", 1, "__glassnet__"

LAYERS: dict[str, type[Module]] = {
    name: cls for name, cls in vars(nn).items() if isinstance(cls, type) and issubclass(cls, Module)
    and name not in ("Module", "Loss", "ActivationLayer")
}


def register_layer(cls: type[Module]) -> type[Module]:
    """Class decorator: let ``gn.load`` rebuild a layer of your own (it must define ``get_config``)."""
    LAYERS[cls.__name__] = cls
    return cls


def _architecture(module: Module) -> dict[str, Any]:
    spec: dict[str, Any] = {"class": type(module).__name__, "config": module.get_config()}
    if LAYERS.get(spec["class"]) is not type(module):
        raise TypeError(f"{type(module).__name__} is not a registered layer; decorate it with "
                        f"@gn.serialization.register_layer or save its state_dict()")
    if getattr(module, "children_are_arguments", False):
        spec["children"] = [_architecture(child) for child in module.children()]
    elif module._modules:
        raise TypeError(f"{type(module).__name__} has sub-modules that gn.save cannot rebuild; save its "
                        f"state_dict() instead")
    return spec


def _build(spec: Any) -> Module:
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise ValueError(f"malformed architecture entry {spec!r}")
    cls = LAYERS.get(spec["class"])
    if cls is None:
        raise ValueError(f"unknown layer class {spec['class']!r} (known: {sorted(LAYERS)})")
    children = [_build(child) for child in spec.get("children", [])]
    try:
        return cls(*children, **spec.get("config", {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot rebuild {spec['class']} from {spec.get('config')}: {error}") from None


def _digest(header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    sha = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        sha.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()


def save(obj: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a model (architecture + weights) or a state dict to ``path`` atomically."""
    path = os.fspath(path)
    if isinstance(obj, Module):
        header: dict[str, Any] = {"kind": "model", "architecture": _architecture(obj)}
        arrays = obj.state_dict()
    elif isinstance(obj, Mapping):
        header = {"kind": "state_dict"}
        arrays = {str(k): np.asarray(v._data if isinstance(v, Tensor) else v) for k, v in obj.items()}
    else:
        raise TypeError(f"gn.save takes a Module or a state dict, got {type(obj).__name__}")
    for name, array in arrays.items():
        if array.dtype.kind not in "biuf" or name == HEADER:
            raise TypeError(f"gn.save: entry {name!r} is not a numeric array (dtype {array.dtype})")
    header.update(format=FORMAT, version=VERSION, arrays={k: [v.dtype.str, list(v.shape)] for k, v in arrays.items()})
    header["sha256"] = _digest(header, arrays)
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **{HEADER: blob}, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load(path: str | os.PathLike) -> Module | dict[str, np.ndarray]:
    """Read a file written by ``save``: a rebuilt model with its weights, or the state dict."""
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):
            raise ValueError("it holds a single array, not a glassnet archive")
        with archive:
            if HEADER not in archive.files:
                raise ValueError("it has no glassnet header")
            header = json.loads(archive[HEADER].tobytes().decode())
            arrays = {name: archive[name] for name in archive.files if name != HEADER}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile,
            UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable glassnet file ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a glassnet file (bad header)")
    if header.get("version") != VERSION:
        raise ValueError(f"{path}: glassnet file version {header.get('version')} is not supported (this glassnet "
                         f"reads version {VERSION})")
    expected = header.pop("sha256", None)
    if expected != _digest(header, arrays):
        raise ValueError(f"{path}: checksum mismatch: the file was modified or damaged")
    if header.get("kind") == "state_dict":
        return arrays
    if header.get("kind") != "model":
        raise ValueError(f"{path}: unknown content kind {header.get('kind')!r}")
    try:
        model = _build(header.get("architecture"))
    except ValueError as error:
        raise ValueError(f"{path}: cannot rebuild the model: {error}") from None
    floats = [array.dtype for array in arrays.values() if array.dtype.kind == "f"]
    if floats:
        model.to(floats[0])
    try:
        model.load_state_dict(arrays)
    except ValueError as error:
        raise ValueError(f"{path}: weights do not fit the architecture: {error}") from None
    return model
