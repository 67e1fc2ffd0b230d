"""gn.save / gn.load: round trips of tensors, nested trees, checkpoint dicts, built-in and registered modules; no
pickles; untrusted files fail fast and small (tracemalloc); saving keeps permissions, follows symlinks, is atomic."""
from __future__ import annotations

import io
import json
import math
import os
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim, serialization
from glassnet.serialization import HEADER


def every_layer_model() -> nn.Sequential:
    """One of each built-in layer, a Linear without bias and a nested Sequential."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 8), nn.ReLU(),
        nn.Linear(8, 8, bias=False), nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Sequential(nn.Linear(8, 7), nn.Tanh(), nn.Linear(7, 6), nn.Sigmoid(), nn.Sequential(nn.Identity())),
        nn.Linear(6, 5), nn.Identity(),
        nn.Linear(5, 4), nn.LeakyReLU(),
        nn.Softmax(dim=1),
    )


def describe(module: nn.Module) -> list:
    """Class, configuration and training flag of every module, depth first."""
    return [(name, type(m).__name__, m.get_config(), m.training) for name, m in module.named_modules()]


def inputs(dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(9, 2, 3)).astype(dtype)


def round_trip(obj):
    buffer = io.BytesIO()
    gn.save(obj, buffer)
    buffer.seek(0)
    return gn.load(buffer)


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def header_of(path) -> dict:
    return json.loads(members(path)[HEADER])


def rewrite(path, header: dict | None = None, replace: dict[str, bytes] | None = None,
            compression: int = zipfile.ZIP_STORED) -> None:
    """Rewrite a glassnet archive with a changed header and/or members."""
    old = members(path)
    old[HEADER] = json.dumps(header).encode() if header is not None else old[HEADER]
    old.update(replace or {})
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in old.items():
            if data is not None:
                archive.writestr(name, data)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def assert_fails_small(path_or_bytes, message: str, limit_mb: float = 50, limit_cpu_s: float = 1.0) -> None:
    """gn.load raises a ValueError matching ``message`` with under ``limit_mb`` MB of Python and NumPy allocations
    at its peak (tracemalloc sees NumPy's array memory) and in under ``limit_cpu_s`` of this thread's CPU time (the
    issue's target; CPU time, not wall clock, so that a loaded machine does not fail it: these loads take a few ms,
    and building the architecture first took 8–30 s)."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    tracemalloc.start()
    started = time.thread_time()
    try:
        with pytest.raises(ValueError, match=message):
            gn.load(source)
        cpu_s = time.thread_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * 1e6, f"peak {peak / 1e6:.1f} MB"
    assert cpu_s < limit_cpu_s, f"{cpu_s:.2f} s of CPU time"


# ------------------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_of_every_built_in_layer_is_bit_exact(tmp_path, dtype):
    model = every_layer_model().to(dtype)
    model[5].eval()  # one submodule in eval mode: each keeps its own mode
    path = tmp_path / "model.glass"
    gn.save(model, path)
    loaded = gn.load(path)
    assert type(loaded) is nn.Sequential
    assert describe(loaded) == describe(model) and repr(loaded) == repr(model)
    state, restored = model.state_dict(), loaded.state_dict()
    assert list(restored) == list(state)
    for name in state:
        assert restored[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(restored[name], state[name])
    assert loaded[3].bias is None and loaded[4].negative_slope == 0.2 and loaded[5].p == 0.3
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(gn.predict(loaded, inputs(dtype)), gn.predict(model, inputs(dtype)))


def test_a_tree_of_built_in_containers_and_layers_round_trips_bit_exactly(tmp_path):
    """ModuleDict, ModuleList, ParameterList and ParameterDict are built empty and get the file's members; the
    layers inside are convolutional, recurrent, normalising and embedding ones."""
    gn.manual_seed(3)
    tree = nn.ModuleDict({
        "cnn": nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(12, 2)),
        "blocks": nn.ModuleList([nn.LSTM(4, 5, batch_first=True), nn.GRU(5, 3), nn.LayerNorm(3)]),
        "embedding": nn.Embedding(10, 4, padding_idx=0),
        "scales": nn.ParameterList([nn.Parameter(gn.randn(2, 3)), nn.Parameter(gn.ones(4, dtype=gn.float64))]),
        "named": nn.ParameterDict({"alpha": nn.Parameter(gn.randn(3)), "beta": nn.Parameter(gn.zeros(1))}),
    })
    tree["named"]["beta"].requires_grad = False
    tree["cnn"](gn.randn(5, 1, 4, 4))  # BatchNorm's running statistics move off their start
    tree["cnn"].eval()
    path = tmp_path / "tree.glass"
    gn.save(tree, path)
    loaded = gn.load(path)
    assert describe(loaded) == describe(tree)  # classes, configurations and modes, module by module
    saved = tree.state_dict()
    assert list(loaded.state_dict()) == list(saved)
    for name, value in loaded.state_dict().items():
        assert value.dtype == saved[name].dtype and np.array_equal(value.numpy(), saved[name].numpy()), name
    assert [p.requires_grad for p in loaded.parameters()] == [p.requires_grad for p in tree.parameters()]
    assert list(loaded["named"].keys()) == ["alpha", "beta"] and len(loaded["scales"]) == 2
    images = np.random.default_rng(0).normal(size=(2, 1, 4, 4))
    np.testing.assert_array_equal(gn.predict(loaded["cnn"], images), gn.predict(tree["cnn"], images))
    sequence = gn.randn(2, 6, 4)
    np.testing.assert_array_equal(loaded["blocks"][0](sequence)[0].numpy(), tree["blocks"][0](sequence)[0].numpy())


@pytest.mark.parametrize("make", [
    lambda: nn.MultiheadAttention(8, 2, batch_first=True),
    lambda: nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True, bias=False, dropout=0.1),
    lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu",
                                                             batch_first=True), 2, nn.LayerNorm(8)),
    lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, norm_first=True,
                                                             activation=nn.GELU(), layer_norm_eps=1e-6), 2),
    lambda: nn.Transformer(8, 2, 1, 2, dim_feedforward=16, batch_first=True),
], ids=["attention", "attention-kdim-vdim", "encoder", "decoder", "transformer"])
def test_attention_and_transformers_round_trip(make):
    gn.manual_seed(4)
    model = make()
    loaded = round_trip(model)

    def described(module):  # describe(), with a module in a configuration described in turn
        return [(name, kind, {k: described(v) if isinstance(v, nn.Module) else v for k, v in config.items()},
                 training) for name, kind, config, training in describe(module)]
    assert described(loaded) == described(model)
    saved = model.state_dict()
    assert list(loaded.state_dict()) == list(saved)
    assert all(np.array_equal(value.numpy(), saved[name].numpy()) for name, value in loaded.state_dict().items())


def test_a_transformer_round_trips_with_the_same_outputs():
    gn.manual_seed(5)
    model = nn.Transformer(8, 2, 2, 1, dim_feedforward=16, batch_first=True).eval()
    loaded = round_trip(model)
    src, tgt = gn.randn(2, 5, 8), gn.randn(2, 3, 8)
    np.testing.assert_array_equal(loaded(src, tgt).numpy(), model(src, tgt).numpy())
    with pytest.raises(TypeError, match=r"TransformerEncoderLayer's activation .* is a function, not JSON data or a "
                                        r"module; save its state_dict\(\) instead"):
        gn.save(nn.TransformerEncoderLayer(8, 2, activation=lambda z: z), io.BytesIO())


def test_loaded_model_trains_like_the_original(tmp_path):
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    gn.save(model, tmp_path / "m.glass")
    loaded = gn.load(tmp_path / "m.glass")
    X = np.random.default_rng(0).normal(size=(16, 3))
    for m in (model, loaded):
        gn.fit(m, X, X.sum(axis=1), loss=nn.MSELoss(), optimizer=optim.Adam(m.parameters(), lr=0.01), epochs=3,
               batch_size=4, shuffle=False)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], array)


def test_nested_trees_keep_types_keys_and_values():
    tree = {
        "epoch": 3, "loss": 0.125, "name": "run-1", "done": False, "none": None, "nan": math.nan, "inf": -math.inf,
        "big": 2 ** 70, 7: "int key", 2.5: "float key", None: "none key", True: "bool key",
        "tensor": gn.tensor([[1.5, -2.0]]), "grad": gn.tensor([1.0, 2.0], requires_grad=True),
        "array": np.arange(6, dtype=np.int16).reshape(2, 3), "bools": np.array([True, False]),
        "complex": np.array([1 + 2j]), "scalar": np.float64(0.25), "int32": np.int32(-4), "empty": np.zeros((0, 3)),
        "nested": [1, (2.0, "three", [np.ones(2)]), {"deep": {"deeper": (gn.tensor(5.0),)}}], "tuple": (0.9, 0.999),
    }
    loaded = round_trip(tree)
    assert list(loaded) == list(tree)
    for key in ("epoch", "loss", "name", "done", "none", "inf", "big", 7, 2.5, None, True, "tuple"):
        assert loaded[key] == tree[key] and type(loaded[key]) is type(tree[key]), key
    assert math.isnan(loaded["nan"])
    assert isinstance(loaded["tensor"], gn.Tensor) and loaded["tensor"].dtype == tree["tensor"].dtype
    np.testing.assert_array_equal(loaded["tensor"].numpy(), tree["tensor"].numpy())
    assert loaded["grad"].requires_grad and not loaded["tensor"].requires_grad
    for key in ("array", "bools", "complex", "empty"):
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == tree[key].dtype
        np.testing.assert_array_equal(loaded[key], tree[key])
    assert type(loaded["scalar"]) is np.float64 and type(loaded["int32"]) is np.int32 and loaded["int32"] == -4
    one, (two, three, (ones,)), deep = loaded["nested"]
    assert (one, two, three) == (1, 2.0, "three") and type(loaded["nested"][1]) is tuple
    np.testing.assert_array_equal(ones, np.ones(2))
    assert deep["deep"]["deeper"][0].item() == 5.0
    # a single tensor, array or number is a tree too
    assert round_trip(gn.tensor([3.0])).tolist() == [3.0] and round_trip(7) == 7
    np.testing.assert_array_equal(round_trip(np.eye(2)), np.eye(2))


def test_the_same_array_twice_is_stored_once_and_loaded_as_one():
    shared = np.arange(1000.0)
    loaded = round_trip({"a": shared, "b": [shared]})
    assert loaded["a"] is loaded["b"][0]


def test_checkpoint_dict_resumes_training_exactly(tmp_path):
    """torch's checkpoint recipe: model and optimizer state dicts, epoch and loss in one dict."""
    X = np.random.default_rng(0).normal(size=(32, 3))
    y = X @ np.array([1.0, -1.0, 2.0])

    def build():
        gn.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        return model, optim.Adam(model.parameters(), lr=0.01)

    def train(model, opt, epochs):
        return gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=opt, epochs=epochs, batch_size=8, shuffle=False)

    model, opt = build()
    history = train(model, opt, 3)
    path = tmp_path / "checkpoint.glass"
    gn.save({"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
             "loss": history.history["loss"][-1]}, path)
    train(model, opt, 2)  # the original goes on

    checkpoint = gn.load(path)
    assert checkpoint["epoch"] == 3 and checkpoint["loss"] == history.history["loss"][-1]
    state = checkpoint["optimizer_state_dict"]
    assert sorted(state["state"]) == [0, 1, 2, 3]  # integer keys, as torch's
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    resumed, resumed_opt = build()
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_opt.load_state_dict(state)
    train(resumed, resumed_opt, 2)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], array)


def test_save_and_load_with_paths_and_file_objects(tmp_path):
    model = nn.Sequential(nn.Linear(2, 1))
    gn.save(model, str(tmp_path / "a.glass"))
    gn.save(model, tmp_path / "b.glass")
    with open(tmp_path / "c.glass", "wb") as file:
        gn.save(model, file)
    assert (tmp_path / "a.glass").read_bytes() == (tmp_path / "b.glass").read_bytes() == \
        (tmp_path / "c.glass").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["a.glass", "b.glass", "c.glass"]
    with open(tmp_path / "c.glass", "rb") as file:
        assert isinstance(gn.load(file, map_location="cpu", weights_only=True), nn.Sequential)
    with pytest.raises(ValueError, match="CPU only"):
        gn.load(tmp_path / "a.glass", map_location="cuda:0")


def test_loading_draws_no_random_numbers():
    """The modules are built without their random initialisation: the global stream is untouched."""
    saved = io.BytesIO()
    gn.save(nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 3)), saved)
    gn.manual_seed(7)
    expected = nn.Linear(3, 3).weight.numpy()
    gn.manual_seed(7)
    saved.seek(0)
    loaded = gn.load(saved)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.numpy(), expected)
    # after the load, construction draws real weights again, and the loaded ones are writable arrays of their own
    assert nn.Linear(2, 2).weight._data.strides == (8, 4)
    assert all(p._data.flags.writeable and p._data.flags.owndata for p in loaded.parameters())


def test_building_without_random_init_is_confined_to_the_loading_thread_and_the_load():
    """Other threads draw real random numbers while a file's modules are built; a module that keeps the generator
    it was built with draws real numbers once loaded."""
    import threading

    seen = {}

    @nn.register_module
    class Watcher(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)
            self.rng = serialization._engine.default_rng()
            other = threading.Thread(target=lambda: seen.update(other=serialization._engine.default_rng().normal(
                size=(3, 3))))
            other.start()
            other.join()

        def forward(self, x):
            return self.linear(x)

    loaded = round_trip(Watcher())
    assert seen["other"].strides == (24, 8) and len(np.unique(seen["other"])) == 9  # a real draw
    drawn = loaded.rng.normal(size=(2, 2))
    assert drawn.strides == (16, 8) and len(np.unique(drawn)) == 4


# ------------------------------------------------------------------------------------------ registered modules

@nn.register_module
class Residual(nn.Module):
    """A registered module with JSON constructor arguments, a module argument, a buffer and its own children."""

    def __init__(self, inner: nn.Module, width: int, scale: float = 1.0, names=("a", "b")) -> None:
        super().__init__()
        self.inner, self.scale, self.names = inner, scale, list(names)
        self.norm = nn.Linear(width, width, bias=False)
        self.register_buffer("count", gn.tensor(np.zeros(width)))
        self.register_buffer("scratch", gn.tensor(np.ones(2)), persistent=False)

    def forward(self, x):
        return self.norm(self.inner(x)) * self.scale + x


@nn.register_module(name="configured_block")
class Configured(nn.Module):
    """Its constructor takes a function (not JSON data): it rebuilds from get_config()."""

    def __init__(self, activation=np.tanh, width: int = 2) -> None:
        super().__init__()
        self.width = width
        self.activation = activation
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return self.linear(x)

    def get_config(self):
        return {"width": self.width}


def test_a_registered_module_tree_round_trips(tmp_path):
    gn.manual_seed(0)
    model = nn.Sequential(Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh()), 4, scale=0.5, names=["x"]),
                          Configured(width=4), nn.Linear(4, 2))
    model[0].count._data[...] = [1, 2, 3, 4]
    model[0].inner[0].weight.requires_grad = False  # frozen
    model[1].eval()
    path = tmp_path / "tree.glass"
    gn.save(model, path)
    loaded = gn.load(path)
    assert [type(m).__name__ for m in loaded] == ["Residual", "Configured", "Linear"]
    assert loaded[0].scale == 0.5 and loaded[0].names == ["x"] and loaded[1].width == 4
    np.testing.assert_array_equal(loaded[0].count.numpy(), [1, 2, 3, 4])
    np.testing.assert_array_equal(loaded[0].scratch.numpy(), [1, 1])  # non-persistent: the constructor's value
    assert not loaded[0].inner[0].weight.requires_grad and loaded[0].norm.weight.requires_grad
    assert [m.training for m in loaded.modules()] == [m.training for m in model.modules()]
    X = np.random.default_rng(1).normal(size=(5, 4))
    np.testing.assert_array_equal(gn.predict(loaded, X), gn.predict(model, X))
    assert header_of(path)["root"]["module"]["children"]["1"]["class"] == "configured_block"


def test_tied_weights_stay_one_parameter():
    @nn.register_module
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = nn.Linear(3, 3), nn.Linear(3, 3)
            self.decoder.weight = self.encoder.weight

    loaded = round_trip(Tied())
    assert loaded.decoder.weight is loaded.encoder.weight
    assert len(list(loaded.parameters())) == 3


@pytest.mark.parametrize("change, message", [
    (lambda spec: spec["children"].pop("norm"), r"model.0 \(Residual\) builds children \['norm'\] that the file has "
                                                r"no state for"),
    (lambda spec: spec["children"]["norm"].update({"class": "Tanh"}), "model.0.norm is a Linear when built, but "
                                                                       "the file has Tanh"),
    (lambda spec: spec["buffers"].pop("count"), r"model.0 \(Residual\) has buffers \['count'\] but the file has \[\]"),
    (lambda spec: spec["args"].__setitem__(1, 5), r"model.0.count of Residual has shape \(5,\) but the file.s array "
                                                  r"has shape \(4,\)"),
])
def test_a_registered_module_that_does_not_fit_its_file(tmp_path, change, message):
    path = tmp_path / "tree.glass"
    gn.save(nn.Sequential(Residual(nn.Identity(), 4)), path)
    header = header_of(path)
    change(header["root"]["module"]["children"]["0"])
    rewrite(path, header)
    with pytest.raises(ValueError, match=f"^{path}: {message}"):
        gn.load(path)


def test_any_failure_of_a_constructor_given_the_files_arguments_is_a_value_error(tmp_path):
    @nn.register_module
    class Ratio(nn.Module):
        def __init__(self, parts: int = 1):
            super().__init__()
            self.share = 1 / parts

    path = tmp_path / "ratio.glass"
    gn.save(Ratio(4), path)
    header = header_of(path)
    header["root"]["module"]["args"] = [0]
    rewrite(path, header)
    with pytest.raises(ValueError, match=f"^{path}: cannot rebuild model as Ratio\\(0\\): division by zero"):
        gn.load(path)
    with pytest.raises(TypeError, match="gn.load: f must be a path or a binary file object, got int"):
        gn.load(3)


def test_unregistered_classes_say_how_to_register(tmp_path):
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)

    path = tmp_path / "custom.glass"
    for model in (Custom(), nn.Sequential(nn.Linear(2, 2), Custom())):
        with pytest.raises(TypeError, match=r"Custom, which gn.load could not rebuild: decorate its class with "
                                            r"@gn.nn.register_module, or save its state_dict\(\)"):
            gn.save(model, path)
    assert not path.exists() and os.listdir(tmp_path) == []
    # a file that names a class this program has not registered
    gn.save(nn.Sequential(Configured()), path)
    header = header_of(path)
    header["root"]["module"]["children"]["0"]["class"] = "Swish"
    rewrite(path, header)
    with pytest.raises(ValueError, match=rf"^{path}: model.0 is of class 'Swish', which is not registered: decorate "
                                         rf"that class with @gn.nn.register_module"):
        gn.load(path)


def test_register_module_refuses_builtin_names_and_non_modules():
    with pytest.raises(ValueError, match="'Linear' is the name of glassnet's nn.Linear"):
        @nn.register_module
        class Linear(nn.Module):
            pass
    with pytest.raises(TypeError, match="decorates Module subclasses"):
        nn.register_module(int)


def test_a_module_with_unrecordable_arguments_and_no_config():
    @nn.register_module
    class Opaque(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

    with pytest.raises(TypeError, match=r"cannot record how to build the object \(Opaque\): the object argument 0 "
                                        r"is a function, not JSON data; define get_config\(\)"):
        gn.save(Opaque(lambda x: x), io.BytesIO())


# ------------------------------------------------------------------------------------------ untrusted files

def small_model_file(tmp_path, model=None):
    path = tmp_path / "model.glass"
    gn.save(model if model is not None else nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), path)
    return path


def test_a_tiny_file_naming_a_huge_linear_fails_fast_and_small(tmp_path):
    """The 517-byte attack: a header naming Linear(16000, 16000) (1 GB of weights) over a few bytes of arrays."""
    path = small_model_file(tmp_path, nn.Sequential(nn.Linear(2, 2)))
    header = header_of(path)
    header["root"]["module"]["children"]["0"]["kwargs"].update(in_features=16000, out_features=16000)
    rewrite(path, header, compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1000
    assert_fails_small(path, r"model.0.weight of Linear has shape \(16000, 16000\) but the file's array has "
                             r"shape \(2, 2\)")
    # the table may claim the big shapes too: the members' npy headers and sizes give it away
    header["arrays"] = [["<f4", [16000, 16000]], ["<f4", [16000]]]
    rewrite(path, header, compression=zipfile.ZIP_DEFLATED)
    assert_fails_small(path, r"array 0's npy header says float32 \(2, 2\), the file's header float32 "
                             r"\(16000, 16000\)")


def enlarge(kwargs: dict, **values) -> dict:
    """A module entry's constructor arguments with some replaced (as the file stores them)."""
    return {**kwargs, **{key: {"list": value} if isinstance(value, list) else value for key, value in values.items()}}


def enlarge_layer(key: str, layers: int, **values):
    """For a Transformer stack: its layer argument enlarged, and ``layers`` of it."""
    def change(kwargs: dict) -> dict:
        layer = kwargs[key]["module"]
        return {**kwargs, key: {"module": {**layer, "kwargs": enlarge(layer["kwargs"], **values)}},
                "num_layers": layers}
    return change


HUGE = {  # a small module of each family, its arguments made huge (declaring 0.4–20 GB) and the error that says so
    "layernorm": (lambda: nn.LayerNorm(4), lambda k: enlarge(k, normalized_shape=[10 ** 8]),
                  r"model.weight of LayerNorm has shape \(100000000,\) but the file's array has shape \(4,\)"),
    "batchnorm": (lambda: nn.BatchNorm1d(4), lambda k: enlarge(k, num_features=10 ** 8),
                  r"model.weight of BatchNorm1d has shape \(100000000,\) but the file's array has shape \(4,\)"),
    "conv": (lambda: nn.Conv2d(2, 3, 3), lambda k: enlarge(k, in_channels=4096, out_channels=4096),
             r"model.weight of Conv2d has shape \(4096, 4096, 3, 3\) but the file's array has shape \(3, 2, 3, 3\)"),
    "lstm": (lambda: nn.LSTM(3, 4), lambda k: enlarge(k, input_size=8192, hidden_size=8192),
             r"model.weight_ih_l0 of LSTM has shape \(32768, 8192\) but the file's array has shape \(16, 3\)"),
    "lstm-cell": (lambda: nn.LSTMCell(3, 4), lambda k: enlarge(k, input_size=8192, hidden_size=8192),
                  r"model.weight_ih of LSTMCell has shape \(32768, 8192\) but the file's array has shape \(16, 3\)"),
    "attention": (lambda: nn.MultiheadAttention(8, 2), lambda k: enlarge(k, embed_dim=8192, kdim=8192, vdim=8192),
                  r"model.in_proj_weight of MultiheadAttention has shape \(24576, 8192\) but the file's array has "
                  r"shape \(24, 8\)"),
    "embedding": (lambda: nn.Embedding(10, 4, padding_idx=0),
                  lambda k: enlarge(k, num_embeddings=10 ** 7, embedding_dim=512),
                  r"model.weight of Embedding has shape \(10000000, 512\) but the file's array has shape \(10, 4\)"),
    "positional-encoding": (lambda: nn.PositionalEncoding(8, max_len=10),
                            lambda k: enlarge(k, d_model=4096, max_len=10 ** 6),
                            r"model.pe of PositionalEncoding has shape \(1000000, 1, 4096\) but the file's array "
                            r"has shape \(10, 1, 8\)"),
    "encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, nn.LayerNorm(8)),
                enlarge_layer("encoder_layer", 12, d_model=4096, nhead=8, dim_feedforward=16384),
                r"model.layers.0.self_attn.in_proj_weight of MultiheadAttention has shape \(12288, 4096\) but the "
                r"file's array has shape \(24, 8\)"),
    "decoder": (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2),
                enlarge_layer("decoder_layer", 12, d_model=4096, nhead=8, dim_feedforward=16384),
                r"model.layers.0.self_attn.in_proj_weight of MultiheadAttention has shape \(12288, 4096\) but the "
                r"file's array has shape \(24, 8\)"),
}


@pytest.mark.parametrize("family", HUGE)
def test_a_file_naming_a_huge_module_of_any_family_fails_before_allocating_it(tmp_path, family):
    """Every built-in module is built with placeholders for what the file replaces (norms' ones and zeros, the
    sinusoids, the weights filled by nn.init, a Transformer's copies of its layer): the shapes are compared with
    the file's before anything of their size exists (it took 0.8 GB for LayerNorm, 1.6 GB for BatchNorm, 20 GB for
    the Embedding, over 6 GB for the Transformer stacks)."""
    make, change, message = HUGE[family]
    path = small_model_file(tmp_path, make())
    header = header_of(path)
    header["root"]["module"]["kwargs"] = change(header["root"]["module"]["kwargs"])
    rewrite(path, header, compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 20_000
    assert_fails_small(path, rf"^{path}: {message}$")


def family_outputs(family: str, model: nn.Module) -> list[np.ndarray]:
    """The model's outputs (every array of a tuple) on fixed inputs of its family, in evaluation mode."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 2, 8)).astype(np.float32)
    inputs = {"layernorm": (rng.normal(size=(3, 4)),), "batchnorm": (rng.normal(size=(5, 4)),),
              "conv": (rng.normal(size=(2, 2, 5, 5)),), "lstm": (rng.normal(size=(6, 2, 3)),),
              "lstm-cell": (rng.normal(size=(2, 3)),), "attention": (x, x, x), "embedding": (np.array([[0, 3, 9]]),),
              "positional-encoding": (x,), "encoder": (x,), "decoder": (x[:3], x)}[family]
    with nn.evaluating(model):
        out = model(*(gn.tensor(a) if a.dtype.kind == "f" else a for a in inputs))
    flat = []
    for item in out if isinstance(out, tuple) else (out,):
        flat.extend(item if isinstance(item, tuple) else (item,))
    return [item.numpy() for item in flat]


@pytest.mark.parametrize("family", HUGE)
def test_a_small_module_of_every_family_loads_with_the_same_state_and_outputs(tmp_path, family):
    gn.manual_seed(11)
    model = HUGE[family][0]()
    if family == "batchnorm":
        model(gn.randn(6, 4))  # running statistics off their start
    loaded = gn.load(small_model_file(tmp_path, model))
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    saved = model.state_dict()
    assert list(loaded.state_dict()) == list(saved)
    for name, value in loaded.state_dict().items():
        assert value.dtype == saved[name].dtype and np.array_equal(value.numpy(), saved[name].numpy()), name
        assert value._data.flags.owndata and value._data.flags.writeable, name  # the file's array, no placeholder
    for got, expected in zip(family_outputs(family, loaded), family_outputs(family, model), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_built_in_modules_built_outside_a_load_have_their_initial_values():
    """Placeholders exist only while gn.load builds: a module built otherwise starts with PyTorch's values."""
    norm, batch, encoding = nn.LayerNorm(3), nn.BatchNorm1d(2), nn.PositionalEncoding(4, max_len=3)
    assert norm.weight.numpy().tolist() == [1, 1, 1] and norm.bias.numpy().tolist() == [0, 0, 0]
    assert batch.running_var.numpy().tolist() == [1, 1] and int(batch.num_batches_tracked.numpy()) == 0
    np.testing.assert_allclose(encoding.pe.numpy()[:, 0, :2], np.stack([np.sin([0, 1, 2]), np.cos([0, 1, 2])], 1),
                               rtol=1e-6)
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 2)
    first, second = (layer.linear1.weight.numpy() for layer in stack.layers)
    np.testing.assert_array_equal(first, second)  # deep copies of one layer, as torch's
    assert not np.shares_memory(first, second) and len(np.unique(first)) == first.size


def test_an_npy_header_claiming_a_terabyte_fails_without_allocating(tmp_path):
    path = small_model_file(tmp_path)
    header = header_of(path)
    header["arrays"][0] = ["<f8", [1000000, 1000000]]
    big = io.BytesIO()
    np.lib.format.write_array_header_1_0(big, {"descr": "<f8", "fortran_order": False, "shape": (1000000, 1000000)})
    rewrite(path, header, replace={"0.npy": big.getvalue() + b"\0" * 64})
    assert_fails_small(path, r"array 0 \(float64 \(1000000, 1000000\)\) needs 8000000000128 bytes but its member "
                             r"declares")


def test_a_member_declaring_more_than_its_bytes_can_hold_fails_before_allocating(tmp_path):
    """A state dict (no architecture to compare with) whose 3.6 GB array would be 300 compressed bytes."""
    path = tmp_path / "state.glass"
    gn.save({"w": np.zeros(2, np.float32)}, path)
    header = header_of(path)
    header["arrays"][0] = ["<f4", [30000, 30000]]
    npy_header = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy_header, {"descr": "<f4", "fortran_order": False,
                                                      "shape": (30000, 30000)})
    data = npy_header.getvalue() + bytes(200)
    size = len(npy_header.getvalue()) + 30000 * 30000 * 4
    raw = json.dumps(header).encode()
    for method, stored in ((8, zlib.compress(data)[2:-4]), (0, data)):
        assert_fails_small(zip_with([(HEADER, raw, 0, zlib.crc32(raw), len(raw)),
                                     ("0.npy", stored, method, 0, size)]),
                           rf"member '0.npy' declares {size} bytes, more than its {len(stored)} compressed bytes")
    assert_fails_small(zip_with([(HEADER, raw, 12, zlib.crc32(raw), len(raw))]), "compression method 12")


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (~1/1000 of its size) and its CRC-32, made from one compressed
    MiB repeated (full flushes make the segments independent)."""
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    ending = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    return segment * (size // len(chunk)) + ending, crc


def zip_with(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive from (name, data as stored, method, crc, uncompressed size) entries, written by hand so that
    a member can be a ready-made deflate stream."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, method, crc, size in entries:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), size, len(raw), 0))
        out.write(raw + data)
        central.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data),
                                  size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    out.write(central.getvalue())
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central.getvalue()),
                          start, 0))
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> tuple[bytes, int]:
    return deflated_zeros(1 << 30)  # 1 GiB of zeros in about a megabyte


def test_deflate_bombs_fail_fast_and_small(tmp_path, bomb):
    stream, crc = bomb
    assert len(stream) < 1.1e6
    path = small_model_file(tmp_path)
    good = members(path)
    plain = [(name, data, 0, zlib.crc32(data), len(data)) for name, data in good.items()]
    npy_header = good["0.npy"][:128]  # a valid npy header of the (4, 3) weight
    # an extra member that the header does not list
    assert_fails_small(zip_with(plain + [("junk.npy", stream, 8, crc, 1 << 30)]),
                       r"member\(s\) \['junk.npy'\] that its header does not list")
    # a listed array whose member inflates to 1 GiB after a valid npy header: its size disagrees with that header
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    prefix = compressor.compress(npy_header) + compressor.flush(zlib.Z_FULL_FLUSH)
    bombed = [entry if entry[0] != "0.npy" else ("0.npy", prefix + stream, 8, 0, 128 + (1 << 30))
              for entry in plain]
    assert_fails_small(zip_with(bombed), r"array 0 \(float32 \(4, 3\)\) needs 176 bytes but its member declares "
                                         r"1073741952")
    # a header (JSON) member that inflates to 1 GiB
    assert_fails_small(zip_with([(HEADER, stream, 8, crc, 1 << 30)] + plain[1:]),
                       r"its header declares 1073741824 bytes, more than the 8388608")
    # a member that lies about its size: decompression stops at the declared size and the CRC fails
    lying = [entry if entry[0] != "0.npy" else ("0.npy", prefix + stream, 8, crc, 176) for entry in plain]
    assert_fails_small(zip_with(lying), "not a readable glassnet file")


def test_a_text_file_gets_glassnets_own_sentence(tmp_path):
    path = tmp_path / "notes.glass"
    path.write_text("hello, this is not a model\n")
    with pytest.raises(ValueError, match=rf"^{path}: not a glassnet file: it is not a zip archive \(it starts with "
                                         rf"b'hell'\)$") as info:
        gn.load(path)
    assert "pickle" not in str(info.value)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=f"^{path}: not a glassnet file: it is empty"):
        gn.load(path)


def test_other_npy_npz_and_zip_files_are_not_glassnet_files(tmp_path):
    single = tmp_path / "single.glass"
    with open(single, "wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(ValueError, match=f"^{single}: .*single NumPy array"):
        gn.load(single)
    plain = tmp_path / "plain.glass"
    with open(plain, "wb") as file:
        np.savez(file, w=np.zeros(3))
    with pytest.raises(ValueError, match=f"^{plain}: not a glassnet file: a zip archive without a glassnet header"):
        gn.load(plain)


def test_a_pickled_member_is_never_unpickled(tmp_path):
    path = small_model_file(tmp_path)
    header = header_of(path)
    header["arrays"][0] = ["|O", [1]]
    rewrite(path, header, replace={"0.npy": npy_bytes(np.array([object()], dtype=object))})
    with pytest.raises(ValueError, match=f"^{path}: array 0 has dtype object; glassnet files hold numeric arrays"):
        gn.load(path)
    header["arrays"][0] = ["<f4", [1]]  # the table lies: the npy header itself is refused
    rewrite(path, header)
    with pytest.raises(ValueError, match=f"^{path}: 0.npy holds dtype object.*never pickles"):
        gn.load(path)


@pytest.mark.parametrize("version, message", [
    ([3, 0], r"written in glassnet file format 3.0, newer than this glassnet reads \(2.x\): upgrade glassnet"),
    ([1, 0], "format 1, which this glassnet no longer reads"),
    ("2", "no valid format version"),
])
def test_format_versions(tmp_path, version, message):
    path = small_model_file(tmp_path)
    header = header_of(path)
    header["version"] = version
    rewrite(path, header)
    with pytest.raises(ValueError, match=f"^{path}: .*{message}"):
        gn.load(path)


def test_a_newer_minor_version_loads(tmp_path):
    path = small_model_file(tmp_path)
    header = header_of(path)
    header["version"] = [2, 7]
    header["added_in_2_7"] = {"ignored": True}
    rewrite(path, header)
    assert isinstance(gn.load(path), nn.Sequential)


@pytest.mark.parametrize("change, message", [
    (lambda h: h.update(format="other"), "not a glassnet file"),
    (lambda h: h.pop("arrays"), "no table of arrays"),
    (lambda h: h.pop("root"), "no saved object"),
    (lambda h: h["arrays"].append(["<f4", [2]]), r"array 4 is missing \(no member '4.npy'\)"),
    (lambda h: h["arrays"].__setitem__(0, ["<f4", [-1]]), "malformed entry"),
    (lambda h: h["arrays"].__setitem__(0, ["<x9", [4, 3]]), "unknown dtype"),
    (lambda h: h["root"].update(module=["Linear"]), "malformed module entry"),
    (lambda h: h["root"]["module"]["children"]["0"]["kwargs"].update(in_features=-3), r"cannot rebuild model.0 as "
                                                                                       r"Linear\("),
    (lambda h: h["root"]["module"]["children"]["0"]["kwargs"].update(size=3), "cannot rebuild model.0"),
    (lambda h: h["root"]["module"]["children"]["0"]["parameters"].pop("bias"),
     r"model.0 \(Linear\) has parameters \['bias', 'weight'\] but the file has \['weight'\]"),
    (lambda h: h["root"]["module"]["children"]["0"]["parameters"].update(bias=[99, True]), "array 99"),
    (lambda h: h["root"]["module"]["children"]["0"]["parameters"].update(bias=1), "malformed parameter entry 1"),
    (lambda h: h["arrays"].__setitem__(1, ["<i4", [4]]), r"npy header says float32 \(4,\), the file's header int32"),
    (lambda h: h["root"].update(dict={"not": "pairs"}), "malformed"),
    (lambda h: h.update(root={"float": "1e999"}), "malformed number"),
    (lambda h: h.update(root={"eval": "__import__('os')"}), "unknown entry"),
])
def test_bad_headers(tmp_path, change, message):
    path = small_model_file(tmp_path)
    header = header_of(path)
    change(header)
    rewrite(path, header)
    with pytest.raises(ValueError, match=f"^{path}: .*{message}"):
        gn.load(path)


def test_a_parameter_stored_as_integers_is_refused(tmp_path):
    path = small_model_file(tmp_path)
    header = header_of(path)
    header["arrays"][1] = ["<i4", [4]]
    rewrite(path, header, replace={"1.npy": npy_bytes(np.arange(4, dtype=np.int32))})
    with pytest.raises(ValueError, match=f"^{path}: model.0.bias is a parameter but the file's array has dtype int32"):
        gn.load(path)


def test_header_that_is_not_json_or_too_deep(tmp_path):
    path = small_model_file(tmp_path)
    rewrite(path, replace={HEADER: b"{not json"})
    with pytest.raises(ValueError, match=f"^{path}: not a readable glassnet file"):
        gn.load(path)
    header = header_of(small_model_file(tmp_path))
    header["root"] = "ROOT"
    deep = '{"list": [' * 100_000 + "1" + "]}" * 100_000
    rewrite(path, replace={HEADER: json.dumps(header).replace('"ROOT"', deep).encode()})
    with pytest.raises(ValueError, match=f"^{path}: not a readable glassnet file"):
        gn.load(path)


def test_memory_errors_become_value_errors(tmp_path, monkeypatch):
    path = small_model_file(tmp_path)

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(serialization.np, "empty", no_memory)
    with pytest.raises(ValueError, match=f"^{path}: not enough memory to load it"):
        gn.load(path)


@pytest.mark.parametrize("size", [lambda n: 1, lambda n: 30, lambda n: n // 2, lambda n: n - 1],
                         ids=["1 byte", "30 bytes", "half", "all but 1"])
def test_truncated_file(tmp_path, size):
    path = small_model_file(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[:size(len(raw))])
    with pytest.raises(ValueError, match=f"^{path}: not a "):
        gn.load(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.glass"
    path.write_bytes(b"PK\x03\x04" + np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=f"^{path}: not a readable glassnet file"):
        gn.load(path)


def test_every_single_byte_corruption_fails_cleanly_or_loads_the_same_data(tmp_path):
    """Flip each byte of a small file in turn: load either raises a ValueError naming the file, or (when the byte
    carries no content, e.g. a zip timestamp) returns exactly the saved data. No other exception escapes."""
    path = tmp_path / "small.glass"
    original = {"w": np.array([1.5, -2.0], dtype=np.float32)}
    gn.save(original, path)
    raw = path.read_bytes()
    failures = 0
    for i in range(len(raw)):
        damaged = bytearray(raw)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = gn.load(path)
        except ValueError as error:
            assert str(error).startswith(f"{path}: "), str(error)
            failures += 1
        else:
            assert list(loaded) == ["w"] and np.array_equal(loaded["w"], original["w"])
    assert failures > 0.6 * len(raw)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        gn.load(tmp_path / "nothing.glass")


# ------------------------------------------------------------------------------------------ saving

def test_an_overwritten_file_keeps_its_permissions_and_a_new_one_follows_the_umask(tmp_path):
    path = tmp_path / "model.glass"
    gn.save({"w": np.ones(2)}, path)
    os.chmod(path, 0o644)
    gn.save({"w": np.zeros(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o644
    os.chmod(path, 0o600)
    gn.save({"w": np.zeros(3)}, path)
    assert path.stat().st_mode & 0o777 == 0o600
    old = os.umask(0o027)
    try:
        gn.save({"w": np.ones(2)}, tmp_path / "new.glass")
        with open(tmp_path / "by-open", "w"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "new.glass").stat().st_mode & 0o777 == 0o640 == (tmp_path / "by-open").stat().st_mode & 0o777


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.glass"
    gn.save({"w": np.ones(2)}, target)
    os.chmod(target, 0o640)
    link = tmp_path / "latest.glass"
    link.symlink_to(target)
    gn.save({"w": np.full(2, 7.0)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(gn.load(target)["w"], [7.0, 7.0])
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["latest.glass", "store"]
    assert os.listdir(tmp_path / "store") == ["real.glass"]


def test_a_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.glass"
    gn.save(nn.Sequential(nn.Linear(3, 2)), path)
    before = path.read_bytes()
    real_write = np.lib.format.write_array

    def write_then_fail(file, array, **kwargs):
        real_write(file, array, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        gn.save(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.glass"]

    def interrupted(file, array, **kwargs):
        file.write(b"\x93NUMPY half an array")
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gn.save({"w": np.ones(3)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.glass"]
    monkeypatch.undo()
    assert isinstance(gn.load(path), nn.Sequential)


def test_unsaveable_objects_are_named_and_leave_the_old_file(tmp_path):
    path = tmp_path / "model.glass"
    gn.save(nn.Sequential(nn.Linear(3, 2)), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"gn.save cannot store the object\['a'\]\[1\], a object"):
        gn.save({"a": [1, object()]}, path)
    with pytest.raises(TypeError, match=r"the object\['names'\] is an array of dtype <U1; only numeric arrays"):
        gn.save({"names": np.array(["a", "b"])}, path)
    with pytest.raises(TypeError, match=r"has a key \(1, 2\) of type tuple"):
        gn.save({(1, 2): 3}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.glass"]


def test_saving_into_a_missing_folder_names_the_path_given(tmp_path):
    given = tmp_path / "no" / "such" / "model.glass"
    with pytest.raises(FileNotFoundError, match=rf"no folder '{tmp_path}/no/such' to save into: '{given}'"):
        gn.save(nn.Sequential(nn.Linear(1, 1)), given)
    assert os.listdir(tmp_path) == []


def test_the_file_holds_no_pickle(tmp_path):
    path = small_model_file(tmp_path, every_layer_model())
    header = header_of(path)
    assert header["format"] == "glassnet" and header["version"] == list(serialization.FORMAT_VERSION)
    assert header["root"]["module"]["class"] == "Sequential"
    with np.load(path, allow_pickle=False) as archive:  # NumPy reads the arrays too (an .npz layout)
        assert all(archive[name].dtype.kind in "biufc" for name in archive.files if name.endswith(".npy") or
                   name.isdigit())
