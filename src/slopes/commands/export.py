"""``slopes export``: a saved model as an ONNX file that runs without slopes.

The ONNX model applies the stored preprocessing itself, so it takes the raw
columns: one (n, 1) input per column, named after it (float32 for numbers,
strings for text categories). :mod:`slopes.export` says it all in full.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import CommandError
from ..io import load_model, write_atomic
from .outputs import same_file

__all__ = ["run_export", "DESCRIPTION", "EXAMPLE"]

DESCRIPTION = """\
Write a model saved by `slopes train` or `slopes demo` as an ONNX file, which
onnxruntime (or any ONNX runtime) runs without slopes. The file is float32 and uses
the standard ONNX operators only (opset 13; 19 when a text column is one-hot encoded).

The preprocessing is inside the ONNX model, so it takes the raw columns of the CSV:
one input per column, named after it, of shape (n, 1):
  - a numeric column: float32, standardized inside;
  - a categorical column of numbers (like rank): float32, one-hot encoded inside;
  - a categorical text column: strings spelled as in training, one-hot encoded inside.
A category never seen in training gives zeros, and a missing value NaN outputs
(unless the model was trained with --fill-missing): the ONNX model cannot stop with
an error the way `slopes predict` does.

Outputs: a classifier gives `label` (n,), the class label (int64 when every class is a
whole number, else a string), and `probabilities` (n, k) float32 in the order of the
classes; a regression gives `prediction` (n, 1) float32 in the target's units.
Needs the onnx package: pip install 'slopes[onnx]'."""

EXAMPLE = """\
  slopes export slopes-model/model.safetensors --onnx model.onnx

then, in Python, with onnxruntime and pandas:
  session = onnxruntime.InferenceSession("model.onnx")
  table = pandas.read_csv("new.csv")
  label, probabilities = session.run(None, {
      i.name: table[[i.name]].to_numpy(np.float32 if i.type == "tensor(float)" else str)
      for i in session.get_inputs()})
"""


def run_export(args: argparse.Namespace) -> int:
    from ..export import onnx_model

    model = load_model(args.model)
    if model.preprocessing is None:
        net = model.network
        raise CommandError(
            f"{args.model}: the model has no stored preprocessing (it was saved from Python, "
            "not by `slopes train`), so there are no columns to name the ONNX inputs after; "
            f"from Python, slopes.load({str(args.model)!r}).to_onnx({str(args.onnx)!r}) "
            f"exports the network alone, with one input 'input' of shape (n, {net.n_inputs})")
    out = Path(args.onnx)
    if out.is_dir():
        raise CommandError(f"--onnx {out}: is a directory, expected a file name")
    if not out.parent.exists():
        raise CommandError(f"--onnx {out}: the folder {out.parent} does not exist")
    if out.exists() and same_file(out, args.model):
        raise CommandError(f"--onnx {out}: is the model file {args.model}; refusing to "
                           "overwrite it, choose another name")
    proto = onnx_model(model.network, model.preprocessing)
    import onnx  # onnx_model imported it already

    onnx.checker.check_model(proto)
    try:
        write_atomic(out, proto.SerializeToString())
    except OSError as exc:
        raise CommandError(f"--onnx {out}: cannot write: {exc.strerror or exc}") from exc
    inputs, outputs = proto.graph.input, proto.graph.output
    print(f"Wrote {out} (ONNX opset {proto.opset_import[0].version}, float32). It "
          "preprocesses the columns itself.")
    print("Inputs, one (n, 1) tensor per column:")
    _table([(v.name, _type(v), v.doc_string) for v in inputs])
    print("Outputs:")
    _table([(v.name, f"{_shape(v)} {_type(v)}", v.doc_string) for v in outputs])
    return 0


def _table(rows: list[tuple[str, str, str]]) -> None:
    name_width = max(len(name) for name, _, _ in rows)
    kind_width = max(len(kind) for _, kind, _ in rows)
    for name, kind, doc in rows:
        print(f"  {name:<{name_width}}  {kind:<{kind_width}}  {doc}")


def _type(value: Any) -> str:
    """``float32``, ``int64`` or ``string``: the element type of an ONNX input or output."""
    import onnx

    return {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
            onnx.TensorProto.STRING: "string"}[value.type.tensor_type.elem_type]


def _shape(value: Any) -> str:
    """``(n, 2)`` or ``(n,)``: the shape of an ONNX output, ``n`` the number of rows."""
    dims = [d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
