"""gn.save / gn.load: bit-exact round trips, no pickles, clean failures on damaged files, atomic writes."""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, serialization



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


def rewrite(path, header: dict | None = None, arrays: dict | None = None, fix_checksum: bool = False) -> None:
    """Rewrite a .glass archive with a changed header and/or arrays (optionally with a matching checksum)."""
    with np.load(path, allow_pickle=False) as archive:
        old = {name: archive[name] for name in archive.files}
    old_header = json.loads(old.pop(serialization.HEADER).tobytes())
    header = old_header if header is None else header
    arrays = old if arrays is None else arrays
    if fix_checksum:
        header = dict(header)
        header.pop("sha256", None)
        header["sha256"] = serialization._digest(header, arrays)
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **{serialization.HEADER: blob}, **arrays)


def header_of(path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive[serialization.HEADER].tobytes())


# ------------------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_of_every_built_in_layer_is_bit_exact(tmp_path, dtype):
    model = every_layer_model().to(dtype)
    path = tmp_path / "model.glass"
    gn.save(model, path)
    loaded = gn.load(path)
    assert type(loaded) is nn.Sequential
    assert describe(loaded) == describe(model)
    assert repr(loaded) == repr(model)
    state, restored = model.state_dict(), loaded.state_dict()
    assert list(restored) == list(state)
    for name in state:
        assert restored[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(restored[name], state[name])
    assert loaded[3].bias is None and loaded[4].negative_slope == 0.2 and loaded[5].p == 0.3
    assert loaded[-1].dim == 1 and loaded[10].negative_slope == 0.01
    model.eval(), loaded.eval()
    X = inputs(dtype)
    expected = gn.predict(model, X)
    assert expected.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(gn.predict(loaded, X), expected)


def test_loaded_model_trains_like_the_original(tmp_path):
    """The rebuilt model is a full model: the same training from the same weights gives the same weights."""
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    gn.save(model, tmp_path / "m.glass")
    loaded = gn.load(tmp_path / "m.glass")
    X = np.random.default_rng(0).normal(size=(16, 3))
    y = X.sum(axis=1)
    for m in (model, loaded):
        gn.fit(m, X, y, loss=nn.MSELoss(), optimizer=gn.optim.Adam(m.parameters(), lr=0.01), epochs=3,
               batch_size=4, shuffle=False)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip(tmp_path, dtype):
    model = every_layer_model().to(dtype)
    state = model.state_dict()
    gn.save(state, tmp_path / "state.glass")
    loaded = gn.load(tmp_path / "state.glass")
    assert isinstance(loaded, dict) and list(loaded) == list(state)
    for name, array in state.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    fresh = every_layer_model().to(dtype)
    fresh.load_state_dict(loaded)
    X = inputs(dtype)
    np.testing.assert_array_equal(gn.predict(fresh, X), gn.predict(model, X))


def test_state_dict_of_tensors_and_integer_arrays(tmp_path):
    state = {"w": gn.tensor([[1.5, -2.0]]), "steps": np.arange(4, dtype=np.int64), "flag": np.array([True])}
    gn.save(state, tmp_path / "s.glass")
    loaded = gn.load(tmp_path / "s.glass")
    np.testing.assert_array_equal(loaded["w"], np.array([[1.5, -2.0]], dtype=np.float32))
    assert loaded["steps"].dtype == np.int64 and loaded["flag"].dtype == bool


def test_save_accepts_str_and_pathlike(tmp_path):
    model = nn.Sequential(nn.Linear(2, 1))
    gn.save(model, str(tmp_path / "a.glass"))
    gn.save(model, tmp_path / "b.glass")
    assert (tmp_path / "a.glass").read_bytes() == (tmp_path / "b.glass").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["a.glass", "b.glass"]  # no ".npz" suffix added


# ------------------------------------------------------------------------------------------ no pickle

def test_the_file_holds_no_pickle(tmp_path):
    path = tmp_path / "model.glass"
    gn.save(every_layer_model(), path)
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    assert serialization.HEADER in members
    assert all(array.dtype != object and array.dtype.kind in "biuf" for array in members.values())
    header = header_of(path)
    assert header["format"] == "glassnet" and header["kind"] == "model"
    assert header["architecture"]["class"] == "Sequential"
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
        assert all(b"pickle" not in archive.read(name)[:128].lower() for name in archive.namelist())


def test_an_object_array_in_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "s.glass"
    with pytest.raises(TypeError, match="entry 'bad' is not a numeric array"):
        gn.save({"ok": np.zeros(2), "bad": np.array([{"a": 1}], dtype=object)}, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_pickled_npz_is_not_loaded(tmp_path):
    """A file whose member is an object array (which needs pickle) fails cleanly instead of unpickling."""
    path = tmp_path / "evil.glass"
    gn.save({"w": np.zeros(3)}, path)
    header = header_of(path)
    with open(path, "wb") as file:
        np.savez(file, **{serialization.HEADER: np.frombuffer(json.dumps(header).encode(), np.uint8)},
                 w=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=f"{path}: not a readable glassnet file.*pickle"):
        gn.load(path)


# ------------------------------------------------------------------------------------------ damaged files

@pytest.fixture
def saved(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    path = tmp_path / "model.glass"
    gn.save(model, path)
    return path


@pytest.mark.parametrize("size", [lambda n: 0, lambda n: 1, lambda n: 30, lambda n: n // 2, lambda n: n * 9 // 10,
                                  lambda n: n - 1], ids=["empty", "1 byte", "30 bytes", "half", "90%", "all but 1"])
def test_truncated_file(saved, size):
    raw = saved.read_bytes()
    saved.write_bytes(raw[:size(len(raw))])
    with pytest.raises(ValueError, match=f"^{saved}: not a readable glassnet file"):
        gn.load(saved)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.glass"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=f"^{path}: not a readable glassnet file"):
        gn.load(path)


def test_every_single_byte_corruption_fails_cleanly_or_loads_the_same_data(tmp_path):
    """Flip each byte of a small file in turn: load either raises a ValueError naming the file, or (when the
    byte is zip metadata that carries no content) returns exactly the saved arrays. No other exception escapes
    (zip flags, versions and compression fields once leaked NotImplementedError and RuntimeError)."""
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


def test_other_npy_and_npz_files_are_not_glassnet_files(tmp_path):
    single = tmp_path / "single.glass"
    with open(single, "wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(ValueError, match=f"^{single}: .*single array"):
        gn.load(single)
    plain = tmp_path / "plain.glass"
    with open(plain, "wb") as file:
        np.savez(file, w=np.zeros(3))
    with pytest.raises(ValueError, match=f"^{plain}: .*no glassnet header"):
        gn.load(plain)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        gn.load(tmp_path / "nothing.glass")


def test_tampered_array_fails_the_checksum(saved):
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name != serialization.HEADER}
    arrays["0.weight"] = arrays["0.weight"].copy()
    arrays["0.weight"][1, 2] += 0.5
    rewrite(saved, arrays=arrays)  # the old header, with its checksum
    with pytest.raises(ValueError, match=f"^{saved}: checksum mismatch: the file was modified or damaged"):
        gn.load(saved)


def test_tampered_header_fails_the_checksum(saved):
    header = header_of(saved)
    header["architecture"]["children"][1]["class"] = "Swish"
    rewrite(saved, header=header)
    with pytest.raises(ValueError, match=f"^{saved}: checksum mismatch"):
        gn.load(saved)


def test_unknown_layer_class_with_a_valid_checksum(saved):
    header = header_of(saved)
    header["architecture"]["children"][1]["class"] = "Swish"
    rewrite(saved, header=header, fix_checksum=True)
    with pytest.raises(ValueError, match=f"^{saved}: .*unknown layer class 'Swish'.*Tanh"):
        gn.load(saved)


@pytest.mark.parametrize("change, message", [
    (lambda h: h.update(format="other"), "not a glassnet file"),
    (lambda h: h.update(version=99), "version 99 is not supported"),
    (lambda h: h.update(kind="optimizer"), "unknown content kind 'optimizer'"),
    (lambda h: h.update(architecture=["Linear"]), "malformed architecture"),
    (lambda h: h["architecture"]["children"][0]["config"].update(in_features=-3), "cannot rebuild Linear"),
    (lambda h: h["architecture"]["children"][0].update(config={"size": 3}), "cannot rebuild Linear"),
])
def test_bad_headers_with_valid_checksums(saved, change, message):
    header = header_of(saved)
    change(header)
    rewrite(saved, header=header, fix_checksum=True)
    with pytest.raises(ValueError, match=f"^{saved}: .*{message}"):
        gn.load(saved)


def test_header_that_is_not_json(saved):
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name != serialization.HEADER}
    with open(saved, "wb") as file:
        np.savez(file, **{serialization.HEADER: np.frombuffer(b"{not json", np.uint8)}, **arrays)
    with pytest.raises(ValueError, match=f"^{saved}: not a readable glassnet file"):
        gn.load(saved)


def test_wrong_shaped_weight(saved):
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name != serialization.HEADER}
    arrays["2.weight"] = np.zeros((2, 5), dtype=np.float32)
    header = header_of(saved)
    header["arrays"]["2.weight"] = ["<f4", [2, 5]]
    rewrite(saved, header=header, arrays=arrays, fix_checksum=True)
    with pytest.raises(ValueError, match=rf"^{saved}: weights do not fit the architecture.*'2.weight'.*\(2, 5\)"):
        gn.load(saved)


def test_missing_weight(saved):
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name not in (serialization.HEADER, "0.bias")}
    rewrite(saved, arrays=arrays, fix_checksum=True)
    with pytest.raises(ValueError, match=f"^{saved}: weights do not fit the architecture.*missing keys.*0.bias"):
        gn.load(saved)


# ------------------------------------------------------------------------------------------ failed saves

def test_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.glass"
    gn.save(nn.Sequential(nn.Linear(3, 2)), path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(file, *args, **kwargs):
        real_savez(file, *args, **kwargs)  # a full write into the temp file...
        file.write(b"partial")
        raise OSError("disk full")  # ...then the failure

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="disk full"):
        gn.save(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.glass"]

    def interrupted(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gn.save({"w": np.ones(3)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.glass"]
    monkeypatch.undo()
    assert isinstance(gn.load(path), nn.Sequential)


def test_unsaveable_objects_leave_the_old_file(tmp_path):
    path = tmp_path / "model.glass"
    gn.save(nn.Sequential(nn.Linear(3, 2)), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="gn.save takes a Module or a state dict, got object"):
        gn.save(object(), path)
    with pytest.raises(TypeError, match="not a numeric array"):
        gn.save({"names": np.array(["a", "b"])}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.glass"]


def test_save_into_a_missing_directory_fails_without_leftovers(tmp_path):
    with pytest.raises(FileNotFoundError):
        gn.save(nn.Sequential(nn.Linear(1, 1)), tmp_path / "no" / "such" / "dir.glass")
    assert os.listdir(tmp_path) == []


def test_a_successful_save_replaces_the_old_file(tmp_path):
    path = tmp_path / "model.glass"
    gn.save(nn.Sequential(nn.Linear(3, 2)), path)
    gn.save(nn.Sequential(nn.Linear(3, 5), nn.Tanh()), path)
    loaded = gn.load(path)
    assert [type(m).__name__ for m in loaded] == ["Linear", "Tanh"] and loaded[0].out_features == 5
    assert os.listdir(tmp_path) == ["model.glass"]


# ------------------------------------------------------------------------------------------ custom modules

class Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(2, 2)

    def forward(self, x):
        return self.inner(x)


def test_saving_a_custom_module_says_to_save_its_state_dict(tmp_path):
    path = tmp_path / "custom.glass"
    with pytest.raises(TypeError, match=r"Custom .*state_dict\(\)"):
        gn.save(Custom(), path)
    with pytest.raises(TypeError, match=r"Custom .*state_dict\(\)"):
        gn.save(nn.Sequential(nn.Linear(2, 2), Custom()), path)
    assert not path.exists() and os.listdir(tmp_path) == []
    model = Custom()
    gn.save(model.state_dict(), path)
    other = Custom()
    other.load_state_dict(gn.load(path))
    np.testing.assert_array_equal(other.inner.weight._data, model.inner.weight._data)


def test_a_registered_layer_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "LAYERS", dict(serialization.LAYERS))

    @serialization.register_layer
    class Scale(nn.Module):
        def __init__(self, factor: float = 1.0) -> None:
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    model = nn.Sequential(nn.Linear(2, 3), Scale(2.5))
    gn.save(model, tmp_path / "s.glass")
    loaded = gn.load(tmp_path / "s.glass")
    assert isinstance(loaded[1], Scale) and loaded[1].factor == 2.5
    X = np.ones((2, 2))
    np.testing.assert_array_equal(gn.predict(loaded, X), gn.predict(model, X))
