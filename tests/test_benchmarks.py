"""The benchmark scripts keep running: quick runs on small configurations (not timed)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_train_mlp_quick_run_writes_json_and_markdown(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/train_mlp.py", "--quick", "--configs", "tiny,small",
         "--libraries", "numpy", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "train_mlp.json").read_text())
    assert set(results["configs"]) == {"tiny", "small"}
    for res in results["configs"].values():
        libs = res["libraries"]
        assert set(libs) == {"slopes", "numpy loop"}
        assert libs["slopes"]["slopes_speedup"] == 1.0
        for entry in libs.values():
            assert entry["samples_per_second"] > 0 and entry["gflops"] > 0
        # The NumPy loop starts from slopes' weights and takes the same steps.
        assert libs["numpy loop"]["agreement"] < 1e-4
    assert results["matmul_gflops"] > 0
    assert results["import"]["optional_modules_loaded"] == []
    table = (tmp_path / "train_mlp.md").read_text()
    assert "| tiny | 6-2-1 |" in table and "vs NumPy loop" in table
    assert "slopes >= 0.9x numpy loop on small" in table


def test_train_mlp_refuses_unknown_names():
    result = subprocess.run([sys.executable, "benchmarks/train_mlp.py", "--configs", "huge"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2 and "unknown configuration or library: huge" in result.stderr


def test_compare_sklearn_quick_run_prints_both_estimators_on_both_datasets():
    result = subprocess.run(
        [sys.executable, "benchmarks/compare_sklearn.py", "--epochs", "3", "--repeat", "1"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| digits")
            or line.startswith("| breast-cancer")]
    assert len(rows) == 4
    for row in rows:
        accuracy = float(row.split("|")[5])
        assert 0.5 < accuracy <= 1.0, row  # both learn something in 3 epochs


def test_compare_sklearn_refuses_zero_epochs():
    result = subprocess.run(
        [sys.executable, "benchmarks/compare_sklearn.py", "--epochs", "0"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert "--epochs and --repeat must be at least 1, got 0 and 3" in result.stderr


def test_train_mlp_says_not_installed_for_a_missing_library(tmp_path):
    # PyTorch is optional: without it its rows say so instead of vanishing.
    code = ("import runpy, sys; sys.modules['torch'] = None; "
            "sys.argv = ['train_mlp.py', '--quick', '--configs', 'tiny', '--libraries', "
            f"'numpy,torch', '--no-memory', '--out', {str(tmp_path)!r}]; "
            "runpy.run_path('benchmarks/train_mlp.py', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "(torch is not installed: skipped)" in result.stderr
    table = (tmp_path / "train_mlp.md").read_text()
    assert "| vs NumPy loop | vs PyTorch |" in table
    assert "| tiny | PyTorch | not installed | - | - |" in table
    results = json.loads((tmp_path / "train_mlp.json").read_text())
    assert results["not_installed"] == ["torch"]
    assert "torch" not in results["configs"]["tiny"]["libraries"]


def test_regularization_quick_run_writes_json_markdown_and_picture(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/regularization.py", "--quick", "--epochs", "3",
         "--datasets", "breast-cancer,diabetes", "--out", str(tmp_path),
         "--image", str(tmp_path / "regularization.png")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "regularization.json").read_text())
    assert set(results["datasets"]) == {"breast-cancer", "diabetes"}
    for res in results["datasets"].values():
        assert res["l2"] == res["alpha"] / (2 * results["settings"]["batch_size"])
        assert list(res["models"]) == [
            "slopes plain", "slopes L2", "slopes dropout", "slopes L2 + dropout",
            "scikit-learn alpha=0", f"scikit-learn alpha={res['alpha']:g}"]
        for model in res["models"].values():
            assert len(model["val_loss"]) == 3 and np.isfinite(model["val_loss"]).all()
        # Same start (scikit-learn's initial weights), so the first epochs are close.
        plain, sk = res["models"]["slopes plain"], res["models"]["scikit-learn alpha=0"]
        assert abs(plain["val_loss"][0] - sk["val_loss"][0]) < 0.1 * sk["val_loss"][0]
    table = (tmp_path / "regularization.md").read_text()
    assert "| diabetes (48/197/197) | slopes L2 | 0.03125 (1) | 0 | R^2 " in table
    assert "Validation loss per epoch, breast-cancer:" in table
    assert "| breast-cancer (32/268/269) | slopes plain |" in result.stdout
    assert (tmp_path / "regularization.png").stat().st_size > 10_000


def test_regularization_refuses_unknown_datasets():
    result = subprocess.run(
        [sys.executable, "benchmarks/regularization.py", "--datasets", "iris"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert ("unknown dataset: iris; expected some of digits, breast-cancer, diabetes"
            in result.stderr)


def test_distributed_quick_run_writes_json_and_markdown(tmp_path):
    """benchmarks/distributed.py end to end on a small file: a two-worker LocalCluster
    against --stream on one process, both ways of averaging, a table and the JSON."""
    pytest.importorskip("distributed")
    result = subprocess.run(
        [sys.executable, "benchmarks/distributed.py", "--sizes-mb", "0.5", "--epochs", "1",
         "--dir", str(tmp_path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads((tmp_path / "out" / "distributed.json").read_text())
    paths = [r["label"] for r in found["results"]]
    assert paths[0] == "--stream, 1 process" and any("weights" in p for p in paths) \
        and any("slopes" in p for p in paths), paths
    assert all(r["rows"] == 100_000 for r in found["results"])
    assert "| file | rows | path |" in (tmp_path / "out" / "distributed.md").read_text()


def test_read_ahead_quick_run_times_both_ways(tmp_path):
    """benchmarks/read_ahead.py end to end on small files: both ways timed, a table."""
    done = subprocess.run(
        [sys.executable, "benchmarks/read_ahead.py", "--mb", "0.3", "--epochs", "2",
         "--repeats", "1", "--out", str(tmp_path / "read_ahead.md"),
         "--json", str(tmp_path / "read_ahead.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    found = json.loads((tmp_path / "read_ahead.json").read_text())
    assert [(r["shape"], r["batch_size"]) for r in found] == [
        ("numeric", 32), ("numeric", 512), ("one-hot", 32), ("one-hot", 512)]
    assert all(r["off"] > 0 and r["on"] > 0 for r in found)
    assert "| file | rows | inputs | batch size | without | with | speed-up |" in (
        tmp_path / "read_ahead.md").read_text()
