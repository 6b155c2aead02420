"""Whether ``slopes train`` streams: the memory the run needs against the memory available.

:mod:`slopes.commands.memory` estimates the rows (file size over the sampled
bytes per row), the inputs (numeric columns and one-hot categories of the
sampled rows) and so the memory of the in-memory run; the command says which
path it chose and why. ``--no-stream`` forces memory, ``--stream`` streaming,
both together are refused; running out of memory is one line naming
``--stream``, never a traceback.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from slopes.cli import main  # noqa: E402
from slopes.commands import memory  # noqa: E402
from slopes.commands.memory import (  # noqa: E402
    FIXED_BYTES,
    MEMORY_FACTOR,
    available_memory,
    decide,
    estimate,
    gigabytes,
)
from slopes.preprocessing import TabularPreprocessor  # noqa: E402


def table(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n).round(4), "n": rng.integers(0, 100, size=n),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "city": rng.choice([f"c{k}" for k in range(12)], size=n),
        "zip": rng.choice(["02139", "00501", "10001"], size=n),
        "label": rng.integers(0, 2, size=n)})


def namespace(path: Path, **given) -> argparse.Namespace:
    values = {"data": str(path), "target": "label", "features": None, "drop": None,
              "categorical": None, "fill_missing": False, "stream": False, "no_stream": False}
    values.update(given)
    return argparse.Namespace(**values)


@pytest.fixture()
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    table(20_000).to_csv(path, index=False)
    return path


def test_the_estimate_counts_rows_and_one_hot_inputs(csv: Path):
    found = estimate(csv, namespace(csv))
    assert found is not None
    assert abs(found.rows - 20_000) < 0.05 * 20_000
    prep = TabularPreprocessor(target="label").fit(pd.read_csv(csv, dtype={"zip": str}))
    assert found.inputs == prep.n_features == 2 + 3 + 12 + 3
    assert found.matrix_bytes == found.rows * found.inputs * 8
    assert found.needed_bytes == int(MEMORY_FACTOR * found.matrix_bytes) + FIXED_BYTES
    dropped = estimate(csv, namespace(csv, drop=["city"], categorical=["n"]))
    assert dropped.inputs == 1 + pd.read_csv(csv)["n"].nunique() + 3 + 3


def test_an_id_column_is_taken_to_grow_with_the_rows(tmp_path: Path):
    path = tmp_path / "ids.csv"
    frame = table(20_000)
    frame["id"] = [f"u{k}" for k in range(len(frame))]
    frame.to_csv(path, index=False)
    found = estimate(path, namespace(path))
    assert found.inputs > 15_000  # one input per row, as one-hot encoding an ID gives


def test_more_than_available_streams_and_says_why(csv: Path, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 10**6)
    decision = decide(namespace(csv))
    assert decision.stream
    assert decision.reason.startswith("the run needs about ")
    assert decision.reason.endswith(", 0.001 GB is available")
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * 10**9)
    decision = decide(namespace(csv))
    assert not decision.stream
    assert decision.reason.endswith(", 64.0 GB is available")


def test_the_command_prints_its_choice(csv: Path, tmp_path: Path, monkeypatch, capsys):
    common = ["train", str(csv), "--target", "label", "--epochs", "1", "--hidden", "4"]
    monkeypatch.setattr(memory, "available_memory", lambda: 3_200_000_000)
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Reading data.csv whole \(the run needs about 0.2\d GB \(~20,000 rows x "
                     r"20 inputs\), 3.2 GB is available\); --stream reads it in chunks.$", out,
                     re.MULTILINE), out
    monkeypatch.setattr(memory, "available_memory", lambda: 1000)
    assert main([*common, "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Streaming data.csv \(the run needs about 0.2\d GB \(~20,000 rows x "
                     r"20 inputs\), 1e-06 GB is available\): reading it in chunks", out,
                     re.MULTILINE), out
    assert main([*common, "--no-stream", "--out", str(tmp_path / "c")]) == 0
    assert "Reading data.csv whole (--no-stream)" in capsys.readouterr().out


def test_unknown_memory_falls_back_to_the_file_size(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    small = tmp_path / "small.csv"
    small.write_text("a,label\n1,2\n")
    decision = decide(namespace(small))
    assert not decision.stream
    assert decision.reason == ("1.2e-08 GB, under the 1 GB threshold (the memory available "
                               "is unknown)")
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(1_100_000_000)  # sparse, unreadable as CSV: no rows to sample
    monkeypatch.setattr(memory, "available_memory", lambda: 8 * 10**9)
    assert decide(namespace(big)).reason == "1.1 GB, over the 1 GB threshold"


def test_available_memory_is_a_positive_number_here():
    found = available_memory()
    assert found is None or found > 0
    assert gigabytes(6.1e9) == "6.1 GB" and gigabytes(3.5e8) == "0.35 GB"


@pytest.mark.parametrize("extra,message", [
    (["--stream", "--no-stream"], "--stream reads the file in chunks and --no-stream reads it "
                                  "whole; give one of them"),
    (["--no-stream", "--chunk-rows", "10"], "--chunk-rows 10 is for streaming, but "
                                            "--no-stream reads the file whole"),
])
def test_contradicting_options_are_usage_errors(csv: Path, tmp_path: Path, capsys, extra,
                                                message):
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(csv), "--target", "label", *extra, "--out", str(tmp_path / "m")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_no_stream_refuses_a_parquet_file(tmp_path: Path, capsys):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(path), "--target", "label", "--no-stream", "--out",
              str(tmp_path / "m")])
    assert exit_.value.code == 2
    assert ("--no-stream reads a CSV file whole, but " in capsys.readouterr().err)


@pytest.mark.parametrize("where", ["transform", "numpy"])
def test_running_out_of_memory_is_one_line_naming_stream(csv: Path, tmp_path: Path, capsys,
                                                         monkeypatch, where):
    if where == "transform":
        def no_memory(self, data, dtype=np.float64):
            raise MemoryError()
        monkeypatch.setattr(TabularPreprocessor, "transform", no_memory)
    else:
        # NumPy's own error, a MemoryError subclass, raised by an allocation in transform.
        import slopes.preprocessing as prep_module

        class FakeNumpy:
            def __getattr__(self, name):
                return getattr(np, name)

            @staticmethod
            def empty(shape, dtype=None):
                return np.empty(2**47, dtype=np.float64)  # 1 PiB: numpy's MemoryError

        monkeypatch.setattr(prep_module, "np", FakeNumpy())
    code = main(["train", str(csv), "--target", "label", "--no-stream", "--out",
                 str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (f"{csv}: ran out of memory reading and training on the file whole (--no-stream); "
            "use --stream to read it in chunks") in err
    assert not (tmp_path / "m").exists()
