"""The examples that use glassnet.viz write their figures, and the figures show what the examples say."""
from __future__ import annotations

from glassnet.viz._mpl import NEGATIVE, POSITIVE
from tests.test_sklearn_example import load_example
from tests.test_viz import share_of


def read(path):
    import matplotlib.image
    return matplotlib.image.imread(path)[..., :3]


def test_see_inside_spiral_writes_curves_boundary_and_graph(tmp_path, capsys):
    paths = load_example("see_inside_spiral").main(["--out-dir", str(tmp_path), "--epochs", "60"])
    assert sorted(paths) == ["boundary", "curves", "graph"]
    accuracy = float(capsys.readouterr().out.split("validation accuracy ")[1].split("%")[0])
    assert accuracy > 70  # 60 epochs on the spiral; chance is 50%
    boundary, graph = read(paths["boundary"]), read(paths["graph"])
    assert share_of(boundary, POSITIVE, 0.1) > 0.05 and share_of(boundary, NEGATIVE, 0.1) > 0.05
    assert share_of(graph, POSITIVE) > 0.003 and share_of(graph, NEGATIVE) > 0.003
    assert read(paths["curves"]).shape[1] > 2 * read(paths["curves"]).shape[0]  # two panels: loss and accuracy


def test_see_inside_digits_finds_an_input_the_network_reads_as_the_digit(tmp_path, capsys):
    paths = load_example("see_inside_digits").main(["--out-dir", str(tmp_path), "--epochs", "15", "--digit", "3"])
    out = capsys.readouterr().out
    assert float(out.split("test accuracy ")[1].split("%")[0]) > 85
    assert "the network reads its ideal 3 as a 3" in out
    for name in ("weights", "maximisation", "saliency"):
        pixels = read(paths[name])
        assert pixels.std() > 0.1, name  # not a blank page
    assert share_of(read(paths["weights"]), POSITIVE, 0.15) > 0.002
