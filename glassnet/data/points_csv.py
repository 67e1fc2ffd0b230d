"""Read and write 2-D labelled points as CSV (``x1,x2,label``), for the playground's upload."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

HEADER = ("x1", "x2", "label")
"""Column names of a points file; the header row is optional."""


def _number(cell: str, row: int, column: str) -> float:
    """Parse one cell, naming its place in the file when it is not a finite number."""
    text = cell.strip()
    try:
        if "_" in text:  # float() accepts "1_000"; a CSV reader should not
            raise ValueError
        value = float(text)
    except ValueError:
        shown = repr(cell) if text else "an empty cell"
        raise ValueError(f"row {row}, column {column!r}: {shown} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"row {row}, column {column!r}: {cell.strip()!r} is not a finite number "
                         f"(NaN and infinity are not allowed)")
    return value


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(cells: list[str]) -> bool:
    return [c.strip().lower() for c in cells] == list(HEADER)


def read_points_csv(text: str | bytes, max_rows: int = 2000,
                    max_bytes: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Parse uploaded points: one ``x1,x2,label`` row per point, with or without that header.

    Blank lines are skipped. Errors are ``ValueError``s naming the row (the line of the file,
    counting from 1, header included) and the column, e.g.
    ``row 7, column 'x2': 'abc' is not a number``.

    Args:
        text: the file's content (bytes are decoded as UTF-8; a byte-order mark is ignored).
        max_rows: most data rows accepted.
        max_bytes: largest file accepted, in bytes of UTF-8.

    Returns:
        ``X`` (n, 2) float64 and ``y`` (n,) float64 labels; the caller decides whether they
        are classes or regression targets.
    """
    if isinstance(text, (bytes, bytearray)):
        size = len(text)
        if size <= max_bytes:
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"the file is not UTF-8 text (byte {error.start} cannot be read)") from None
    elif isinstance(text, str):
        size = len(text.encode("utf-8", errors="surrogatepass"))
    else:
        raise TypeError(f"read_points_csv needs the file's text as str or bytes, got {type(text).__name__}")
    if size > max_bytes:
        raise ValueError(f"the file is too large: {size} bytes, the limit is {max_bytes} bytes")
    text = text.removeprefix("\ufeff")

    reader = csv.reader(io.StringIO(text, newline=""))
    points: list[tuple[float, float, float]] = []
    first = True
    try:
        for cells in reader:
            row = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank line
            if first:
                first = False
                if _is_header(cells):
                    continue
                if not any(_looks_numeric(c) for c in cells):
                    raise ValueError(f"row {row}: the header must be 'x1,x2,label' (or leave it out), "
                                     f"got {','.join(cells)!r}")
            if len(cells) != 3:
                raise ValueError(f"row {row}: expected 3 columns (x1, x2, label), got {len(cells)}: "
                                 f"{','.join(cells)!r}")
            if len(points) == max_rows:
                raise ValueError(f"too many rows: more than {max_rows} data rows, the limit is {max_rows}")
            points.append(tuple(_number(c, row, name) for c, name in zip(cells, HEADER)))
    except csv.Error as error:
        raise ValueError(f"row {reader.line_num}: this is not valid CSV ({error})") from None
    if not points:
        raise ValueError("the file is empty: it has no data rows (expected rows of x1,x2,label)")
    data = np.array(points, dtype=np.float64)
    return data[:, :2].copy(), data[:, 2].copy()


def write_points_csv(X: np.ndarray, y: np.ndarray) -> str:
    """The inverse of ``read_points_csv``: (n, 2) points and (n,) labels as CSV text with a header.

    Numbers are written with ``repr``, so reading the text back gives the same float64 values.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"write_points_csv needs X of shape (n, 2) and y of shape (n,), "
                         f"got {X.shape} and {y.shape}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows((repr(float(a)), repr(float(b)), repr(float(c))) for (a, b), c in zip(X, y))
    return out.getvalue()
