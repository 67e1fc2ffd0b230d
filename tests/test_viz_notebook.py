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
    assert "image/png" in kinds  # the live plot
    text = "".join(out.get("text", "") for out in fit_outputs)
    assert float(text.split("validation accuracy ")[1].split("%")[0]) > 60
    assert "image/png" in code[4].outputs[0]["data"]  # the decision boundary inline
