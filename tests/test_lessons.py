"""Every lesson runs headless and prints the course's numbers; the CLI lists and runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

from slopes.lessons import LESSONS, list_lessons, run_lesson  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Lines each lesson must print, as the course prints its numbers.
EXPECTED = {
    1: ["error_0: 6.0", "error_1: 0.0"],
    2: ["Mean squared error with weights_0: 37.500000",
        "Mean squared error with weights_1: 49.890625"],
    3: ["error: 7.0", "slope: [14. 28. 42.]", "updated error: 5.04",
        "error: 5.0  gradient: [30. 40.]", "updated error: 2.5",
        "slope = 3 x 1 x -8 = -24", "2 + 0.24 = 2.24"],
    4: ["mse after update 1: 25.4016", "mse after update 20: 9.627e-05"],
    5: ["Neural Network output: 0.689974481128",
        "Amount of Error (y - y_hat): -0.189974481128",
        "Change in Weights: [-0.02031869 -0.04063738 -0.06095608 -0.08127477]"],
    6: ["Hidden-layer Output: [0.41492192 0.42604313 0.5002434 ]",
        "Output-layer Output: [0.49815196 0.48539772]"],
    7: ["h = -0.02   a = 0.495   y_hat = 0.512", "delta_o = 0.122   delta_h = 0.003",
        "Delta W = 0.0302", "Delta w = [0.00015228 0.00045683]"],
    8: ["slope = 1 x 1 x 6 = 6", "slope = 3 x 1 x 6 = 18",
        "A weight fed by a node of value 0 gets slope 0.0"],
    9: ["Train loss: ", "Prediction accuracy: ", "Base rate"],
}
PICTURES = {1: 2, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1}


@pytest.mark.parametrize("number", [lesson.number for lesson in LESSONS])
def test_lesson_prints_course_numbers(number, tmp_path, capsys):
    written = run_lesson(number, out=tmp_path)
    out = capsys.readouterr().out
    lesson = LESSONS[number - 1]
    assert out.startswith(f"Lesson {number}: {lesson.title}")
    assert "Question:" in out and "Code:" in out and "The course's answer:" in out
    for line in EXPECTED[number]:
        assert line in out, f"lesson {number} did not print {line!r}"
    assert len(written) == PICTURES[number]
    for path in written:
        assert path.parent == tmp_path and path.read_bytes().startswith(b"\x89PNG")


def test_admissions_loss_falls_and_accuracy_is_sensible(tmp_path, capsys):
    run_lesson(9, out=None, show_code=False)
    out = capsys.readouterr().out
    losses = [float(line.split(":")[1].split()[0]) for line in out.splitlines()
              if line.startswith("Train loss:")]
    assert len(losses) >= 10
    assert losses[-1] < losses[0]
    assert not any("WARNING - Loss Increasing" in line for line in out.splitlines()
                   if line.startswith("Train loss:"))
    accuracy = float(out.split("Prediction accuracy: ")[1].split()[0])
    assert 0.6 <= accuracy <= 1


def test_code_shown_is_the_code_run(capsys):
    run_lesson(8, out=None)
    out = capsys.readouterr().out
    assert 'net = Network.from_weights([[[0, 0], [1, 3]], [[4], [3]]], activation="relu")' in out
    assert "def _last_quiz" not in out and "return trace" not in out


def test_unknown_lesson():
    with pytest.raises(ValueError, match="there is no lesson 99; lessons are numbered 1 to 9"):
        run_lesson(99)


def test_list():
    text = list_lessons()
    assert "8. A round of backpropagation (the last quiz)" in text


def test_example_scripts_exist_one_per_lesson():
    scripts = sorted(p.name for p in (ROOT / "examples" / "course").glob("*.py"))
    assert scripts == sorted(lesson.script for lesson in LESSONS)


def _run(args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_cli_lists_and_runs(tmp_path):
    listed = _run([sys.executable, "-m", "slopes.cli", "lessons"], tmp_path)
    assert listed.returncode == 0
    assert "1. The errors of a network" in listed.stdout
    ran = _run([sys.executable, "-m", "slopes.cli", "lessons", "8", "--out", "pics"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "slope = 3 x 1 x 6 = 18" in ran.stdout
    assert (tmp_path / "pics" / "08_last_quiz.png").exists()


def test_cli_help_and_errors(tmp_path):
    helped = _run([sys.executable, "-m", "slopes.cli", "lessons", "--help"], tmp_path)
    assert helped.returncode == 0 and "slopes lessons 8" in helped.stdout
    bad = _run([sys.executable, "-m", "slopes.cli", "lessons", "12"], tmp_path)
    assert bad.returncode == 2 and "there is no lesson 12" in bad.stderr


def test_example_script_runs(tmp_path):
    script = ROOT / "examples" / "course" / "02_mse_comparison.py"
    ran = _run([sys.executable, str(script), "--no-code"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Mean squared error with weights_1: 49.890625" in ran.stdout
