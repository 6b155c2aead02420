"""The house keeps one direction of dependence: a test that reads the package's imports.

The layers, top to bottom (README.md, "Where things are", draws them):

- faces: the command line, the lessons, the estimators;
- readers: drawing, the page, diagnostics, the gradient check (they read models,
  traces and histories and never train);
- training (the fit loop, callbacks, streams, metrics) and, beside it, files and
  formats (model files, export, preprocessing, datasets): neither imports the other;
- the model: network, layers, trace, weight snapshots;
- the math, as leaves: activations, losses, update rules, initializers,
  validation, errors.

A module imports only from its own layer or the layers below. The exceptions
are the one-line hand-off methods of :data:`HANDOFFS` (``Network.fit`` hands
off to the fit loop as Keras' ``Model.fit`` does), which import their worker
inside the method. Besides the direction, this test holds: no import loop, no
private name (``_name``) used across modules, imports inside functions only for
the optional packages and the hand-offs, and no module above 600 lines without
its docstring saying why.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "slopes"

FACES, READERS, TRAINING, FILES, MODEL, MATH = "faces", "readers", "training", "files", \
    "model", "math"
#: How high each layer stands; training and files stand side by side.
HEIGHT = {FACES: 5, READERS: 4, TRAINING: 3, FILES: 3, MODEL: 2, MATH: 1}

#: The layer of each module (a package's modules share its layer).
LAYERS = {
    "slopes": FACES,
    "slopes.cli": FACES,
    "slopes.commands": FACES,
    "slopes.lessons": FACES,
    "slopes.course_lessons": FACES,
    "slopes.course_numbers": FACES,
    "slopes.course_udacity": FACES,
    "slopes.sklearn": FACES,
    "slopes.sklearn_checks": FACES,
    "slopes.sklearn_onnx": FACES,
    "slopes.distributed": FACES,
    "slopes.distributed_sources": FACES,
    "slopes.plot": READERS,
    "slopes.page": READERS,
    "slopes.plane": READERS,
    "slopes.diagnostics": READERS,
    "slopes.gradcheck": READERS,
    "slopes.drawn": READERS,
    "slopes.curves": READERS,
    "slopes.figures": READERS,
    "slopes.training": TRAINING,
    "slopes.loop": TRAINING,
    "slopes.callbacks": TRAINING,
    "slopes.workspace": TRAINING,
    "slopes.streaming": TRAINING,
    "slopes.metrics": TRAINING,
    "slopes.schedules": TRAINING,
    "slopes.data_parallel": TRAINING,
    "slopes.io": FILES,
    "slopes.atomic": FILES,
    "slopes.model_file_checks": FILES,
    "slopes.safetensors_reader": FILES,
    "slopes.export": FILES,
    "slopes.export_checks": FILES,
    "slopes.onnx_export": FILES,
    "slopes.torch_export": FILES,
    "slopes.preprocessing": FILES,
    "slopes.columns": FILES,
    "slopes.distributed_stats": FILES,
    "slopes.datasets": FILES,
    "slopes.network": MODEL,
    "slopes.layers": MODEL,
    "slopes.trace": MODEL,
    "slopes.snapshots": MODEL,
    "slopes.activations": MATH,
    "slopes.losses": MATH,
    "slopes.optimizers": MATH,
    "slopes.penalties": MATH,
    "slopes.initializers": MATH,
    "slopes.validation": MATH,
    "slopes.errors": MATH,
    "slopes._optional": MATH,
    "slopes.version": MATH,
}

#: The hand-off methods: ``(module, qualified function name)``, each one line long
#: (its import, then ``return worker(...)``), the only imports that may go upward.
HANDOFFS = {
    ("slopes.network", "Network.fit"),
    ("slopes.network", "Network.train_on_batch"),
    ("slopes.network", "Network.save"),
    ("slopes.network", "Network.to_onnx"),
    ("slopes.network", "Network.to_torch"),
    ("slopes.network", "Network.from_torch"),
    ("slopes.network", "Network._repr_png_"),
    ("slopes.network", "Network._repr_html_"),
    ("slopes.network", "Network._new_trace"),
    ("slopes.trace", "Trace.to_html"),
    ("slopes.trace", "Trace._repr_png_"),
    ("slopes.trace", "Trace._repr_html_"),
    ("slopes.callbacks", "History.plot"),
}

#: Packages imported inside functions only, so that ``import slopes`` loads none of them.
OPTIONAL = {"pandas", "matplotlib", "sklearn", "onnx", "onnxruntime", "torch", "pyarrow",
            "dask", "dask_ml", "skl2onnx", "distributed", "scipy", "tqdm", "IPython"}

MAX_LINES = 600
LONG_REASON = "Why this module is long"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    while module not in LAYERS:
        assert "." in module, f"{module} has no layer in LAYERS; add it"
        module = module.rsplit(".", 1)[0]
    return LAYERS[module]


def target_module(name: str) -> str:
    """The slopes module an imported dotted name lives in (``slopes.io.load`` -> ``slopes.io``)."""
    while name not in modules() and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


class Imports(ast.NodeVisitor):
    """Every import of one module: (target, names, the function it sits in, line)."""

    def __init__(self, module: str, path: Path) -> None:
        self.module = module
        self.package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        self.scope: list[str] = []
        self.found: list[tuple[str, list[str], str | None, int]] = []
        self.functions: dict[str, ast.AST] = {}
        self.aliases: dict[str, str] = {}  # a local name bound to a slopes module

    def visit_If(self, node: ast.If) -> None:
        # ``if TYPE_CHECKING:`` imports name types for annotations only; nothing runs them.
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node.name)
        self.functions[".".join(self.scope)] = node
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast.NodeVisitor names it so

    def where(self) -> str | None:
        functions = [s for s in self.scope]
        return ".".join(functions) if functions and self.in_function else None

    @property
    def in_function(self) -> bool:
        return any(".".join(self.scope[:k + 1]) in self.functions
                   for k in range(len(self.scope)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, [], self.where(), node.lineno))
            if alias.name.startswith("slopes") and alias.asname:
                self.aliases[alias.asname] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [a.name for a in node.names]
        self.found.append((target, names, self.where(), node.lineno))
        for alias in node.names:
            full = f"{target}.{alias.name}"
            if full in modules():
                self.aliases[alias.asname or alias.name] = full


@cache
def imports(module: str) -> Imports:
    path = modules()[module]
    visitor = Imports(module, path)
    visitor.visit(ast.parse(path.read_text()))
    return visitor


def slopes_edges(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported slopes module, function or None, line)`` for each import of ``module``."""
    edges = []
    for target, names, where, line in imports(module).found:
        if not target.startswith("slopes"):
            continue
        targets = {target_module(f"{target}.{n}") for n in names} or {target_module(target)}
        edges += [(t, where, line) for t in targets if t != module]
    return edges


def is_handoff(module: str, where: str | None) -> bool:
    return where is not None and (module, where) in HANDOFFS


# ------------------------------------------------------------------------ tests
def test_every_module_has_a_layer():
    for module in modules():
        layer_of(module)


def test_every_handoff_exists_and_is_one_line():
    for module, function in sorted(HANDOFFS):
        node = imports(module).functions.get(function)
        assert node is not None, f"{module}.{function} is listed as a hand-off but not defined"
        body = [s for s in node.body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        kinds = [type(s).__name__ for s in body]
        assert len(body) <= 2 and kinds[-1] == "Return" and all(
            k in ("Import", "ImportFrom") for k in kinds[:-1]), \
            f"{module}.{function} must be its import and one return, got {kinds}"


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for module in modules():
        mine = layer_of(module)
        for target, where, line in slopes_edges(module):
            theirs = layer_of(target)
            upward = HEIGHT[theirs] > HEIGHT[mine]
            sideways = HEIGHT[theirs] == HEIGHT[mine] and theirs != mine
            if (upward or sideways) and not is_handoff(module, where):
                wrong.append(f"{module}:{line} ({mine}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_no_import_loop():
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for module in modules():
        for target, where, _ in slopes_edges(module):
            if not is_handoff(module, where) and target in graph:
                graph[module].add(target)
    # Packages import their submodules to gather them: an edge from a package to its own
    # modules is how a package is built, not a loop.
    for module in graph:
        graph[module] = {t for t in graph[module] if not t.startswith(module + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import loop: " + " -> ".join(loop))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_no_private_name_is_used_across_modules():
    wrong = []
    for module in modules():
        info = imports(module)
        for target, names, _, line in info.found:
            if not target.startswith("slopes"):
                continue
            for name in names:
                full = f"{target}.{name}"
                if name.startswith("_") and not name.startswith("__") and full not in modules():
                    wrong.append(f"{module}:{line} imports {name} from {target}")
        tree = ast.parse(modules()[module].read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in info.aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module}:{node.lineno} uses {info.aliases[node.value.id]}."
                             f"{node.attr}")
    assert not wrong, "\n".join(wrong)


@cache
def loads_an_optional_package(module: str) -> bool:
    """Whether importing the slopes ``module`` imports an optional package at once
    (``slopes.sklearn`` imports scikit-learn): importing it inside a function is lazy
    loading of that package, as for the package itself."""
    return any(where is None and target.split(".")[0] in OPTIONAL
               for target, _, where, _ in imports(module).found)


def test_imports_inside_functions_are_optional_packages_or_handoffs():
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for module in modules():
        for target, _, where, line in imports(module).found:
            if where is None:
                continue
            top = target.split(".")[0]
            if top in OPTIONAL:
                continue
            if top == "slopes" and (is_handoff(module, where) or loads_an_optional_package(
                    target_module(target))):
                continue
            kind = "the standard library" if top in stdlib else "a package slopes always has" \
                if top != "slopes" else "slopes"
            wrong.append(f"{module}:{line} imports {target} ({kind}) inside {where}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_long_without_a_reason():
    long = []
    for module, path in modules().items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and LONG_REASON not in doc:
            long.append(f"{module}: {lines} lines")
    assert not long, (f"modules over {MAX_LINES} lines need a split, or a paragraph "
                      f"'{LONG_REASON}' in their docstring: " + ", ".join(long))


def test_the_readme_module_map_names_every_layer():
    readme = (PACKAGE.parents[1] / "README.md").read_text()
    for module, layer in LAYERS.items():
        if module == "slopes":
            continue
        short = module.removeprefix("slopes.")
        assert short in readme, f"README.md's module map does not name {short} ({layer})"
