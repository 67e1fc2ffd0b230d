"""CSV files for the ``glassnet`` command: reading them (csv module, no pandas), the preprocessing that turns their
columns into features (standardised numbers, one-hot categories) and the target's encoding, all storable as JSON in
the model file so that prediction applies exactly what training did.

Every problem with a user's file is a ``UserError`` whose message names the file, the line, the column or the value.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..nn import PROBLEMS as _ALL_PROBLEMS

__all__ = ["UserError", "Table", "read_csv", "Preprocessor", "Target", "PROBLEMS", "MISSING"]

# The problem types (nn.PROBLEMS' words) that `glassnet train` trains; a target in [0, 1] trains as a regression
PROBLEMS = tuple(problem for problem in _ALL_PROBLEMS if problem != "unit_interval")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})  # cells read as "no value" (any case)
MAX_AUTO_CLASSES = 10  # an integer target with at most this many values (and repeats) is read as classes


class UserError(Exception):
    """A mistake in the user's input: the command prints the message as one line and exits with status 1."""


def is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING


def to_number(text: str) -> float | None:
    """The number a cell holds, NaN for a missing cell, None for text that is not a number."""
    if is_missing(text):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class Table:
    """A CSV file's header and rows of text; ``lines[i]`` is the file line of row i (the header is line 1)."""

    path: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        return [row[self.columns.index(name)] for row in self.rows]

    def require(self, names: Sequence[str], what: str = "column") -> None:
        missing = [name for name in names if name not in self.columns]
        if missing:
            raise UserError(f"{self.path}: no {what} {missing[0]!r} (the columns are {', '.join(self.columns)})")


def read_csv(path: str | os.PathLike) -> Table:
    """Read a CSV file with a header row; blank lines are skipped."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a folder, not a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            header, rows, lines = None, [], []
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if header is None:
                    header = [name.strip() for name in record]
                    _check_header(path, header)
                    continue
                if len(record) != len(header):
                    raise UserError(f"{path}, line {reader.line_num}: {len(record)} fields where the header has "
                                    f"{len(header)}")
                rows.append([cell.strip() for cell in record])
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text CSV file (not UTF-8)") from None
    except csv.Error as error:
        raise UserError(f"{path}: not a readable CSV file ({error})") from None
    if header is None:
        raise UserError(f"{path}: the file is empty (a CSV file needs a header row and data rows)")
    if not rows:
        raise UserError(f"{path}: a header but no data rows")
    return Table(path, header, rows, lines)


def _check_header(path: str, header: list[str]) -> None:
    for index, name in enumerate(header):
        if not name:
            raise UserError(f"{path}, line 1: column {index + 1} has no name")
        if name in header[:index]:
            raise UserError(f"{path}, line 1: two columns are named {name!r}")


def _numbers(table: Table, name: str, values: list[str]) -> np.ndarray:
    """The column as floats (NaN where missing); a cell that is not a number is an error naming its line."""
    numbers = np.empty(len(values))
    for i, text in enumerate(values):
        value = to_number(text)
        if value is None:
            raise UserError(f"{table.path}, line {table.lines[i]}: column {name!r} holds {text!r} where a number "
                            f"is expected")
        numbers[i] = value
    return numbers


def _kind(table: Table, name: str, values: list[str]) -> str:
    """numeric (every value a number), categorical (mostly text); a mostly numeric column with junk is an error."""
    present = [text for text in values if not is_missing(text)]
    if not present:
        raise UserError(f"{table.path}: column {name!r} has no values (every cell is empty or NaN)")
    numeric = sum(to_number(text) is not None for text in present)
    if numeric == len(present):
        return "numeric"
    if numeric > len(present) / 2:
        _numbers(table, name, values)  # raises on the first junk cell
    return "categorical"


def _sorted_labels(labels: set[str]) -> list[str]:
    """Class names in a natural order: by value when they are all numbers, else alphabetically."""
    if all(to_number(label) is not None for label in labels):
        return sorted(labels, key=float)
    return sorted(labels)


@dataclass
class Column:
    """One input column's preprocessing: numeric → (x − mean) / std, missing → mean; categorical → one-hot."""

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [self.name] if self.kind == "numeric" else [f"{self.name}={c}" for c in self.categories]

    def transform(self, table: Table) -> np.ndarray:
        values = table.column(self.name)
        if self.kind == "numeric":
            numbers = _numbers(table, self.name, values)
            numbers[np.isnan(numbers)] = self.mean
            return ((numbers - self.mean) / self.std)[:, None]
        index = {category: i for i, category in enumerate(self.categories)}
        encoded = np.zeros((len(values), len(self.categories)))
        for row, text in enumerate(values):
            category = "" if is_missing(text) else text
            if category not in index:
                known = ", ".join(repr(c) for c in self.categories[:8]) + (" …" if len(self.categories) > 8 else "")
                raise UserError(f"{table.path}, line {table.lines[row]}: column {self.name!r} holds the category "
                                f"{text!r}, not seen in training (known: {known})")
            encoded[row, index[category]] = 1.0
        return encoded


@dataclass
class Preprocessor:
    """Every input column's preprocessing, fitted on the training rows."""

    columns: list[Column]

    @classmethod
    def fit(cls, table: Table, names: Sequence[str]) -> Preprocessor:
        columns = []
        for name in names:
            values = table.column(name)
            if _kind(table, name, values) == "numeric":
                numbers = _numbers(table, name, values)
                mean, std = float(np.nanmean(numbers)), float(np.nanstd(numbers))
                columns.append(Column(name, "numeric", mean, std if std > 0 else 1.0))
            else:
                categories = {"" if is_missing(text) else text for text in values}
                columns.append(Column(name, "categorical", categories=_sorted_labels(categories)))
        return cls(columns)

    @property
    def features(self) -> list[str]:
        return [feature for column in self.columns for feature in column.features]

    def transform(self, table: Table) -> np.ndarray:
        """(rows, features) float32."""
        table.require([column.name for column in self.columns], "input column")
        return np.concatenate([column.transform(table) for column in self.columns], axis=1).astype(np.float32)

    def to_config(self) -> list[dict[str, Any]]:
        return [vars(column) for column in self.columns]

    @classmethod
    def from_config(cls, config: list[dict[str, Any]]) -> Preprocessor:
        return cls([Column(**column) for column in config])


@dataclass
class Target:
    """The target column's problem type and encoding: class names ↔ indices, or regression values standardised."""

    name: str
    problem: str
    classes: list[str] = field(default_factory=list)
    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, table: Table, name: str, problem: str = "auto") -> Target:
        table.require([name], "target column")
        values = table.column(name)
        for i, text in enumerate(values):
            if is_missing(text):
                raise UserError(f"{table.path}, line {table.lines[i]}: the target {name!r} has no value")
        numbers = [to_number(text) for text in values]
        numeric = all(number is not None for number in numbers)
        labels = set(values)
        if problem == "auto":
            problem = _guess_problem(numeric, numbers, labels)
        if problem == "regression":
            y = _numbers(table, name, values)
            return cls(name, problem, mean=float(y.mean()), std=float(y.std()) or 1.0)
        if len(labels) < 2:
            raise UserError(f"{table.path}: the target {name!r} has a single class ({values[0]!r}); a classifier "
                            f"needs at least two")
        if problem == "binary" and len(labels) != 2:
            raise UserError(f"{table.path}: --problem binary, but the target {name!r} has {len(labels)} classes "
                            f"(use --problem multiclass)")
        return cls(name, problem, classes=_sorted_labels(labels))

    @property
    def outputs(self) -> int:
        return len(self.classes) if self.problem == "multiclass" else 1

    def encode(self, table: Table) -> np.ndarray:
        """Class indices (int64) or standardised values (float32, (N, 1)) of the table's target column."""
        table.require([self.name], "target column")
        values = table.column(self.name)
        if self.problem == "regression":
            return ((_numbers(table, self.name, values) - self.mean) / self.std).astype(np.float32)[:, None]
        index = {label: i for i, label in enumerate(self.classes)}
        for row, text in enumerate(values):
            if text not in index:
                raise UserError(f"{table.path}, line {table.lines[row]}: the target {self.name!r} holds {text!r}, "
                                f"not one of the classes {self.classes}")
        labels = np.array([index[text] for text in values], dtype=np.int64)
        return labels.astype(np.float32)[:, None] if self.problem == "binary" else labels

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """(N, classes) class probabilities from the network's logits (the output activation: sigmoid, softmax)."""
        if self.problem == "binary":
            p = 1.0 / (1.0 + np.exp(-outputs[:, 0].astype(np.float64)))
            return np.stack([1.0 - p, p], axis=1)
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Predictions in the training file's own form: class names, or values in the target's units."""
        if self.problem == "regression":
            return outputs[:, 0].astype(np.float64) * self.std + self.mean
        return np.array(self.classes, dtype=object)[self.probabilities(outputs).argmax(axis=1)]

    def to_config(self) -> dict[str, Any]:
        return vars(self).copy()


def _guess_problem(numeric: bool, numbers: list[float | None], labels: set[str]) -> str:
    if not numeric:
        return "binary" if len(labels) == 2 else "multiclass"
    distinct = set(numbers)
    if len(distinct) == 2:
        return "binary"
    integers = all(float(number).is_integer() for number in distinct)
    if integers and len(distinct) <= MAX_AUTO_CLASSES and len(numbers) >= 2 * len(distinct):
        return "multiclass"
    return "regression"
