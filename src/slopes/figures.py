"""The figures slopes draws into, with matplotlib: made, kept out of pyplot, turned into PNG.

- :func:`new_figure`: a new figure; pyplot's current figure when the program
  uses pyplot (not in Jupyter), so ``plt.savefig`` and ``plt.show()`` work
  after :func:`slopes.plot.draw_network` as after any pyplot plot;
- :func:`unmanaged_figures`: within this block figures never enter pyplot's
  list (for PNG bytes: the command line, notebook displays);
- :func:`figure_to_png`: a figure as PNG bytes.

matplotlib is optional (``pip install 'slopes[all]'``) and imported only when
a function here is called.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ._optional import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["new_figure", "unmanaged_figures", "figure_to_png"]

# Set inside `unmanaged_figures()`: figures made only to be turned into PNG bytes
# (notebook displays, the command line) never enter pyplot's list of figures.
_UNMANAGED: ContextVar[bool] = ContextVar("slopes_unmanaged_figures", default=False)


def _matplotlib() -> Any:
    return require("matplotlib", "drawing")


@contextmanager
def unmanaged_figures() -> Iterator[None]:
    """Within this block, figures are never handed to pyplot (for PNG bytes, notebooks)."""
    token = _UNMANAGED.set(True)
    try:
        yield
    finally:
        _UNMANAGED.reset(token)


def new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A new figure; pyplot's current figure when the program uses pyplot (not in Jupyter)."""
    mpl = _matplotlib()
    if not _UNMANAGED.get() and "matplotlib.pyplot" in sys.modules \
            and "inline" not in str(mpl.get_backend()):
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, layout=layout)
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=layout)


def figure_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (what Jupyter's ``_repr_png_`` returns)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
