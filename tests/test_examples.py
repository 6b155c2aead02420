"""The example scripts outside examples/course/ (which test_lessons covers) run as documented."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def test_diagnose_vanishing_warns_for_sigmoid_only():
    result = run("examples/diagnose_vanishing.py")
    assert result.returncode == 0, result.stderr
    sigmoid, relu = result.stdout.split("--- six layers, relu hidden nodes")
    assert "Vanishing slopes" in sigmoid
    assert "Vanishing slopes" not in relu and "No warnings" in relu


def test_readme_images_are_made(tmp_path):
    result = run("examples/make_readme_images.py", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "network.png"]
    assert all(p.stat().st_size > 10_000 for p in tmp_path.iterdir())
