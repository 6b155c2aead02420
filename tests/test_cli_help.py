"""``slopes --help`` ends with example commands, and each of them works as printed.

The examples are read from the help text itself and run, in order, in an
empty folder holding the admissions CSV the examples name; ``slopes`` with no
command prints the help and exits 2, without a traceback.
"""

from __future__ import annotations

import shlex

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from cli_run import cli  # noqa: E402
from slopes.cli import EXAMPLES, build_parser  # noqa: E402
from slopes.datasets import load_admissions  # noqa: E402


def examples() -> list[str]:
    """The ``slopes ...`` lines of the help's epilog."""
    return [line.strip() for line in build_parser().format_help().splitlines()
            if line.startswith("  slopes ")]


def test_the_help_ends_with_examples_of_every_command(capsys):
    code, out, err = cli(capsys, "--help")
    assert code == 0 and err == ""
    assert out.rstrip().endswith(EXAMPLES.rstrip().splitlines()[-1])
    assert "examples (admissions.csv: any CSV file with a header line" in out
    found = examples()
    assert 4 <= len(found) <= 6
    assert [shlex.split(line)[1] for line in found] == ["demo", "train", "predict", "explain",
                                                        "export"]
    for line in found:  # each example is followed by a line saying what it does
        after = out.split(line + "\n", 1)[1].splitlines()[0]
        assert after.startswith("      ") and after.strip()


def test_every_example_runs_as_printed(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    load_admissions().to_csv("admissions.csv", index=False)
    for line in examples():
        code, out, err = cli(capsys, *shlex.split(line)[1:])
        assert code == 0, (line, err)
        assert "Traceback" not in err
    for written in ("slopes-demo/network.png", "model/model.safetensors", "model/loss.png",
                    "predictions.csv", "explained/network.png", "model.onnx"):
        assert (tmp_path / written).stat().st_size > 0, written
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert len(predictions) == 400 and "predicted_admit" in predictions.columns


def test_slopes_alone_prints_the_help_and_exits_2(capsys):
    code, out, err = cli(capsys)
    assert code == 2
    assert out.startswith("usage: slopes ")
    assert "examples (" in out and "Traceback" not in out + err
