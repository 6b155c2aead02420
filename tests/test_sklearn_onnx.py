"""skl2onnx converts scikit-learn pipelines holding a slopes estimator (slopes.sklearn_onnx).

On scikit-learn's bundled datasets, a Pipeline(StandardScaler, Slopes...) converted
with ``skl2onnx.to_onnx(pipeline, X[:1])`` and run by onnxruntime gives the
pipeline's own labels, and probabilities or predictions within 1e-6 relative.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is in the all extra")
skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is in the onnx extra")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the onnx extra")

from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from slopes.sklearn import SlopesClassifier, SlopesRegressor  # noqa: E402
from slopes.sklearn_onnx import register_skl2onnx  # noqa: E402


def _run(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("load, activation, scale_inputs", [
    (load_breast_cancer, "relu", False), (load_iris, "leaky_relu", True),
    (load_iris, "tanh", False), (load_breast_cancer, "sigmoid", True)])
def test_pipeline_with_a_slopes_classifier_converts(load, activation, scale_inputs):
    register_skl2onnx()
    register_skl2onnx()  # a second call does nothing
    X, y = load(return_X_y=True)
    if load is load_iris:
        y = np.array(["setosa", "versicolor", "virginica"])[y]  # string labels too
    pipeline = make_pipeline(StandardScaler(), SlopesClassifier(
        hidden_layer_sizes=(8,), activation=activation, epochs=5, scale_inputs=scale_inputs,
        random_state=0)).fit(X, y)
    expected = pipeline.predict_proba(X)
    # Without ZipMap: the probabilities in float64, as the pipeline computes them.
    onx = skl2onnx.to_onnx(pipeline, X[:1], options={SlopesClassifier: {"zipmap": False}})
    label, probabilities = _run(onx, X)
    assert label.tolist() == pipeline.predict(X).tolist()
    assert probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6, atol=1e-12)
    # skl2onnx's default ZipMap (a dict per row) takes float32 only: rounded to float32.
    label, rows = _run(skl2onnx.to_onnx(pipeline, X[:1]), X)
    assert label.tolist() == pipeline.predict(X).tolist()
    zipped = np.array([[row[c] for c in pipeline.classes_] for row in rows])
    np.testing.assert_allclose(zipped, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("scale_inputs", [False, True])
def test_pipeline_with_a_slopes_regressor_converts(scale_inputs):
    register_skl2onnx()
    X, y = load_diabetes(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), SlopesRegressor(
        hidden_layer_sizes=(8,), activation="tanh", epochs=5, scale_inputs=scale_inputs,
        random_state=0)).fit(X, y)
    (prediction,) = _run(skl2onnx.to_onnx(pipeline, X[:1]), X)
    assert prediction.shape == (len(X), 1) and prediction.dtype == np.float64
    np.testing.assert_allclose(prediction[:, 0], pipeline.predict(X), rtol=1e-6)


def test_float32_input_gives_a_float32_model():
    register_skl2onnx()
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), SlopesClassifier(
        hidden_layer_sizes=(8,), epochs=5, random_state=0)).fit(X, y)
    X32 = X.astype(np.float32)
    onx = skl2onnx.to_onnx(pipeline, X32[:1], options={SlopesClassifier: {"zipmap": False}})
    label, probabilities = _run(onx, X32)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_classes_with_decimals_are_refused():
    register_skl2onnx()
    X, y = load_breast_cancer(return_X_y=True)
    model = SlopesClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)
    model.classes_ = np.array([0.5, 1.5])  # scikit-learn's checks call such labels continuous
    with pytest.raises(ValueError, match=r"the classes \[0.5, 1.5\] are numbers with "
                                         "decimals; an ONNX classifier's labels are whole "
                                         "numbers \\(int64\\) or strings"):
        skl2onnx.to_onnx(model, X[:1], options={SlopesClassifier: {"zipmap": False}})


def test_missing_skl2onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r"converting a scikit-learn pipeline to ONNX needs "
                                          r"skl2onnx, which is not installed; install it with: "
                                          r"pip install 'slopes\[onnx\]'"):
        register_skl2onnx()
