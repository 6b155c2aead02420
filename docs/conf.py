"""Sphinx configuration of slopes' documentation: `make docs` builds it into docs/_build/html.

The user guide is MyST markdown (docs/guide/*.md, collected by a glob), the API reference is
generated from the docstrings (autosummary + numpydoc), and the gallery runs the scripts of
examples/gallery/ at build time (sphinx-gallery) and shows their plots. Nothing here needs the
network, at build time or when read: no intersphinx, no MathJax (no formula needs it), a
theme installed from PyPI whose files are copied into the site.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))  # the sources beside these docs, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")

import slopes  # noqa: E402

project = "slopes"
author = "the slopes authors"
copyright = "the slopes authors"  # noqa: A001
release = version = slopes.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "gallery/*.ipynb", "gallery/*.py", "gallery/*.md5",
                    "gallery/*.zip", "gallery/*.json", "gallery/*.codeobj.json"]

# Warnings are errors (make docs: -W), and every reference must resolve (-n).
nitpicky = True
# Types named in signatures and docstrings from packages documented elsewhere: without
# intersphinx (no network at build time) they cannot link, and are not slopes' to document.
nitpick_ignore_regex = [
    ("py:.*", r"(numpy|np|pandas|pd|matplotlib|sklearn|torch|onnx|onnxruntime|dask|pyarrow"
              r"|os|pathlib|collections|typing|numbers|io|datetime|safetensors)(\..*)?"),
    ("py:.*", r"(Path|PathLike|Iterable|Iterator|Callable|Sequence|Mapping|Any|Literal"
              r"|ArrayLike|NDArray|ndarray|DataFrame|Figure|Axes|Generator|TextIO|IO)"),
]

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # the numpydoc sections say the types, with shapes
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples" / "gallery"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": ("_repr_html_", "__repr__"),
    "within_subsection_order": "sphinx_gallery.sorting.FileNameSortKey",
    "reset_modules": ("matplotlib",),
    "image_scrapers": ("matplotlib",),
    "write_computation_times": False,
}

html_theme = "furo"
html_title = f"slopes {release}"
html_static_path: list[str] = []
templates_path = ["_templates"]


# --- References written as users write them --------------------------------------------------
# Docstrings name objects as a user reaches them: `slopes.report`, `Network.trace`,
# `slopes.export.to_onnx`. Each is documented once, where it is defined (`slopes.page.report`,
# `slopes.network.Network.trace`, `slopes.onnx_export.to_onnx`); this resolves the short name
# to that place. A name of slopes that is not documented (a private helper, an internal module)
# renders as code without a link; a name that slopes does not have still fails the build.


def _lookup(dotted: str) -> tuple[bool, object]:
    """Import the longest module prefix of ``dotted`` and get the rest as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        if not module_name.startswith("slopes"):
            return False, None
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False, None
        return True, obj
    return False, None


def _candidates(node) -> list[str]:
    target = node["reftarget"].lstrip("~.")
    module, cls = node.get("py:module") or "", node.get("py:class") or ""
    names = [target, f"slopes.{target}"]
    if module:
        names += [f"{module}.{cls}.{target}" if cls else "", f"{module}.{target}"]
    names += [f"{name}.{target}" for name in sorted(sys.modules)
              if name.startswith("slopes.") and not name.startswith("slopes.commands")]
    return [name for name in names if name]


def _resolve_alias(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    for name in _candidates(node):
        found, obj = _lookup(name)
        if not found:
            continue
        if inspect.ismodule(obj):
            canonical = obj.__name__
        elif hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
            canonical = f"{obj.__module__}.{obj.__qualname__}"
        else:
            canonical = name
        for typ in (node["reftype"], "obj"):
            ref = domain.resolve_xref(env, node["refdoc"], app.builder, typ, canonical, node,
                                      contnode)
            if ref is not None:
                return ref
        return contnode  # slopes has it, the reference does not document it: code, no link
    return None


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's generated `set_*_request` methods: their docstrings are scikit-learn's,
    # written for its own site (its glossary, its labels).
    if name.startswith("set_") and name.endswith("_request"):
        return True
    # A type alias (`Batch = tuple[...]`) is not a class to document.
    if isinstance(obj, types.GenericAlias):
        return True
    return None


def setup(app):
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-skip-member", _skip_member)
