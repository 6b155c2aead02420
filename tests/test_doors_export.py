"""One truth, many doors: slopes predict, the ONNX file and the PyTorch file agree.

For tables drawn by :mod:`tests.generated_tables` (Unix times, integer codes
above 2**24, zip codes with leading zeros, text that is empty, whitespace,
unicode, "nan" or "None", missing cells, a byte-order mark), a model trained
by ``slopes train`` on the table is exported by ``slopes export --onnx
--torch``, and

- ``slopes predict`` on the CSV (run through ``slopes.cli.main``), which
  writes its numbers with 6 significant digits,
- the numbers slopes computes for it (``net.predict(prep.transform(table))``),
- the ONNX file run by onnxruntime on the raw rows, fed by the export guide's own
  recipe (the ```python block that defines ``onnx_inputs``) and by
  :func:`slopes.export.onnx_feed`,
- the PyTorch file (``torch.export``) on :func:`slopes.export.torch_features`
  (skipped without torch),

give the same labels, and probabilities or predictions within 1e-6 relative
(1e-12 absolute near 0: a probability ``1 - p`` near 0 differs by the
rounding of ``p``). No table is refused: every column kind the generator
draws exports exactly (the refusals are tested in tests/test_export.py).

The number of tables run is counted in ``TABLES_RUN`` and printed at the
end of the test (``pytest -s`` shows it).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="hypothesis is in the dev extra")
pytest.importorskip("onnxruntime", reason="onnx and onnxruntime are in the onnx extra")
pytest.importorskip("pandas", reason="pandas is in the all extra")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from tests.generated_tables import tables  # noqa: E402

from slopes.cli import main  # noqa: E402
from slopes.commands.tables import read_table  # noqa: E402
from slopes.io import load_model  # noqa: E402

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "export.md"
HAS_TORCH = importlib.util.find_spec("torch") is not None
TABLES_RUN = {"tables": 0, "onnx": 0, "torch": 0}


def readme_recipe():
    """``onnx_inputs`` as the export guide defines it, in its ```python block."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    recipe = [b for b in blocks if "def onnx_inputs(" in b]
    assert len(recipe) == 1, "docs/guide/export.md defines onnx_inputs once"
    namespace: dict = {}
    exec(compile(recipe[0], str(GUIDE), "exec"), namespace)  # noqa: S102
    return namespace["onnx_inputs"]


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=1e-6,
                               atol=1e-12)


def _quiet(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, f"slopes {' '.join(argv)} failed:\n{err.getvalue()}"
    return code


@settings(max_examples=20, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(table=tables(max_rows=80))
def test_predict_onnx_and_torch_agree_on_generated_tables(table, tmp_path_factory):
    import onnxruntime as ort
    import pandas as pd

    from slopes.export import onnx_feed, torch_features

    folder = tmp_path_factory.mktemp("door")
    path = table.write(folder)
    model_dir = folder / "model"
    _quiet(["train", *table.train_args(path), "--out", str(model_dir), "--epochs", "4",
            "--hidden", "6", "--seed", "1"])
    model_file = model_dir / "model.safetensors"
    outputs = ["--onnx", str(folder / "model.onnx")]
    if HAS_TORCH:
        outputs += ["--torch", str(folder / "model.pt2")]
    _quiet(["export", str(model_file), *outputs])
    _quiet(["predict", str(model_file), str(path), "--out", str(folder / "predictions.csv")])
    TABLES_RUN["tables"] += 1

    # What slopes computes, at full precision, and what slopes predict wrote (every digit).
    model = load_model(model_file)
    prep, net = model.preprocessing, model.network
    data = read_table(path)
    output = net.predict(prep.transform(data, dtype=net.dtype))
    written = pd.read_csv(folder / "predictions.csv", skipinitialspace=True,
                          keep_default_na=False)
    column = f"predicted_{table.target}"
    if table.task == "classify":
        truth = np.column_stack([1 - output[:, 0], output[:, 0]]) if output.shape[1] == 1 \
            else output
        labels = [str(prep.classes[k]) for k in truth.argmax(axis=1)]
        assert written[column].astype(str).tolist() == labels
        probability_columns = [f"probability_{c}" for c in prep.classes]
        np.testing.assert_allclose(written[probability_columns].to_numpy(float), truth,
                                   rtol=1e-12, atol=1e-15)
    else:
        truth = prep.inverse_target(output)
        np.testing.assert_allclose(written[column].to_numpy(float), truth[:, 0], rtol=1e-12)

    # ONNX, on the raw rows read as the export guide reads them, with its recipe and with onnx_feed.
    session = ort.InferenceSession(str(folder / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    recipe = readme_recipe()(path, session)
    helper = onnx_feed(data, session)
    for name, values in helper.items():
        np.testing.assert_array_equal(recipe[name], values)
    for feed in (recipe, helper):
        results = session.run(None, feed)
        if table.task == "classify":
            label, probabilities = results
            assert [str(v) for v in label] == labels
            _close(probabilities, truth)
        else:
            _close(results[0], truth)
    TABLES_RUN["onnx"] += 1

    if HAS_TORCH:
        import torch

        module = torch.export.load(str(folder / "model.pt2")).module()
        with torch.no_grad():
            out = module(torch.from_numpy(torch_features(data, prep))).numpy()
        if table.task == "classify":
            probabilities = np.column_stack([1 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 \
                else out
            assert [str(prep.classes[k]) for k in probabilities.argmax(axis=1)] == labels
            _close(probabilities, truth)
        else:
            _close(out, truth)
        TABLES_RUN["torch"] += 1


def test_generated_tables_were_run():
    """Runs after the test above (file order): the count for the closing note."""
    print(f"\ndifferential export tests: {TABLES_RUN['tables']} generated tables, "
          f"{TABLES_RUN['onnx']} through ONNX, {TABLES_RUN['torch']} through PyTorch")
    if TABLES_RUN["tables"]:
        assert TABLES_RUN["onnx"] == TABLES_RUN["tables"]
        assert TABLES_RUN["torch"] == (TABLES_RUN["tables"] if HAS_TORCH else 0)
