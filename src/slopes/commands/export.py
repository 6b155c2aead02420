"""``slopes export``: a saved model as an ONNX file, a PyTorch file, or both.

The ONNX model applies the stored preprocessing itself, so it takes the raw
columns: one (n, 1) input per column, named after it (float64 for numbers,
strings for text categories), and gives what ``slopes predict`` gives. The
PyTorch file standardizes inside but takes the one-hot columns ready made.
:mod:`slopes.export` says it all in full.
"""

from __future__ import annotations

import argparse
import io
from typing import Any

from ..errors import CommandError
from ..export import onnx_model, save_torch
from ..io import load_model
from .outputs import OutputGuard

__all__ = ["run_export", "check_export_options", "DESCRIPTION", "EXAMPLE"]

DESCRIPTION = """\
Write a model saved by `slopes train` or `slopes demo` as an ONNX file (--onnx), which
onnxruntime (or any ONNX runtime) runs without slopes, as a PyTorch file (--torch),
or both. Each gives what `slopes predict` gives, to about 1e-15: the network computes
in its own dtype (float64, or float32 for a network made so in Python), the
preprocessing in float64.

ONNX (standard operators only; opset 13, or 19 when a text column is one-hot encoded)
takes the raw columns of the CSV: one input per column, named after it, of shape (n, 1):
  - a numeric column: float64, standardized inside;
  - a categorical column of numbers (like rank): float64, one-hot encoded inside,
    compared exactly (a code like 100000001 is not rounded);
  - a categorical text column: strings, as slopes reads them: without surrounding
    spaces, 2.0 as '2', a missing cell as '(missing)'. slopes.export.onnx_feed(table,
    session) builds these inputs from a pandas table; docs/guide/export.md shows it in pandas.
With --fill-missing, a missing cell is filled inside, as slopes fills it. Where `slopes
predict` refuses a row (a missing value without --fill-missing, a category never seen
in training, an infinite number), the ONNX model gives NaN outputs for that row.
Outputs: a classifier gives `label` (n,), the class label (int64 when every class is a
whole number, else a string), and `probabilities` (n, k) in the order of the classes;
a regression gives `prediction` (n, 1) in the target's units.

PyTorch (torch.export, a .pt2 file: torch.export.load(FILE).module() runs it without
slopes) takes one float64 tensor (n, n_features) whose columns are the model's features
in order: numeric columns raw (standardized inside), categorical ones one-hot encoded
as 0/1 columns, which the module cannot do itself (a tensor holds no text):
slopes.export.torch_features(table, preprocessing) builds them. A regression gives
the target's units; a classifier the network's outputs (one sigmoid output: the
probability of the second class).
--onnx needs the onnx package (pip install 'slopes[onnx]'); --torch needs PyTorch,
which is never installed with slopes (pip install torch)."""

EXAMPLE = """\
  slopes export slopes-model/model.safetensors --onnx model.onnx
  slopes export slopes-model/model.safetensors --onnx model.onnx --torch model.pt2

then, in Python, with onnxruntime and pandas (each cell read as text, as slopes reads it;
onnx_inputs in docs/guide/export.md does this, and slopes.export.onnx_feed from a DataFrame):
  session = onnxruntime.InferenceSession("model.onnx")
  table = pd.read_csv("new.csv", dtype=str, skipinitialspace=True, encoding="utf-8-sig")
  inputs = {}
  for i in session.get_inputs():
      cells = table[i.name].str.strip()
      if i.type == "tensor(double)":
          inputs[i.name] = cells.astype(np.float64).to_numpy().reshape(-1, 1)
      else:  # text; (a column of true/false: cells.str.capitalize())
          inputs[i.name] = cells.fillna("(missing)").to_numpy(object).reshape(-1, 1)
  label, probabilities = session.run(None, inputs)
"""


def check_export_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """At least one of --onnx and --torch (``parser.error`` exits 2)."""
    if args.onnx is None and args.torch is None:
        parser.error("nothing to write: give --onnx FILE, --torch FILE, or both")


def run_export(args: argparse.Namespace) -> int:
    onnx_path, torch_path = getattr(args, "onnx", None), getattr(args, "torch", None)
    guard = OutputGuard({"the model file": args.model},
                        overwrite=getattr(args, "overwrite", False))
    for option, path in (("--onnx", onnx_path), ("--torch", torch_path)):
        if path is not None:
            guard.claim(path, option)
    model = load_model(args.model)
    if model.preprocessing is None:
        net = model.network
        calls = []
        if onnx_path is not None:
            calls.append(f"net.to_onnx({str(onnx_path)!r})")
        if torch_path is not None:
            calls.append(f"slopes.export.save_torch(net, {str(torch_path)!r})")
        raise CommandError(
            f"{args.model}: the model has no stored preprocessing (it was saved from Python, "
            "not by `slopes train`), so there are no columns to name the inputs after; from "
            f"Python, with net = slopes.load({str(args.model)!r}), {' and '.join(calls)} "
            f"export{'s' if len(calls) == 1 else ''} the network alone, with one input of "
            f"shape (n, {net.n_inputs})")
    files: list[tuple[str, Any, bytes]] = []
    if onnx_path is not None:
        files.append(("--onnx", onnx_path, _onnx_bytes(model)))
    if torch_path is not None:
        files.append(("--torch", torch_path, _torch_bytes(model)))
    for option, path, data in files:  # everything computed first: no half-done export
        guard.write(path, data, option)
    dtype = model.network.dtype.name
    if onnx_path is not None:
        _describe_onnx(onnx_path, files[0][2], dtype)
    if torch_path is not None:
        _describe_torch(torch_path, model, dtype)
    return 0


def _onnx_bytes(model: Any) -> bytes:
    proto = onnx_model(model.network, model.preprocessing)
    import onnx  # onnx_model imported it already

    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _torch_bytes(model: Any) -> bytes:
    buffer = io.BytesIO()
    save_torch(model.network, buffer, model.preprocessing)
    return buffer.getvalue()


def _describe_onnx(path: Any, data: bytes, dtype: str) -> None:
    import onnx

    proto = onnx.load_from_string(data)
    print(f"Wrote {path} (ONNX opset {proto.opset_import[0].version}, {dtype}). It "
          "preprocesses the columns itself.")
    print("Inputs, one (n, 1) tensor per column:")
    _table([(v.name, _type(v), v.doc_string) for v in proto.graph.input])
    print("Outputs:")
    _table([(v.name, f"{_shape(v)} {_type(v)}", v.doc_string) for v in proto.graph.output])


def _describe_torch(path: Any, model: Any, dtype: str) -> None:
    prep = model.preprocessing
    names = prep.feature_names
    numeric = [name for name in prep.columns if name in prep.numeric]
    one_hot = [name for name in prep.columns if name not in prep.numeric]
    print(f"Wrote {path} (PyTorch, torch.export; the network in {dtype}). Load it with "
          f"torch.export.load({str(path)!r}).module().")
    print(f"Input: one float64 tensor (n, {len(names)}), the features in this order: "
          f"{_shortened(names)}.")
    if numeric:
        fill = "; NaN becomes the training mean" if prep.fill_missing else ""
        print(f"  numbers, raw (standardized inside{fill}): {', '.join(numeric)}")
    if one_hot:
        print(f"  one-hot 0/1 columns, which the module does not make (a tensor holds no "
              f"text): {', '.join(one_hot)}; slopes.export.torch_features(table, "
              "preprocessing) makes them")
    if prep.task == "regress":
        print(f"Output: (n, 1) the predicted {prep.target!r}, in its own units.")
    elif prep.task == "classify":
        classes = ", ".join(map(str, prep.classes))
        what = (f"the probability of {prep.classes[1]!r} (n, 1)"
                if model.network.n_outputs == 1 else f"(n, {model.network.n_outputs}) "
                f"probabilities in the order {classes}")
        print(f"Output: {what}.")


def _shortened(names: list[str], limit: int = 12) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit - 1])}, ... ({len(names)} features)"


def _table(rows: list[tuple[str, str, str]]) -> None:
    name_width = max(len(name) for name, _, _ in rows)
    kind_width = max(len(kind) for _, kind, _ in rows)
    for name, kind, doc in rows:
        print(f"  {name:<{name_width}}  {kind:<{kind_width}}  {doc}")


def _type(value: Any) -> str:
    """``float64``, ``float32``, ``int64`` or ``string``: an ONNX input's or output's type."""
    import onnx

    return {onnx.TensorProto.DOUBLE: "float64", onnx.TensorProto.FLOAT: "float32",
            onnx.TensorProto.INT64: "int64",
            onnx.TensorProto.STRING: "string"}[value.type.tensor_type.elem_type]


def _shape(value: Any) -> str:
    """``(n, 2)`` or ``(n,)``: the shape of an ONNX output, ``n`` the number of rows."""
    dims = [d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
