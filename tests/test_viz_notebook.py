"""Notebook bits: the HTML summary of a model, the live loss plot, and examples/notebook.ipynb run headless
(nbclient) with its progress bar, live plot, HTML table and inline figure checked in the outputs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, viz
from glassnet._html import module_html

ROOT = Path(__file__).resolve().parents[1]


def test_module_html_lists_layers_output_shapes_and_parameter_counts():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3))
    text = module_html(model)
    rows = text.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    assert len(rows) == 4
    assert "Linear(in_features=4, out_features=8, bias=True)" in rows[0] and "(N, 8)" in rows[0] and ">40<" in rows[0]
    assert "ReLU()" in rows[1] and "(N, 8)" in rows[1] and ">0<" in rows[1]
    assert "(N, 3)" in rows[3] and ">27<" in rows[3]
    assert "67 parameters (67 trainable), dtype float32" in text
    assert "(5, 3)" in module_html(model, input_shape=(5, 4))
    assert model.training  # the forward pass for shapes left the mode as it was


def test_module_html_escapes_and_survives_shapes_it_cannot_know():
    class Odd(nn.Module):
        def forward(self, x):
            raise ValueError("no")

        def extra_repr(self):
            return "<script>"

    text = module_html(nn.Sequential(nn.Linear(2, 2), Odd()))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "(N, 2)" not in text  # no shapes rather than wrong ones


def test_a_module_shows_itself_in_a_notebook_as_its_html_summary():
    from IPython.core.formatters import HTMLFormatter

    norm = nn.BatchNorm1d(8)
    model = nn.Sequential(nn.Linear(4, 8), norm, nn.ReLU(), nn.Linear(8, 3))
    model[3].eval()
    text = HTMLFormatter()(model)  # what Jupyter calls to render the cell's result
    assert text == model._repr_html_() == module_html(model)
    rows = text.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    assert [row.count("(N, 8)") for row in rows] == [1, 1, 1, 0] and "(N, 3)" in rows[3]
    assert "BatchNorm1d(8, eps=1e-05" in rows[1] and ">16<" in rows[1] and "83 parameters (83 trainable)" in text
    assert model.training and norm.training and not model[3].training  # each module's own mode, as it was
    assert norm.num_batches_tracked.item() == 0 and np.all(norm.running_mean.numpy() == 0)  # stats untouched
    lstm = nn.Sequential(nn.LSTM(3, 4))  # no shapes it cannot know, but the layer and its parameters
    assert "LSTM(3, 4)" in lstm._repr_html_() and ">144<" in lstm._repr_html_()


def test_the_core_imports_neither_the_html_renderer_nor_viz_nor_their_libraries():
    import subprocess
    import sys
    code = ("import sys, glassnet as gn; m = gn.nn.Sequential(gn.nn.Linear(2, 1)); "
            "gn.fit(m, [[0., 1.]], [[1.]], loss=gn.nn.MSELoss(), optimizer='sgd', verbose=0); "
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('matplotlib', 'IPython', 'onnx') "
            "or n.startswith(('glassnet._html', 'glassnet.viz', 'glassnet.cli', 'glassnet.sklearn', "
            "'glassnet.onnx', 'glassnet.playground', 'glassnet.distributed'))))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


class FakeDisplay:
    """IPython.display.display as LivePlot calls it: the first figure shown with a display id, then updates."""

    def __init__(self):
        self.shown = []

    def __call__(self, figure, display_id=False):
        assert display_id is True
        self.shown.append(("display", figure))
        return self

    def update(self, figure):
        self.shown.append(("update", figure))


def test_fit_with_live_plot_redraws_the_loss_curve_after_every_epoch(monkeypatch):
    import IPython.display
    fake = FakeDisplay()
    monkeypatch.setattr(IPython.display, "display", fake)
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 1))
    history = gn.fit(model, X, X[:, :1], loss=nn.MSELoss(), optimizer="sgd", epochs=4, validation_split=0.25,
                     verbose=0, live_plot=True)
    assert [kind for kind, _ in fake.shown] == ["display", "update", "update", "update"]
    for epoch, (_, figure) in enumerate(fake.shown, 1):
        assert figure._suptitle.get_text() == f"epoch {epoch}"
        lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
        assert np.allclose(lines["training loss"], history.history["loss"][:epoch])
        assert np.allclose(lines["validation loss"], history.history["val_loss"][:epoch])
    trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer="sgd", callbacks=[viz.LivePlot(every=2)])
    fake.shown.clear()
    trainer.fit(X, X[:, :1], epochs=4, verbose=0, live_plot=True)  # the user's own LivePlot is the one used
    assert [kind for kind, _ in fake.shown] == ["display", "update"]
    with pytest.raises(TypeError, match="live_plot must be True or False, got 'yes'"):
        gn.fit(model, X, X[:, :1], loss=nn.MSELoss(), optimizer="sgd", verbose=0, live_plot="yes")


def test_live_plot_without_matplotlib_says_what_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    X = np.zeros((4, 2), np.float32)
    with pytest.raises(ImportError, match=r"fit\(live_plot=True\) draws with matplotlib in IPython, and matplotlib "
                                          r"is not installed: pip install matplotlib ipython"):
        gn.fit(nn.Sequential(nn.Linear(2, 1)), X, X[:, :1], loss=nn.MSELoss(), optimizer="sgd", verbose=0,
               live_plot=True)


def test_live_plot_redraws_every_n_epochs_and_at_the_end(tmp_path):
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    path = tmp_path / "live.png"
    live = viz.LivePlot(every=3, path=str(path))
    gn.fit(nn.Sequential(nn.Linear(2, 1)), X, X[:, :1], loss=nn.MSELoss(), optimizer="sgd", epochs=7,
           callbacks=[live])
    assert live.draws == 3  # after epochs 3 and 6, and at the end (7)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="every must be ≥ 1"):
        viz.LivePlot(every=0)


def test_the_example_notebook_runs_headless_and_shows_its_outputs():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)  # the kernel imports glassnet from this checkout
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    html = "".join(out.get("data", {}).get("text/html", "") for out in code[2].outputs)
    assert "Linear(in_features=4, out_features=8, bias=True)" in html and "(N, 8)" in html
    fit_outputs = code[3].outputs
    kinds = {kind for out in fit_outputs for kind in out.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds  # tqdm.auto's notebook progress bar
    assert "image/png" in kinds  # the live plot (live_plot=True)
    text = "".join(out.get("text", "") for out in fit_outputs)
    assert float(text.split("validation accuracy ")[1].split("%")[0]) > 80
    assert "image/png" in code[4].outputs[0]["data"]  # the decision boundary inline
