"""Reading ahead: the next chunk read (and preprocessed) in a thread while this one trains.

:func:`slopes.commands.tables.read_ahead` must give the same items in the same
order as the iterator it wraps, raise the iterator's error in the caller
after the items before it, and stop its thread (closing the iterator) when
the caller stops early. ``slopes train --stream`` must give the same model,
byte for byte, and the same errors with it as without it, and Ctrl-C must
still stop a streamed run cleanly.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from slopes.cli import main  # noqa: E402
from slopes.commands import arrow_text, tables, train_stream  # noqa: E402
from slopes.commands.chunks import ChunkReader  # noqa: E402
from slopes.commands.tables import read_ahead  # noqa: E402
from slopes.errors import CommandError  # noqa: E402


def _threads() -> int:
    return sum(t.name == "slopes-read-ahead" for t in threading.enumerate())


def _wait_for_no_thread() -> None:
    deadline = time.monotonic() + 5
    while _threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads() == 0


@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_the_same_items_in_the_same_order(depth):
    items = [np.full(3, k) for k in range(50)]
    got = list(read_ahead(iter(items), depth))
    assert len(got) == 50 and all(a is b for a, b in zip(got, items, strict=True))
    _wait_for_no_thread()


def test_an_error_comes_after_the_items_before_it():
    problem = CommandError("data.csv: not a well-formed CSV file: Expected 2 fields in line 9")

    def source():
        yield 1
        yield 2
        raise problem

    got = []
    with pytest.raises(CommandError) as caught:
        for item in read_ahead(source()):
            got.append(item)
    assert got == [1, 2]
    assert caught.value is problem
    _wait_for_no_thread()


def test_stopping_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from range(10**6)
        finally:
            closed.set()

    reader = read_ahead(source(), 2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()  # as when the caller is interrupted (Ctrl-C) or fails
    assert closed.wait(5)
    _wait_for_no_thread()


def test_the_reading_runs_in_another_thread():
    names = []

    def source():
        for k in range(3):
            names.append(threading.current_thread().name)
            yield k

    assert list(read_ahead(source(), 1)) == [0, 1, 2]
    assert names == ["slopes-read-ahead"] * 3
    assert list(read_ahead(source(), 0)) == [0, 1, 2]
    assert names[3:] == [threading.current_thread().name] * 3


def _csv(tmp_path: Path, n: int = 900) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=n).round(3),
                          "c": rng.choice(["a", "b", "Zürich"], size=n),
                          "y": rng.integers(0, 2, size=n)})
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_chunk_reader_gives_the_same_chunks(tmp_path: Path, monkeypatch):
    path = _csv(tmp_path)
    reader = ChunkReader(path, 100)
    reader.decide_kinds(["x", "c", "y"])
    ahead = list(reader.chunks(["x", "c", "y"]))
    monkeypatch.setattr(tables, "READ_AHEAD_CHUNKS", 0)
    plain = list(reader.chunks(["x", "c", "y"]))
    assert len(ahead) == len(plain) == 9
    for a, b in zip(ahead, plain, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_streamed_run_gives_the_same_model(tmp_path: Path, monkeypatch, capsys):
    path = _csv(tmp_path)
    args = ["train", str(path), "--target", "y", "--stream", "--chunk-rows", "64",
            "--epochs", "3", "--hidden", "5"]
    monkeypatch.setattr(train_stream, "READ_AHEAD_MIN_BATCH", 1)  # a thread at any batch size
    assert main([*args, "--out", str(tmp_path / "ahead")]) == 0
    ahead_out = capsys.readouterr().out
    monkeypatch.setattr(tables, "READ_AHEAD_CHUNKS", 0)
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    plain_out = capsys.readouterr().out
    for name in ("model.safetensors", "metrics.json"):
        assert ((tmp_path / "ahead" / name).read_bytes()
                == (tmp_path / "plain" / name).read_bytes()), name
    assert ahead_out.replace("ahead", "plain") == plain_out


@pytest.mark.parametrize("content,message", [
    ("x,c,y\n" + "1.0,a,0\n" * 300 + "1.0,a,0,7\n", "not a well-formed CSV file"),
    ("x,c,y\n" + "1.0,a,0\n1.0,b,1\n" * 150 + "abc,a,0\n", "holds numbers except in 1 cell"),
    ("x,c,y\n" + "1.0,a,0\n2.0,b,1\n" * 150 + "x,c,y\n", "repeats the header line"),
])
def test_errors_in_the_reading_thread_read_as_before(tmp_path: Path, monkeypatch, capsys,
                                                     content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    args = ["train", str(path), "--target", "y", "--stream", "--chunk-rows", "50",
            "--epochs", "1"]
    monkeypatch.setattr(train_stream, "READ_AHEAD_MIN_BATCH", 1)  # a thread at any batch size
    assert main([*args, "--out", str(tmp_path / "a")]) == 1
    ahead = capsys.readouterr().err
    monkeypatch.setattr(tables, "READ_AHEAD_CHUNKS", 0)
    assert main([*args, "--out", str(tmp_path / "a")]) == 1
    plain = capsys.readouterr().err
    assert ahead == plain
    assert message in ahead and "Traceback" not in ahead
    _wait_for_no_thread()


def test_the_streamed_epoch_reads_ahead_only_for_large_batches(tmp_path: Path, monkeypatch,
                                                               capsys):
    """A thread reads ahead from READ_AHEAD_MIN_BATCH rows a batch (measured in
    benchmarks/read_ahead.py: it slowed batches of 32 rows, sped up batches of 512)."""
    assert train_stream.read_ahead_depth(32) == 0
    assert train_stream.read_ahead_depth(train_stream.READ_AHEAD_MIN_BATCH) is None
    path = _csv(tmp_path)
    real = tables.read_ahead
    for batch, threads_expected in ((32, False), (256, True)):
        names: list[str] = []

        def spy(items, depth=None, names=names):
            def recorded():
                for item in items:
                    names.append(threading.current_thread().name)
                    yield item
            return real(recorded(), depth)

        monkeypatch.setattr(train_stream, "read_ahead", spy)
        assert main(["train", str(path), "--target", "y", "--stream", "--chunk-rows", "100",
                     "--epochs", "2", "--batch-size", str(batch),
                     "--out", str(tmp_path / f"m{batch}")]) == 0
        capsys.readouterr()
        assert len(names) >= 2 * 6  # 2 epochs of 6 or more training chunks
        assert all((name == "slopes-read-ahead") is threads_expected for name in names), names
    _wait_for_no_thread()


def test_ctrl_c_stops_a_streamed_run_cleanly(tmp_path: Path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=4000).round(3),
                          "c": rng.choice(["a", "b"], size=4000),
                          "y": rng.integers(0, 2, size=4000)})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "m"
    proc = subprocess.Popen(
        [sys.executable, "-m", "slopes.cli", "train", str(path), "--target", "y", "--stream",
         "--chunk-rows", "500", "--epochs", "100000", "--batch-size", "256",
         "--no-early-stopping", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, "MPLBACKEND": "Agg",
             "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    line = proc.stdout.readline()
    while line and not line.startswith("epoch"):
        line = proc.stdout.readline()
    assert line, proc.stderr.read()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "nothing was written" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())



def test_an_error_in_the_text_pass_stops_the_thread_before_the_reader_closes(tmp_path,
                                                                            monkeypatch):
    """A row repeating the header stops the text pass while the thread reads on: the
    thread must be gone before pandas' reader is closed (closed under the thread, the
    parser crashed the process with a segmentation fault, now and then)."""
    path = tmp_path / "joined.csv"
    rows = "".join(f"{k},{k % 7},x{k % 3}\n" for k in range(40))
    path.write_text("a,b,c\n" + rows + "a,b,c\n" + rows * 50)
    monkeypatch.setattr(arrow_text, "arrow_reads_as_pandas", lambda *a: False)  # pandas, a thread
    for _ in range(20):
        with pytest.raises(CommandError, match="row 40 repeats the header line"):
            tables.file_kinds(path, ["a", "b", "c"], 10)
        assert _threads() == 0  # no thread left reading from the closed reader
