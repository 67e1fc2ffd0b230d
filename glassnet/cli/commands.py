"""The ``glassnet`` command's subcommands (Click), with Rich for progress bars and tables.

A user's mistake (a missing file or column, junk in a CSV file, a bad option value, a busy port) ends the command
with one line on stderr naming the problem and a non-zero status, never a traceback: ``UserError`` and Click's
usage errors are caught in ``main``.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

import glassnet as gn

from . import demos, install_hint
from .model_file import ACTIVATIONS, Trained, check_writable, load_model, save_model
from .table import PROBLEMS, UserError, read_csv
from .training import Options, scores, train_table

__all__ = ["cli", "main"]

err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
out = Console(highlight=False, markup=False, soft_wrap=True)
CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 110}


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"),
                    TextColumn("{task.fields[stats]}"), TimeRemainingColumn(), console=err, transient=False)


def hidden_sizes(ctx: Any, param: Any, value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()] if value.strip() else []
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of layer widths such as 16,16") from None
    if any(size < 1 for size in sizes):
        raise click.BadParameter(f"{value!r}: every layer needs at least one neuron")
    return sizes


@click.group(context_settings=CONTEXT)
@click.version_option(gn.__version__, "-V", "--version", prog_name="glassnet", message="%(prog)s %(version)s")
def cli() -> None:
    """glassnet: train, inspect and use neural networks on CSV files; serve the playground."""


# ------------------------------------------------------------------------------------------ train

@cli.command(context_settings=CONTEXT, short_help='train a network on a CSV file')
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--target", required=True, help="the column to predict")
@click.option("--problem", type=click.Choice(("auto", *PROBLEMS)), default="auto",
              help="auto: text or two values → classes, a few integers → multiclass, else regression")
@click.option("--hidden", default="16,16", callback=hidden_sizes, help="hidden layer widths")
@click.option("--activation", type=click.Choice(list(ACTIVATIONS)), default="relu", help="hidden activation")
@click.option("--optimizer", type=click.Choice(sorted(gn.train.OPTIMIZERS)), default="adam")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, help="learning rate")
@click.option("--epochs", type=click.IntRange(min=1), default=100)
@click.option("--batch-size", type=click.IntRange(min=1), default=32)
@click.option("--l2", type=click.FloatRange(min=0), default=1e-4, help="L2 penalty rate")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              help="dropout after each hidden layer")
@click.option("--early-stopping", type=click.IntRange(min=0), default=10,
              help="stop after this many epochs without a better validation loss (0: never)")
@click.option("--test-size", type=click.FloatRange(0, 1, max_open=True), default=0.2,
              help="fraction of rows held out for the final test report")
@click.option("--restarts", type=click.IntRange(min=1), default=1,
              help="trainings from new random weights; the best is kept")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="the model file to write")
@click.option("--plot/--no-plot", default=True, help="write the learning curves as OUT's name + .png")
def train(data: str, target: str, problem: str, out_path: str, plot: bool, **options: Any) -> None:
    """Train a network on a CSV file and write it (with its preprocessing) to --out."""
    table = read_csv(data)
    check_writable(out_path)
    trained = train_table(table, target, problem, Options(**options), progress_bar)
    save_model(trained, out_path)
    info = trained.training
    if info["interrupted"]:
        err.print(f"interrupted: wrote the best model so far (run {info['run'] + 1}, epoch {info['best_epoch'] + 1}, "
                  f"validation loss {info['best_val_loss']:.4g}) to {out_path}")
    if info["test"]:
        report(trained, info["test"], f"test set ({info['rows']['test']} rows)")
    out.print(f"wrote {out_path}")
    if plot:
        write_curves(trained, out_path)
    if info["interrupted"]:
        raise SystemExit(130)


def write_curves(trained: Trained, model_path: str) -> None:
    try:
        from glassnet.viz import learning_curves
        figure = learning_curves(trained.training["history"], best_epoch=trained.training["best_epoch"],
                                 title=f"{trained.target.name}: learning curves")
    except ImportError:
        err.print(f"learning curves not drawn: matplotlib is missing ({install_hint('plots')})")
        return
    path = str(Path(model_path).with_suffix("")) + ".curves.png"
    figure.savefig(path, dpi=100)
    out.print(f"wrote {path}")


def report(trained: Trained, result: dict[str, Any], title: str) -> None:
    """accuracy and a confusion matrix, or MSE/MAE/R²."""
    if "accuracy" in result:
        out.print(f"{title}: accuracy {result['accuracy']:.1%}")
        table = RichTable(title="confusion matrix", caption="rows: true class; columns: predicted")
        table.add_column("true \\ predicted")
        for name in trained.target.classes:
            table.add_column(name, justify="right")
        for name, row in zip(trained.target.classes, result["confusion"]):
            table.add_row(name, *map(str, row))
        out.print(table)
    else:
        out.print(f"{title}: MSE {result['mse']:.4g}  MAE {result['mae']:.4g}  R² {result['r2']:.4f}")


# ------------------------------------------------------------------------------------------ predict, evaluate

@cli.command(context_settings=CONTEXT, short_help='predict the target of each row of a CSV file')
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="CSV file to write (default: stdout)")
@click.option("--proba", is_flag=True, help="add one probability column per class")
def predict(model_path: str, data: str, out_path: str | None, proba: bool) -> None:
    """Predict the target of every row of a CSV file (with the model's own preprocessing)."""
    trained = load_model(model_path)
    target = trained.target
    if proba and target.problem == "regression":
        raise UserError(f"{model_path}: --proba needs a classifier, but this model does regression")
    table = read_csv(data)
    outputs = trained.outputs(trained.preprocessor.transform(table))
    columns = [target.decode(outputs)]
    header = [target.name]
    if proba:
        probabilities = target.probabilities(outputs)
        columns += list(probabilities.T)
        header += [f"{target.name}_proba_{name}" for name in target.classes]
    lines = [",".join(_csv_cell(name) for name in header)]
    lines += [",".join(_csv_cell(value) for value in row) for row in zip(*columns)]
    text = "\n".join(lines) + "\n"
    if out_path is None:
        sys.stdout.write(text)
        return
    try:
        Path(out_path).write_text(text)
    except OSError as error:
        raise UserError(f"{out_path}: cannot write ({error.strerror})") from None
    out.print(f"wrote {len(table.rows)} predictions to {out_path}")


def _csv_cell(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


@cli.command(context_settings=CONTEXT, short_help='score a model on a CSV file with the target')
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
def evaluate(model_path: str, data: str) -> None:
    """Score the model on a CSV file that has the target column."""
    trained = load_model(model_path)
    table = read_csv(data)
    y = trained.target.encode(table)  # the target column is checked first
    X = trained.preprocessor.transform(table)
    report(trained, scores(trained, X, y), f"{data} ({len(table.rows)} rows)")


# ------------------------------------------------------------------------------------------ inspect, export

@cli.command(context_settings=CONTEXT, short_help='show a model file: layers, preprocessing, history')
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
def inspect(model_path: str) -> None:
    """Show the layers, shapes, parameter counts, preprocessing and training history of a model file."""
    trained = load_model(model_path)
    info = trained.training
    layers = RichTable(title=f"{model_path}: network")
    for column in ("#", "layer", "output shape", "parameters"):
        layers.add_column(column, justify="right" if column in ("#", "parameters") else "left")
    width, total = trained.architecture["inputs"], 0
    for index, layer in enumerate(trained.model):
        count = sum(p.numel() for p in layer.parameters())
        total += count
        width = getattr(layer, "out_features", width)
        layers.add_row(str(index), repr(layer), f"(N, {width})", f"{count:,}")
    layers.caption = f"{total:,} parameters; output activation {info.get('output_activation')}, loss {info.get('loss')}"
    out.print(layers)
    prep = RichTable(title="preprocessing")
    for column in ("column", "kind", "encoding"):
        prep.add_column(column)
    for column in trained.preprocessor.columns:
        encoding = (f"(x − {column.mean:.4g}) / {column.std:.4g}, missing → mean" if column.kind == "numeric"
                    else f"one-hot over {len(column.categories)}: {', '.join(column.categories[:6])}"
                         + (" …" if len(column.categories) > 6 else ""))
        prep.add_row(column.name, column.kind, encoding)
    target = trained.target
    prep.caption = (f"target {target.name!r}: {target.problem}" +
                    (f", classes {', '.join(target.classes)}" if target.classes else
                     f", standardised with mean {target.mean:.4g}, std {target.std:.4g}"))
    out.print(prep)
    history = info.get("history", {})
    if history.get("loss"):
        out.print(f"training: {len(history['loss'])} epochs (run {info['run'] + 1} of "
                  f"{info['options']['restarts']}), best epoch {info['best_epoch'] + 1} with validation loss "
                  f"{info['best_val_loss']:.4g}; stopped: {info.get('stop_reason') or 'after the last epoch'}"
                  + ("; interrupted (Ctrl-C)" if info.get("interrupted") else ""))
        out.print("options: " + ", ".join(f"{key}={value}" for key, value in info["options"].items()))
    if info.get("test"):
        report(trained, info["test"], "test set at training time")


@cli.command(context_settings=CONTEXT, short_help="write a model's network as ONNX")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--onnx", "onnx_path", required=True, type=click.Path(dir_okay=False), help="the ONNX file to write")
def export(model_path: str, onnx_path: str) -> None:
    """Write the model's network as ONNX (inputs: the preprocessed features that `inspect` lists)."""
    trained = load_model(model_path)
    head = {"sigmoid": [gn.nn.Sigmoid()], "softmax": [gn.nn.Softmax(dim=-1)]}.get(
        trained.training.get("output_activation"), [])  # the network outputs logits; the file gives probabilities
    output = "probabilities" if head else "values"
    example = np.zeros((1, trained.architecture["inputs"]), trained.model.dtype)
    try:
        gn.onnx.export(gn.nn.Sequential(*trained.model, *head), example, onnx_path, input_names=["features"],
                       output_names=[output], dynamic_axes={"features": {0: "N"}, output: {0: "N"}})
    except ImportError as error:
        raise UserError(f"ONNX export needs onnx ({install_hint('onnx')}): {error}") from None
    out.print(f"wrote {onnx_path}: input 'features' (N, {trained.architecture['inputs']}), output "
              f"'{'probabilities' if trained.target.problem != 'regression' else 'values'}'")


# ------------------------------------------------------------------------------------------ playground, demo

@cli.command(context_settings=CONTEXT, short_help='serve the playground in the browser')
@click.option("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, help="0 picks a free port")
@click.option("--play", is_flag=True, help="start every new page training (by default a page starts paused, at "
                                           "epoch 0)")
@click.option("--max-sessions", type=click.IntRange(min=1), default=32, help="pages served at once")
def playground(host: str, port: int, play: bool, max_sessions: int) -> None:
    """Serve the playground in the browser."""
    try:
        from glassnet.playground.server import serve
    except ImportError as error:
        raise UserError(f"the playground needs its extra ({install_hint('playground')}): {error}") from None

    def announce(line: str) -> None:
        out.print(line)
        sys.stdout.flush()
    try:
        serve(host=host, port=port, autoplay=play, max_sessions=max_sessions, announce=announce)
    except OSError as error:
        raise UserError(str(error)) from None


@cli.command(context_settings=CONTEXT, short_help="run a demo (default: the playground's own network)",
             help="Run a demo. NAME: 'default' (the playground page's default network, trained in the terminal), "
                  "'spiral', or one of the checkout's examples, run with its own defaults: "
                  + (", ".join(name for name in demos.names() if name not in ("default", "spiral")) or "none"))
@click.argument("name", metavar="[NAME]", default="default", type=click.Choice(list(demos.names())))
@click.option("--epochs", type=click.IntRange(min=1), default=300)
@click.option("--seed", type=click.IntRange(min=0), default=0)
def demo(name: str, epochs: int, seed: int) -> None:
    with progress_bar() as progress:
        line = demos.run(name, epochs=epochs, seed=seed, progress=progress)
    out.print(line)


# ------------------------------------------------------------------------------------------ entry point

def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, 1 for a user's mistake, 2 for a usage error, 130 on Ctrl-C)."""
    try:
        cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="glassnet", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        err.print("glassnet: interrupted")
        return 130
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "glassnet"
        err.print(f"{command}: {error.format_message()} (see {command} --help)", soft_wrap=True)
        return 2
    except click.ClickException as error:
        err.print(f"glassnet: {error.format_message()}", soft_wrap=True)
        return error.exit_code
    except UserError as error:
        err.print(f"glassnet: {error}", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("glassnet: interrupted")
        return 130
    except SystemExit as done:
        return int(done.code or 0)
    return 0
