"""Every lesson runs headless and puts each of the course's numbers next to slopes'.

The expected tables below pin, per lesson, every number the course states (as
the course prints it) and whether slopes reproduces it to every digit printed.
Where slopes does not, the course is wrong or rounds (docs/course-errata.md),
and the lesson must say why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

from slopes.lessons import LESSONS, CourseNumber, CourseNumbers, list_lessons, run_lesson  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"

# Per lesson: (what, the course's number as it prints it, slopes agrees to every digit).
# A course number given as a float is a formula the course states, computed at run time.
EXPECTED: dict[int, list[tuple[str, object, bool]]] = {
    1: [("error_0", "6", True), ("error_1 (node_1: [1, 0])", "0", True),
        ("perfect prediction (output: [1, 0])", "3", True),
        ("baseline error, actual - predicted (rebuilt network)", "4", True),
        ("baseline error after the change, actual - predicted (rebuilt)", "0", True)],
    2: [("mse_0", "37.500000", True), ("mse_1", "49.890625", True),
        ("mse_0, exercise notes (other data: every row [4, 3])", "294.000000", True),
        ("mse_1, exercise notes (other data: every row [4, 3])", "395.062500", True),
        ("error, row 10 vs 20", "-10", True), ("error, row 8 vs 3", "5", True),
        ("error, row 6 vs 1", "2", False), ("squared errors", "100 25 25", True),
        ("Total Squared Error", "150", True), ("Mean Squared Error", "50", True)],
    3: [("error", "7", True), ("slope", "[14 28 42]", True),
        ("updated error", "5.04", True), ("error", "5", True),
        ("gradient", "array([30, 40])", True), ("error_updated", "2.5", True),
        ("error_updated, slides", "-2.5", False),
        ("slope of the weight, 2 * -4 * 3", "-24", True), ("new weight", "2.24", True)],
    4: [("error after the first update, sqrt(mse_hist[0])", "5.04", True)],
    5: [("Neural Network output", "0.689974481128", True),
        ("Amount of Error", "-0.189974481128", True),
        ("Change in Weights", "[-0.02031869 -0.04063738 -0.06095608 -0.08127477]", True)],
    6: [("Hidden-layer Output", "[ 0.41492192  0.42604313  0.5002434 ]", True),
        ("Output-layer Output", "[ 0.49815196  0.48539772]", True)],
    7: [("h", "-0.02", True), ("a", "0.495", True), ("y_hat", "0.512", True),
        ("delta_o", "0.122", True), ("delta_h", "0.003", True), ("Delta W", "0.0302", True),
        ("Delta w", "(0.00015, 0.00045)", False),
        ("the sigmoid's largest slope", "0.25", True),
        ("errors lost at the output layer, at least", "75%", True),
        ("errors lost at the hidden layer, at least (when |W| <= 1)", "93.75%", True)],
    8: [("error", "3", True),
        ("top weight's slope, 1 * 6", "6", True), ("bottom weight's slope, 3 * 6", "18", True),
        ("gradients of the weights 0, 1, 2, 3", "0 6 0 18", True),
        ("the quiz's weight: the weight 1 into node_0, 1 x 1 x 6", "6", True),
        ("Actual Target Value", "10", False),
        ("error, output weights [1, 4], actual 10", "3", True),
        ("top and bottom weights' slopes, output weights [1, 4]", "6 18", True),
        ("gradients of the weights 0, 1, 2, 3, output weights [1, 4], slides' rule",
         "0 6 0 18", True),
        ("gradients of the weights 0, 1, 2, 3, output weights [1, 4], backpropagation",
         "0 6 0 18", False)],
    9: [(f"row {index}: admit, gre, gpa, rank_1..rank_4", None, True)
        for index in (15, 115, 55, 175, 63, 67, 216, 145, 286, 339)],
    10: [("prediction for input [3, 2]", "16", True),
         ("error (predicted - actual), actual 5", "11", True),
         ("error with the weight 2", "9", True), ("error with the weight 2.01", "9.08", True),
         ("the predictions become", "less accurate", True),
         ("forward passes for 4 updates", "4", True),
         ("largest weight update when the error is 0", "0", True)],
    11: [("features", None, True), ("features.T (a 1-D array stays a row)", None, True),
         ("features[:, None] (a column)", None, True), ("np.array(features, ndmin=2)", None, True),
         ("np.array(features, ndmin=2).T (a column)", None, True),
         ("np.dot(weights (3, 2), features (3,)) raises",
          "shapes (3,2) and (3,) not aligned: 2 (dim 1) != 3 (dim 0)", True),
         ("hidden_error (3,) * inputs (6,) raises",
          "operands could not be broadcast together with shapes (3,) (6,)", True),
         ("hidden_error, the rank_1 row", "6.44605731e-04, 2.12553536e-04, -1.01449168e-03",
          True),
         ("hidden_error * inputs[:, None], admissions row 11", None, True)],
}
PICTURES = {1: 3, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 2, 9: 2, 10: 1, 11: 0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every lesson run once (lesson 9 trains for a second), with what it printed."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("lessons")
    done = {}
    for lesson in LESSONS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run = run_lesson(lesson.number, out=folder)
        done[lesson.number] = (run, out.getvalue())
    return done


def test_every_lesson_is_pinned():
    assert sorted(EXPECTED) == [lesson.number for lesson in LESSONS]


@pytest.mark.parametrize("number", [lesson.number for lesson in LESSONS])
def test_lesson_checks_the_course_numbers(number, runs):
    run, out = runs[number]
    got = [(n.what, n.course, n.agrees) for n in run.numbers]
    expected = EXPECTED[number]
    assert [g[0] for g in got] == [e[0] for e in expected]
    for (what, course, agrees), (_, want_course, want_agrees) in zip(got, expected, strict=True):
        if want_course is not None:
            if isinstance(want_course, tuple):
                np.testing.assert_allclose(course, want_course, rtol=1e-12)
            else:
                assert course == want_course, what
        assert agrees is want_agrees, f"lesson {number}: {what}"
    lesson = LESSONS[number - 1]
    assert out.startswith(f"Lesson {number}: {lesson.title}")
    assert "Question:" in out and "Code:" in out
    assert "The course's answer" not in out  # no fixed answers: every verdict is computed
    assert "The course's numbers next to slopes'" in out
    for n in run.numbers:
        assert n.line() in out
        if not n.agrees:
            assert n.note, f"lesson {number}: {n.what} differs and the lesson does not say why"
            assert "why: " in n.line() and "a difference of" in n.line() or \
                n.difference is None
    agree = sum(n.agrees for n in run.numbers)
    assert f"{agree} of {len(run.numbers)} agree" in out
    assert len(run.pictures) == PICTURES[number]
    for path in run.pictures:
        assert path.read_bytes().startswith(b"\x89PNG")


def test_the_lines_show_the_course_digits_and_slopes_digits(runs):
    run, _ = runs[7]
    delta_w = next(n for n in run.numbers if n.what == "Delta w")
    assert delta_w.slopes_text == "(0.00015, 0.00046)"
    assert "course (0.00015, 0.00045), slopes (0.00015, 0.00046), a difference of 6.8252e-06" \
        in delta_w.line()
    assert "0.5 x 0.003 x 0.3 = 0.00045" in delta_w.note  # the course's rounding, recomputed
    run, _ = runs[3]
    slides = next(n for n in run.numbers if n.what == "error_updated, slides")
    assert "0.7 x 3 + 1.6 x 4 = 8.5" in slides.note and slides.difference == pytest.approx(5)


def test_course_number_compares_exactly_to_the_printed_digits():
    checks = CourseNumbers()
    assert checks.check("x", 0.4549, "0.455", "here").agrees
    assert not checks.check("x", 0.4544, "0.455", "here").agrees
    assert checks.check("x", 9.6274e-05, "9.627e-05", "here").agrees
    assert not checks.check("x", 9.6276e-05, "9.627e-05", "here").agrees
    assert checks.check("x", -0.0, "0", "here").agrees  # -0 is 0 as the course writes it
    assert checks.check("x", [30.0, 40.0], "array([30, 40])", "here").slopes_text == \
        "array([30, 40])"
    assert checks.check("x", 16.08 - 7, "9.08", "here").agrees  # 9.079999999999998
    assert checks.check("x", "Less accurate", "less accurate", "here").agrees
    with pytest.raises(ValueError, match="the course states 2 number"):
        checks.check("x", [1.0], "(1, 2)", "here")
    formula = CourseNumber("f", (1.0, 2.0), "here", [1.0, 2.0 + 1e-12])
    assert formula.agrees and formula.course_text == "1, 2"


def test_admissions_loss_falls_and_the_lesson_says_how_it_differs(runs):
    _, printed = runs[9]
    out = printed.split("\nOutput:\n")[1]  # what ran, not the code shown
    losses = [float(line.split(":")[1].split()[0]) for line in out.splitlines()
              if line.startswith("Train loss:")]
    assert len(losses) == 10
    assert losses[-1] < losses[0]
    assert "WARNING - Loss Increasing" not in out.split("How this run differs")[0]
    accuracy = float(out.split("Prediction accuracy: ")[1].split()[0])
    assert 0.6 <= accuracy <= 1
    differs = out.split("How this run differs from the course's:")[1]
    for words in ("learning rate 1.0, not 0.005", "held-out rows", "initial weights",
                  "the loss printed", "after each tenth epoch's", "before each update",
                  "the last record"):
        assert words in differs
    assert "(The course prints the prepared rows, but no loss and no accuracy.)" in printed
    assert "The course prints no loss values and no accuracy for this exercise" in out


def test_repeated_updates_says_the_course_shows_a_plot(runs):
    _, out = runs[4]
    assert "The course answers with a plot, no numbers." in out
    assert "The course prints no numbers here: it only plots mse_hist" in out.split(
        "\nOutput:\n")[1]


def test_last_quiz_network_is_the_rebuilt_one_everywhere(runs):
    run, out = runs[8]
    assert ('net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], '
            '"output": [1, 3]},') in out
    assert "The course's figures are missing from its text" in out
    assert "slope = 1 x 1 x 6 = 6" in out and "slope = 3 x 1 x 6 = 18" in out
    for path in ("README.md", "src/slopes/trace.py", "examples/make_readme_images.py",
                 "tests/test_plot.py", "tests/test_trace_explain.py"):
        text = (ROOT / path).read_text()
        assert "[[[0, 0], [1, 3]], [[4], [3]]]" not in text, path  # the old, contradicting one


def test_code_shown_is_the_code_run(runs):
    _, out = runs[8]
    assert "def _last_quiz" not in out and "return trace" not in out
    assert 'course.check("top weight\'s slope, 1 * 6"' in out


def test_course_numbers_are_quoted_from_the_course():
    """Every number a lesson quotes as printed by the course is in the course's text.

    The course's five documents live beside this project (../shared/seeds); the
    test needs them, and says so when they are not there.
    """
    if not SEEDS.is_dir():
        pytest.skip(f"the course's documents are not at {SEEDS}")
    text = " ".join(p.read_text() for p in SEEDS.glob("*.txt"))
    flat = re.sub(r"\s+", " ", text)
    import contextlib
    import io

    for lesson in LESSONS:
        with contextlib.redirect_stdout(io.StringIO()):
            run = run_lesson(lesson.number, out=None, show_code=False)
        for n in run.numbers:
            if not isinstance(n.course, str):
                continue
            for token in re.findall(r"-?\d+(?:\.\d+)?(?:e-\d+)?", n.course):
                assert token in flat, f"lesson {lesson.number}: {n.what}: {token}"


def test_every_wrong_course_number_is_in_the_errata(runs):
    """docs/course-errata.md lists each number a lesson finds wrong, with its command."""
    text = (ROOT / "docs" / "course-errata.md").read_text()
    entries = re.sub(r"\n  +", " ", text).replace("`", "").splitlines()
    for number, (run, _) in runs.items():
        for n in run.disagreements:
            course = n.course if isinstance(n.course, str) else " ".join(
                f"{v:g}" for v in n.course)
            assert any(course in entry and f"slopes lessons {number}" in entry
                       for entry in entries), f"lesson {number}: {n.what} {course}"
    for words in ("-2.5", "Squared error loss function", "294.000000", "0.00045", "y-xb",
                  "Sign conventions", "Train loss", "last record"):
        assert words in text


def test_unknown_lesson():
    with pytest.raises(ValueError, match="there is no lesson 99; lessons are numbered 1 to 11"):
        run_lesson(99)


def test_list():
    text = list_lessons()
    assert "8. A round of backpropagation (the last quiz)" in text
    assert "10. The quizzes" in text
    assert "11. NumPy's shapes" in text


def test_example_scripts_exist_one_per_lesson():
    scripts = sorted(p.name for p in (ROOT / "examples" / "course").glob("*.py"))
    assert scripts == sorted(lesson.script for lesson in LESSONS)
    for lesson in LESSONS:
        text = (ROOT / "examples" / "course" / lesson.script).read_text()
        assert f'main(["{lesson.number}"' in text
        assert "The course's answer" not in text


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
    assert "\u2713 bottom weight's slope, 3 * 6: course 18, slopes 18" in ran.stdout
    assert (tmp_path / "pics" / "08_last_quiz.png").exists()
    assert (tmp_path / "pics" / "08_last_quiz_1_4.png").exists()


def test_plain_marks_where_the_terminal_cannot_show_check_marks(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONIOENCODING": "ascii"}
    ran = subprocess.run([sys.executable, "-m", "slopes.cli", "lessons", "3", "--no-plot"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "  ok error: course 7, slopes 7" in ran.stdout
    assert "  DIFFERS error_updated, slides: course -2.5, slopes 2.5" in ran.stdout


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
    assert "\u2717 error, row 6 vs 1: course 2, slopes 5, a difference of 3" in ran.stdout


def test_only_numbers_the_course_prints_are_in_the_course_column(runs):
    """A check's course column holds text the course prints, never a value derived from it."""
    for number, (run, _) in runs.items():
        for n in run.numbers:
            assert isinstance(n.course, str), f"lesson {number}: {n.what} has a derived value"


def test_lesson_2_files_the_exercise_mse_as_other_data(runs):
    run, out = runs[2]
    other = [n for n in run.numbers if "exercise notes" in n.what]
    assert [n.course for n in other] == ["294.000000", "395.062500"]
    assert all(n.agrees for n in other)
    assert "with every input row [4, 3]: 294.000000 and 395.062500" in out
    assert "the opposite sign" in out


def test_lesson_1_rebuilds_the_baseline_slides_and_says_so(runs):
    _, out = runs[1]
    assert "the rebuilt baseline predicts 9: actual - predicted = 4" in out
    assert "The slides' network is rebuilt, not read" in out


def test_lesson_7_says_when_at_least_93_75_percent_holds(runs):
    _, out = runs[7]
    out = out.split("\nOutput:\n")[1]
    lost = float(re.search(r"With W = 4 instead of 0.1 .*?: ([\d.]+)% is lost", out).group(1))
    assert lost < 93.75
    assert "holds when the weights between the layers are at most 1 in size (|W| <= 1)" in out


def test_lesson_8_shows_which_reading_the_slides_numbers_follow(runs):
    run, out = runs[8]
    assert "Assumed: the quiz's figure (notebook 4.4)" in out
    assert "and the slides' figure" in out and "show the same network" in out
    assert ("output weights [1, 4]: prediction 13, error 3; node slopes by the slides' rule "
            "[ 6. 18.], by backpropagation [ 6. 24.]") in out
    quiz = next(n for n in run.numbers if n.what.startswith("the quiz's weight"))
    assert quiz.where.startswith("notebook 4.4") and quiz.slopes == [6.0]
    backprop = run.numbers[-1]
    assert backprop.slopes == [0, 6, 0, 24] and not backprop.agrees
    assert "the table follows the slides' rule" in backprop.note


def test_lesson_9_plots_the_printed_mse_and_says_the_accuracy_is_the_base_rate(monkeypatch,
                                                                            tmp_path):
    import contextlib
    import io

    import slopes
    from slopes import course_udacity

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = course_udacity.train_admissions(CourseNumbers())
    figures = []
    plot_history = slopes.plot.plot_history
    monkeypatch.setattr(slopes.plot, "plot_history",
                        lambda *a, **k: figures.append(plot_history(*a, **k)) or figures[-1])
    course_udacity.draw_train_admissions(result, tmp_path)
    ax = figures[0].axes[0]
    curve, dots = ax.lines[0], ax.lines[1]
    assert "mean squared error" in curve.get_label() and "loss" not in ax.get_ylabel().split()
    losses = result[2]
    np.testing.assert_array_equal(curve.get_ydata(), losses.every_epoch)
    np.testing.assert_array_equal(curve.get_xdata(), np.arange(1, 901))
    lines = [float(line.split(":")[1]) for line in printed.getvalue().splitlines()
             if line.startswith("Train loss:")]
    assert list(dots.get_xdata()) == [1 + 90 * k for k in range(10)]
    for x, y, line in zip(dots.get_xdata(), dots.get_ydata(), lines, strict=True):
        assert y == losses.every_epoch[x - 1] and f"{y:.6f}" == f"{line:.6f}"
    text = printed.getvalue()
    accuracy = float(text.split("Prediction accuracy: ")[1].split()[0])
    base = float(text.split("(the most common answer): ")[1].split()[0])
    if accuracy <= base:
        assert "The network does no better than always answering 'not admitted'" in text


def test_lesson_11_the_weight_step_matrix_is_admissions_row_11(runs):
    run, out = runs[11]
    assert "with hidden_error as printed, the largest relative difference is 2.7e-09" in out
    matrix = run.numbers[-1]
    assert matrix.agrees and len(matrix.slopes) == 18
    assert "slopes' weight slopes are inputs[:, None] * input_slopes[0]: True" in out
