"""What a drawing of a network shows, shared by the picture and the page.

:func:`slopes.plot.draw_network` (the picture) and :func:`slopes.page.report`
(the interactive page) draw the same nodes and write the same numbers:

- :func:`chosen_nodes`: the nodes drawn in each column: all of them, or, in a
  column of more than ``max_nodes``, those that matter most (by the slopes of
  a trace, or else by the size of their weights); ``nodes`` picks them by hand.
- :func:`short_number`: a number written short for a drawing (6, 0.495,
  -0.0203, 1.2e-05).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .network import Network
    from .trace import Trace

__all__ = ["chosen_nodes", "short_number"]


def chosen_nodes(net: Network, trace: Trace | None, weights: list[np.ndarray],
                 max_nodes: int, nodes: Mapping[int, Sequence[int]] | None) -> list[list[int]]:
    """The nodes drawn in each column, in their order: all of them, or those that matter most."""
    sizes = net.sizes
    chosen: list[list[int]] = []
    for level, n in enumerate(sizes):
        if nodes is not None and level in nodes:
            picked = [int(i) for i in nodes[level]]
            bad = [i for i in picked if not 0 <= i < n]
            if bad or not picked:
                raise ValueError(f"nodes[{level}] must list nodes 0..{n - 1} of column {level}, "
                                 f"got {list(nodes[level])}")
            chosen.append(list(dict.fromkeys(picked)))
            continue
        if n <= max_nodes:
            chosen.append(list(range(n)))
            continue
        if trace is not None:
            importance = np.abs(trace.node_slopes[level]).sum(axis=0)
        else:
            importance = np.zeros(n)
            if level < len(weights):
                importance += np.abs(weights[level]).sum(axis=1)
            if level > 0:
                importance += np.abs(weights[level - 1]).sum(axis=0)
        keep = np.argsort(-importance, kind="stable")[: max_nodes - 1]
        chosen.append(sorted(int(i) for i in keep))
    return chosen


def short_number(x: float) -> str:
    """Short numbers for a drawing: 6, 0.495, -0.0203, 1.2e-05."""
    x = float(x)
    if x == 0:
        return "0"
    if not np.isfinite(x):
        return str(x)  # nan, inf: a diverged network is still drawn
    if x == round(x) and abs(x) < 1e5:
        return str(int(round(x)))
    return f"{x:.3g}"
