"""benchmarks/memory_order.py keeps running: a quick run (not timed; speed is never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_memory_order_quick_run_writes_a_row_per_path(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/memory_order.py", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "memory_order.json").read_text())
    paths = [row["path"] for row in results["rows"]]
    assert paths[:2] == ["Network.fit, shuffled batches", "Network.fit, shuffle=False"]
    assert "SlopesClassifier.fit" in paths
    for row in results["rows"]:
        assert row["c_seconds"] > 0 and row["fortran_seconds"] > 0
    table = (tmp_path / "memory_order.md").read_text()
    assert "| Network.fit, shuffled batches | C array | Fortran array |" in table


def test_memory_order_refuses_too_few_features():
    result = subprocess.run([sys.executable, "benchmarks/memory_order.py", "--features", "2"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert "--features must be at least 3 (the label uses 3), got 2" in result.stderr
