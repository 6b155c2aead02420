"""The plane view of the interactive page: what each node computes over two inputs.

As in the neural network playground, each drawn hidden and output node is
shown as a small heat map of its value over a plane of two inputs, with the
rows of the data on it, one map per epoch the page's slider shows.

- A network with two inputs: the plane of those two inputs.
- With more inputs: the two that matter most for the row the page explains
  (the largest ``|slope x value|``, the slope of the output with respect to
  the input, summed over the outputs, as ``slopes explain`` ranks inputs), the
  other inputs held at that row's values (the page says so).

The plane spans the rows' range of each input, padded by a tenth; with a single
row, its value +- 3 (3 standard deviations of a standardized column). Each map
is ``grid x grid`` values, stored as bytes (0-255 between the node's smallest
and largest value over all epochs, base64), so a page of 101 epochs stays small.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from .network import Network
from .trace import Trace

__all__ = ["plane_view", "plane_inputs", "plane_grid", "GRID", "MAX_POINTS"]

#: Cells per side of each node's map.
GRID = 24
#: The most data rows drawn on the maps (evenly spread over the rows given).
MAX_POINTS = 300


def plane_inputs(trace: Trace) -> tuple[int, int]:
    """The two inputs of the plane: both of a two-input network, else the two with the
    largest ``|slope x value|`` on the row of ``trace`` (ties: larger ``|slope|``, then the
    first)."""
    n = trace.network.n_inputs
    if n == 2:
        return 0, 1
    values = trace.node_values[0][0]
    slope = sum(np.abs(trace.prediction_slopes(o)[0]) for o in range(trace.network.n_outputs))
    effect = np.abs(slope * values)
    order = sorted(range(n), key=lambda i: (-effect[i], -slope[i], i))
    a, b = sorted(order[:2])
    return a, b


def plane_grid(x_row: np.ndarray, x_all: np.ndarray, inputs: tuple[int, int],
               grid: int = GRID) -> tuple[np.ndarray, list[list[float]]]:
    """The ``grid * grid`` points of the plane (rows: y from top to bottom, then x), every
    other input at the row's value; and the plane's range ``[[x0, x1], [y0, y1]]``."""
    ranges = []
    for i in inputs:
        lo, hi = float(np.min(x_all[:, i])), float(np.max(x_all[:, i]))
        if hi - lo > 0:
            pad = (hi - lo) / 10
            ranges.append([lo - pad, hi + pad])
        else:
            ranges.append([lo - 3.0, lo + 3.0])
    xs = np.linspace(ranges[0][0], ranges[0][1], grid)
    ys = np.linspace(ranges[1][1], ranges[1][0], grid)  # the top row of the map first
    points = np.repeat(x_row[:1], grid * grid, axis=0).astype(float)
    points[:, inputs[0]] = np.tile(xs, grid)
    points[:, inputs[1]] = np.repeat(ys, grid)
    return points, ranges


def plane_view(net: Network, frame_nets: list[Network], final: Trace, x_row: np.ndarray,
               x_all: np.ndarray, y_all: np.ndarray, shown: list[list[int]],
               input_names: list[str] | None, grid: int = GRID) -> dict[str, Any] | None:
    """The plane view's data for the page, or None for a network of one input."""
    if net.n_inputs < 2:
        return None
    inputs = plane_inputs(final)
    points, ranges = plane_grid(x_row, x_all, inputs, grid)
    points = points.astype(net.dtype)
    # node values per frame: (frames, levels 1.., grid*grid, drawn nodes)
    per_frame = []
    for frame_net in frame_nets:
        _, values = frame_net.forward(points)
        per_frame.append([values[level][:, shown[level]] for level in range(1, len(values))])
    maps, lows, highs, nodes = [], [], [], []
    for level in range(1, len(shown)):
        for slot, node in enumerate(shown[level]):
            stack = np.stack([f[level - 1][:, slot] for f in per_frame]).astype(float)
            finite = stack[np.isfinite(stack)]
            lo = float(finite.min()) if finite.size else 0.0
            hi = float(finite.max()) if finite.size else 0.0
            scaled = np.nan_to_num((stack - lo) / (hi - lo) if hi > lo else stack * 0 + 0.5,
                                   nan=0.5, posinf=1.0, neginf=0.0)
            codes = np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
            maps.append([base64.b64encode(row.tobytes()).decode("ascii") for row in codes])
            lows.append(lo)
            highs.append(hi)
            nodes.append([level, slot, int(node)])
    pick = np.unique(np.round(np.linspace(0, len(x_all) - 1, min(MAX_POINTS, len(x_all))))
                     .astype(int))
    targets = np.asarray(y_all, dtype=float).reshape(len(y_all), -1)
    if targets.shape[1] > 1:  # one-hot rows: the class
        target = targets.argmax(axis=1).astype(float)
    else:
        target = targets[:, 0]
    names = [input_names[i] if input_names else f"input {i}" for i in inputs]
    held = None
    if net.n_inputs > 2:
        held = (f"The plane of {names[0]} and {names[1]}, the two inputs with the largest "
                f"|slope x value| on this row; the other {net.n_inputs - 2} inputs are held at "
                "this row's values.")
    return {
        "inputs": list(inputs), "names": names, "ranges": ranges, "grid": grid,
        "nodes": nodes, "low": lows, "high": highs, "maps": maps,
        "points": [[float(x_all[k, inputs[0]]), float(x_all[k, inputs[1]]), float(target[k])]
                   for k in pick],
        "row": [float(x_row[0, inputs[0]]), float(x_row[0, inputs[1]])],
        "held": held,
    }
