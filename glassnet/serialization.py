"""``gn.save`` / ``gn.load``: tensors, arrays, state dicts, checkpoint dicts and whole models, as data, never code.

A glassnet file is a zip archive (NumPy's ``.npz`` layout): ``__glassnet__.json``, the header, and one ``.npy``
member per array. The header holds the format version, the table of arrays (dtype, shape) and the saved object as
a JSON tree: numbers, strings, lists, tuples, dicts (any key type JSON can't keep is tagged), tensors and arrays by
number, and modules as their registered class name, constructor arguments, parameters, buffers and children.

Loading trusts nothing in the file (safetensors' rule): the header's size is capped; every array's npy header is
read and checked against the table and the zip's sizes before a byte of data is read; modules are built only from
registered classes (``nn.register_module``), with placeholders for the weights the file replaces (nothing drawn,
allocated or computed for them: ``nn.placeholders``), and their parameter and buffer shapes are compared with the
table before any array is allocated; data are read in chunks up to the size the headers declare. Every failure is
a ValueError that names the file.

Saving writes a temporary file beside the target, fsyncs it and renames it over the target (a symlink is followed,
so its target is replaced), keeping the permissions of the file it replaces (a new file gets the umask's).
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from importlib import import_module
from typing import Any, BinaryIO, Iterator

import numpy as np
from numpy.lib import format as npy

from .nn import Module, Parameter, ParameterDict, ParameterList
from .nn.placeholders import building, is_placeholder, placeholder
from .nn.registry import constructor_arguments, name_of, registered
from .tensor import Tensor

_engine = import_module(".tensor", __package__)  # the module (the package's attribute ``tensor`` is gn.tensor())

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = (2, 0)  # (major, minor): a reader refuses a newer major version, reads newer minor ones
HEADER = "__glassnet__.json"
MAX_HEADER_BYTES = 8 << 20  # a model's JSON tree is a few KB per module
MAX_NPY_HEADER_BYTES = 10_000  # NumPy's own limit on an .npy header
CHUNK = 1 << 20  # bytes read at a time into an array
MAX_DEFLATE_RATIO = 1032  # deflate expands at most 1032-fold: a member declaring more is lying
NUMERIC_KINDS = "biufc"


class _Malformed(ValueError):
    """A problem with the file; ``load`` adds the file's name."""


def version_problem(version: Any, reader: tuple[int, int]) -> str | None:
    """What stops a reader of layout ``reader`` (major, minor) from reading one of ``version`` as stored ([major,
    minor]): "malformed", "newer" (a newer major version: a layout it does not know) or "older" (an older major
    one); None if nothing does (a newer minor version adds only what a reader may ignore)."""
    if not (isinstance(version, list) and len(version) == 2 and all(type(v) is int for v in version)):
        return "malformed"
    if version[0] != reader[0]:
        return "newer" if version[0] > reader[0] else "older"
    return None


# ------------------------------------------------------------------------------------------ encoding

class _Encoder:
    """The saved object → (JSON tree, arrays by number). Each array or tensor object is stored once."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.numbers: dict[int, int] = {}  # id(array) → its number

    def array(self, array: np.ndarray, where: str) -> int:
        if array.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"gn.save: {where} is an array of dtype {array.dtype}; only numeric arrays are stored")
        if id(array) not in self.numbers:
            self.numbers[id(array)] = len(self.arrays)
            self.arrays.append(array)
        return self.numbers[id(array)]

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, float) and not isinstance(obj, np.floating):
            return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, Module):
            return {"module": self.module(obj, where)}
        if isinstance(obj, Tensor):
            node = {"tensor": self.array(obj._data, where), "requires_grad": obj.requires_grad}
            return {**node, "parameter": True} if isinstance(obj, Parameter) else node
        if isinstance(obj, np.ndarray):
            return {"array": self.array(obj, where)}
        if isinstance(obj, np.generic):
            return {"scalar": self.array(np.asarray(obj), where)}
        if isinstance(obj, (list, tuple)):
            return {type(obj).__name__ if type(obj) in (list, tuple) else "list":
                    [self.encode(item, f"{where}[{i}]") for i, item in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (str, int, float, bool))) or isinstance(key, np.generic):
                    raise TypeError(f"gn.save: {where} has a key {key!r} of type {type(key).__name__}; keys must "
                                    f"be strings, numbers, booleans or None")
                items.append([self.encode(key, where), self.encode(value, f"{where}[{key!r}]")])
            return {"dict": items}
        raise TypeError(f"gn.save cannot store {where}, a {type(obj).__name__}: it stores tensors, arrays, numbers, "
                        f"strings, lists, tuples, dicts and modules (never pickles)")

    def module(self, module: Module, where: str, state: bool = True) -> dict[str, Any]:
        cls = type(module)
        name = name_of(cls)
        if name is None:
            raise TypeError(f"gn.save: {where} is a {cls.__name__}, which gn.load could not rebuild: decorate its "
                            f"class with @gn.nn.register_module, or save its state_dict() instead")
        args, kwargs = self.arguments(module, where)
        spec: dict[str, Any] = {"class": name, "args": args, "kwargs": kwargs}
        if state:
            spec["training"] = module.training
            spec["parameters"] = {key: [self.array(p._data, f"{where}.{key}"), p.requires_grad]
                                  for key, p in module._parameters.items() if p is not None}
            spec["buffers"] = {key: self.array(b._data, f"{where}.{key}") for key, b in module._buffers.items()
                               if b is not None and key not in module._non_persistent}
            spec["children"] = {key: self.module(child, f"{where}.{key}")
                                for key, child in module._modules.items() if child is not None}
        return spec

    def arguments(self, module: Module, where: str) -> tuple[list, dict[str, Any]]:
        """The constructor's recorded arguments when they are data, else ``get_config()``'s keyword arguments."""
        recorded = constructor_arguments(module)
        if recorded is not None:
            try:
                args, kwargs = recorded
                return ([self.argument(a, f"{where} argument {i}") for i, a in enumerate(args)],
                        {k: self.argument(v, f"{where} argument {k!r}") for k, v in kwargs.items()})
            except TypeError as error:
                problem = str(error)
        else:
            problem = "its constructor arguments were not recorded"
        try:
            config = module.get_config()
        except TypeError as error:
            if type(module).get_config is not Module.get_config:  # a class's own get_config says why not
                raise TypeError(f"gn.save cannot record how to build {where} ({type(module).__name__}): {error}; "
                                f"save its state_dict() instead") from None
            raise TypeError(f"gn.save cannot record how to build {where} ({type(module).__name__}): {problem}; "
                            f"define get_config() returning the keyword arguments that rebuild it") from None
        return [], {k: self.argument(v, f"{where} config {k!r}") for k, v in config.items()}

    def argument(self, value: Any, where: str) -> Any:
        """A constructor argument: JSON data, or a module (built from its class and arguments only)."""
        if isinstance(value, Module):
            return {"module": self.module(value, where, state=False)}
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            raise TypeError(f"{where} is a {type(value).__name__}, not JSON data")
        if isinstance(value, (list, tuple)):
            return {type(value).__name__ if type(value) in (list, tuple) else "list":
                    [self.argument(v, where) for v in value]}
        if isinstance(value, dict):
            return {"dict": [[self.argument(k, where), self.argument(v, where)] for k, v in value.items()]}
        if value is None or isinstance(value, (bool, str, int, float)):
            return self.encode(value, where)
        raise TypeError(f"{where} is a {type(value).__name__}, not JSON data")


# ------------------------------------------------------------------------------------------ save

def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask is the fallback)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); where a folder cannot be opened (Windows), the rename stands."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write(file: BinaryIO, header: dict[str, Any], arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(HEADER, json.dumps(header, allow_nan=False))
        for number, array in enumerate(arrays):
            array = array if array.flags.c_contiguous else array.copy(order="C")
            with archive.open(f"{number}.npy", "w", force_zip64=array.nbytes > (1 << 30)) as member:
                npy.write_array(member, array, allow_pickle=False)


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write ``obj`` to ``f`` (a path, or a binary file object): a tensor, an array, a module, or a tree of dicts,
    lists and tuples of those, numbers and strings (e.g. ``{"epoch": 3, "model_state_dict": …}``).

    A path is written atomically: a temporary file in the target's folder, fsync, then ``os.replace``. An existing
    file keeps its permissions, a new one gets what ``open()`` gives under the umask, and a symlink is written
    through to its target."""
    encoder = _Encoder()
    root = encoder.encode(obj, "the object")
    header = {"format": "glassnet", "version": list(FORMAT_VERSION), "root": root,
              "arrays": [[a.dtype.str, list(a.shape)] for a in encoder.arrays]}
    if not isinstance(f, (str, os.PathLike)):
        if not hasattr(f, "write"):
            raise TypeError(f"gn.save: f must be a path or a binary file object, got {type(f).__name__}")
        _write(f, header, encoder.arrays)
        return
    given = os.fspath(f)
    target = os.path.realpath(given)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"gn.save: no folder {os.path.dirname(given) or '.'!r} to save into",
                                given)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write(file, header, encoder.arrays)
            file.flush()
            os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        os.replace(temporary, target)
        _fsync_folder(folder)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# ------------------------------------------------------------------------------------------ load

class _Reader:
    """A glassnet zip archive, read defensively."""

    def __init__(self, file: BinaryIO) -> None:
        start = file.read(6)
        file.seek(0)
        if start == b"\x93NUMPY":
            raise _Malformed("not a glassnet file: it holds a single NumPy array (.npy)")
        if not start:
            raise _Malformed("not a glassnet file: it is empty")
        if start[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise _Malformed(f"not a glassnet file: it is not a zip archive (it starts with {start[:4]!r})")
        try:
            self.zip = zipfile.ZipFile(file)
        except zipfile.BadZipFile as error:
            raise _Malformed(f"not a readable glassnet file: a damaged zip archive ({error})") from None
        self.members = {info.filename: info for info in self.zip.infolist()}
        for info in self.members.values():
            _check_sizes(info)

    def header(self) -> dict[str, Any]:
        info = self.members.get(HEADER)
        if info is None:
            raise _Malformed("not a glassnet file: a zip archive without a glassnet header (gn.load reads only "
                             "files written by gn.save)")
        if info.file_size > MAX_HEADER_BYTES:
            raise _Malformed(f"its header declares {info.file_size} bytes, more than the {MAX_HEADER_BYTES} a "
                             f"glassnet header may have")
        with self.zip.open(info) as member:
            raw = member.read(MAX_HEADER_BYTES + 1)
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict) or header.get("format") != "glassnet":
            raise _Malformed("not a glassnet file (its header is not a glassnet header)")
        version = header.get("version")
        problem = version_problem(version, FORMAT_VERSION)
        if problem == "malformed":
            raise _Malformed(f"its header has no valid format version (got {version!r})")
        if problem == "newer":
            raise _Malformed(f"it was written in glassnet file format {version[0]}.{version[1]}, newer than this "
                             f"glassnet reads ({FORMAT_VERSION[0]}.x): upgrade glassnet to load it")
        if problem == "older":
            raise _Malformed(f"it is in glassnet file format {version[0]}, which this glassnet no longer reads "
                             f"(format {FORMAT_VERSION[0]}): load it with the glassnet that wrote it, and save its "
                             f"state_dict()")
        return header

    def table(self, header: dict[str, Any]) -> list[tuple[np.dtype, tuple[int, ...]]]:
        """The arrays' (dtype, shape), checked against each member's npy header and size (no data read)."""
        entries = header.get("arrays")
        if not isinstance(entries, list):
            raise _Malformed("its header has no table of arrays")
        expected = {HEADER, *(f"{i}.npy" for i in range(len(entries)))}
        unexpected = sorted(set(self.members) - expected)
        if unexpected:
            raise _Malformed(f"it has member(s) {unexpected[:5]} that its header does not list")
        table = []
        for number, entry in enumerate(entries):
            name = f"{number}.npy"
            if name not in self.members:
                raise _Malformed(f"array {number} is missing (no member {name!r})")
            dtype, shape = self._entry(number, entry)
            info = self.members[name]
            with self.zip.open(info) as member:
                stored_dtype, stored_shape, _, offset = _npy_header(member, name)
            if (stored_dtype, stored_shape) != (dtype, shape):
                raise _Malformed(f"array {number}'s npy header says {stored_dtype} {stored_shape}, the file's "
                                 f"header {dtype} {shape}")
            nbytes = math.prod(shape) * dtype.itemsize
            if info.file_size != offset + nbytes:
                raise _Malformed(f"array {number} ({dtype} {shape}) needs {offset + nbytes} bytes but its member "
                                 f"declares {info.file_size}")
            table.append((dtype, shape))
        return table

    @staticmethod
    def _entry(number: int, entry: Any) -> tuple[np.dtype, tuple[int, ...]]:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], list) and all(type(n) is int and n >= 0 for n in entry[1])):
            raise _Malformed(f"array {number} has a malformed entry {entry!r} in the header")
        try:
            dtype = np.dtype(entry[0])
        except TypeError:
            raise _Malformed(f"array {number} has an unknown dtype {entry[0]!r}") from None
        if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
            raise _Malformed(f"array {number} has dtype {dtype}; glassnet files hold numeric arrays only")
        return dtype, tuple(entry[1])

    def array(self, number: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        """Array ``number``'s data, read in chunks into its final array; no more than the declared bytes."""
        with self.zip.open(self.members[f"{number}.npy"]) as member:
            _, _, fortran, _ = _npy_header(member, f"{number}.npy")
            array = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
            view = memoryview(array.reshape(-1).view(np.uint8))
            filled = 0
            while filled < len(view):
                got = member.readinto(view[filled:filled + CHUNK])
                if not got:
                    raise _Malformed(f"array {number} ends after {filled} of its {len(view)} bytes")
                filled += got
            if member.read(1):
                raise _Malformed(f"array {number} has more data than its header declares")
        return array.T if fortran else array


def _check_sizes(info: zipfile.ZipInfo) -> None:
    """A member's declared size must be one its compressed bytes can hold (a stored member's is its length)."""
    if info.compress_type == zipfile.ZIP_STORED:
        possible = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        possible = info.compress_size * MAX_DEFLATE_RATIO + 1024
    else:
        raise _Malformed(f"member {info.filename!r} uses zip compression method {info.compress_type}; glassnet "
                         f"files are stored or deflated")
    if info.file_size > possible:
        raise _Malformed(f"member {info.filename!r} declares {info.file_size} bytes, more than its "
                         f"{info.compress_size} compressed bytes can hold")


def _npy_header(member: BinaryIO, name: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """(dtype, shape, fortran_order, data offset) of an .npy stream, refusing object dtypes."""
    version = npy.read_magic(member)
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise _Malformed(f"{name} has an unknown npy version {version}")
    read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, fortran, dtype = read(member, max_header_size=MAX_NPY_HEADER_BYTES)
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS:
        raise _Malformed(f"{name} holds dtype {dtype}; glassnet files hold numeric arrays only (never pickles)")
    return dtype, tuple(shape), bool(fortran), member.tell()


class _Decoder:
    """JSON tree → objects: modules first built (with placeholders) and checked against the table, then the
    arrays read and everything filled in."""

    def __init__(self, table: list[tuple[np.dtype, tuple[int, ...]]]) -> None:
        self.table = table
        self.arrays: dict[int, np.ndarray] = {}
        self.modules: dict[int, Module] = {}  # id(spec) → the module built from it
        self.parameters: dict[int, Parameter] = {}  # array number → the Parameter holding it (tied weights)

    def number(self, value: Any, what: str) -> int:
        if type(value) is not int or not 0 <= value < len(self.table):
            raise _Malformed(f"{what} refers to array {value!r}, which the file does not have")
        return value

    # ---- phase 1: build every module of the tree
    def build_all(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self.build_all(item)
        elif isinstance(node, dict):
            if "module" in node:
                self.modules[id(node["module"])] = self.build(node["module"], "model")
            else:
                for value in node.values():
                    self.build_all(value)

    def build(self, spec: Any, where: str) -> Module:
        if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
            raise _Malformed(f"{where} has a malformed module entry")
        cls = registered(spec["class"])
        if cls is None:
            raise _Malformed(f"{where} is of class {spec['class']!r}, which is not registered: decorate that class "
                             f"with @gn.nn.register_module (and import it) before gn.load")
        args, kwargs = spec.get("args", []), spec.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise _Malformed(f"{where} has malformed constructor arguments")
        args = [self.value(a, arguments=True) for a in args]
        kwargs = {k: self.value(v, arguments=True) for k, v in kwargs.items()}
        try:
            module = cls(*args, **kwargs)
        except Exception as error:  # arguments from the file: any failure of the constructor is the file's
            raise _Malformed(f"cannot rebuild {where} as {spec['class']}({_call(args, kwargs)}): {error}") from None
        if "parameters" in spec:
            self.check(module, spec, where)
        return module

    def check(self, module: Module, spec: dict[str, Any], where: str) -> None:
        """The built module's own parameters, buffers and children have the names and shapes of the file's; missing
        children (a container's) are built and added."""
        params, buffers, children = (spec.get(key) for key in ("parameters", "buffers", "children"))
        if not all(isinstance(part, dict) for part in (params, buffers, children)):
            raise _Malformed(f"{where} has a malformed module entry")
        if isinstance(module, (ParameterList, ParameterDict)) and not module._parameters:
            self.add_parameters(module, params, where)
        mine = {k: p for k, p in module._parameters.items() if p is not None}
        persistent = {k: b for k, b in module._buffers.items() if b is not None and k not in module._non_persistent}
        for kind, built, stored in (("parameters", mine, params), ("buffers", persistent, buffers)):
            if set(built) != set(stored):
                raise _Malformed(f"{where} ({spec['class']}) has {kind} {sorted(built)} but the file has "
                                 f"{sorted(stored)}")
            for key, entry in stored.items():
                if kind == "parameters":
                    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], bool)):
                        raise _Malformed(f"{where}.{key} has a malformed parameter entry {str(entry)[:80]}")
                    entry = entry[0]
                number = self.number(entry, f"{where}.{key}")
                dtype, shape = self.table[number]
                if kind == "parameters" and dtype.kind != "f":
                    raise _Malformed(f"{where}.{key} is a parameter but the file's array has dtype {dtype}")
                if built[key]._data.shape != shape:
                    raise _Malformed(f"{where}.{key} of {spec['class']} has shape {built[key]._data.shape} but the "
                                     f"file's array has shape {shape}")
        for key, child_spec in children.items():
            child = module._modules.get(key)
            if child is None:
                module.add_module(key, self.build(child_spec, f"{where}.{key}"))
                continue
            stored_class = child_spec.get("class") if isinstance(child_spec, dict) else repr(child_spec)
            if name_of(type(child)) != stored_class:
                raise _Malformed(f"{where}.{key} is a {type(child).__name__} when built, but the file has "
                                 f"{stored_class}")
            self.check(child, child_spec, f"{where}.{key}")
        extra = sorted(k for k, c in module._modules.items() if c is not None and k not in children)
        if extra:
            raise _Malformed(f"{where} ({spec['class']}) builds children {extra} that the file has no state for")

    def add_parameters(self, container: Module, params: dict[str, Any], where: str) -> None:
        """A ParameterList's or ParameterDict's parameters as the file lists them: placeholders of the stored shape
        and dtype, which take no memory (phase 2 gives them the file's arrays)."""
        for key, entry in params.items():
            number = self.number(entry[0] if isinstance(entry, list) and entry else entry, f"{where}.{key}")
            dtype, shape = self.table[number]
            param = Parameter(np.zeros(0, dtype))
            param._data = placeholder(shape, dtype)
            try:
                container.register_parameter(key, param)
            except (KeyError, TypeError, ValueError) as error:
                raise _Malformed(f"{where} cannot hold a parameter named {key!r}: {error}") from None

    # ---- phase 2: fill
    def fill(self, module: Module, spec: dict[str, Any]) -> None:
        object.__setattr__(module, "training", bool(spec.get("training", True)))
        for key, (number, requires_grad) in spec["parameters"].items():
            if number in self.parameters:  # a weight shared by two modules stays one Parameter
                module._parameters[key] = self.parameters[number]
                object.__setattr__(module, key, self.parameters[number])
                continue
            param = module._parameters[key]
            param._data = self.arrays[number]
            param.requires_grad = bool(requires_grad)
            self.parameters[number] = param
        for key, number in spec["buffers"].items():
            module._buffers[key]._data = self.arrays[number]
        for key, child_spec in spec["children"].items():
            self.fill(module._modules[key], child_spec)
        for key, value in [*module._parameters.items(), *module._buffers.items()]:
            if value is not None and is_placeholder(value._data):
                raise _Malformed(f"{type(module).__name__}.{key} is left for the file to fill while loading (its "
                                 f"constructor's random draw or initial value), but the file does not hold it")

    # ---- the tree
    def value(self, node: Any, arguments: bool = False) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            raise _Malformed("a list in the tree without its tag")
        if not isinstance(node, dict) or len(node) not in (1, 2, 3):
            raise _Malformed(f"a malformed entry {str(node)[:80]!r} in the tree")
        if "float" in node:
            if node["float"] not in ("nan", "inf", "-inf"):
                raise _Malformed(f"a malformed number {node['float']!r}")
            return float(node["float"])
        if "list" in node or "tuple" in node:
            items = node.get("list", node.get("tuple"))
            if not isinstance(items, list):
                raise _Malformed("a malformed list in the tree")
            values = [self.value(item, arguments) for item in items]
            return values if "list" in node else tuple(values)
        if "dict" in node:
            if not isinstance(node["dict"], list) or not all(isinstance(p, list) and len(p) == 2
                                                             for p in node["dict"]):
                raise _Malformed("a malformed dict in the tree")
            result = {}
            for key, value in node["dict"]:
                key = self.value(key, arguments)
                if isinstance(key, (list, dict)):
                    raise _Malformed("a dict key that is not a string, number, boolean or None")
                result[key] = self.value(value, arguments)
            return result
        if "module" in node:
            if arguments:
                return self.build(node["module"], "a constructor argument")
            module = self.modules[id(node["module"])]
            self.fill(module, node["module"])
            return module
        if arguments:
            raise _Malformed("a constructor argument that is not JSON data")
        if "tensor" in node:
            array = self.arrays[self.number(node["tensor"], "a tensor")]
            if node.get("parameter"):
                return Parameter(array, requires_grad=bool(node.get("requires_grad", True)))
            return _engine.tensor(array, requires_grad=bool(node.get("requires_grad", False)))
        if "array" in node:
            return self.arrays[self.number(node["array"], "an array")]
        if "scalar" in node:
            return self.arrays[self.number(node["scalar"], "a scalar")][()]
        raise _Malformed(f"an unknown entry {sorted(node)} in the tree")


def _call(args: list, kwargs: dict[str, Any]) -> str:
    return ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())])[:200]


def _name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    return str(getattr(f, "name", None) or f"<{type(f).__name__}>")


@contextmanager
def _opened(f: Any) -> Iterator[BinaryIO]:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            yield file
    elif hasattr(f, "seek"):
        yield f
    else:  # a stream that cannot seek (zip archives are read from their end)
        yield io.BytesIO(f.read())


def _check_map_location(map_location: Any) -> None:
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return
    device = str(getattr(map_location, "type", map_location))
    if device.split(":")[0] != "cpu":
        raise ValueError(f"gn.load: map_location={map_location!r}: glassnet runs on the CPU only")


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read what ``save`` wrote to ``f`` (a path or a binary file object): tensors come back as Tensors, arrays as
    ndarrays, modules rebuilt from their registered classes with the file's weights.

    ``map_location`` and ``weights_only`` are PyTorch's arguments: glassnet runs on the CPU, and every load is
    weights-only in PyTorch's sense (no code from the file runs; only registered classes are built)."""
    _check_map_location(map_location)
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "read"):
        raise TypeError(f"gn.load: f must be a path or a binary file object, got {type(f).__name__}")
    name = _name(f)
    try:
        with _opened(f) as file:
            reader = _Reader(file)
            header = reader.header()
            decoder = _Decoder(reader.table(header))
            if "root" not in header:
                raise _Malformed("its header has no saved object")
            with building():
                decoder.build_all(header["root"])
                decoder.arrays = {number: reader.array(number, *entry) for number, entry in enumerate(decoder.table)}
                return decoder.value(header["root"])
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _Malformed as error:
        raise ValueError(f"{name}: {error}") from None
    except MemoryError:
        raise ValueError(f"{name}: not enough memory to load it") from None
    except Exception as error:  # the file is untrusted: whatever it makes fail, the caller gets a ValueError
        raise ValueError(f"{name}: not a readable glassnet file ({type(error).__name__}: {error})") from None
