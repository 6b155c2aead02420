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
import re
import sys
import warnings
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
    """The figure as PNG bytes (what Jupyter's ``_repr_png_`` returns).

    Characters the font cannot draw (a column named in Chinese, say) show as
    boxes; matplotlib warns once per character, this says it once, naming them.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buffer, format="png", dpi=dpi)
    missing: list[str] = []
    for w in caught:
        found = re.search(r"\(\\N\{([^}]*)\}\) missing from font", str(w.message))
        if found is None:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif found.group(1) not in missing:
            missing.append(found.group(1))
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                          else "")
        warnings.warn(f"the picture's font has no glyph for {len(missing)} character(s) of "
                      f"its text ({shown}); they are drawn as empty boxes", UserWarning,
                      stacklevel=2)
    return buffer.getvalue()
