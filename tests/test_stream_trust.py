"""Streaming acts like the in-memory path: each case of issue 16 with its outcome.

Each test runs ``slopes train`` (in memory, ``--stream``, or both) through
``slopes.cli.main`` and asserts the outcome and the message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

import slopes  # noqa: E402
from slopes import cli  # noqa: E402

FAST = ["--epochs", "2", "--hidden", "3", "--seed", "0"]
STREAM = ["--stream", "--chunk-rows", "20"]


def run(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def rows(n: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    return pd.DataFrame({"x": x, "color": rng.choice(["red", "blue"], n),
                         "label": np.where(x + rng.normal(0, 0.3, n) > 0, "yes", "no")})


def stored(folder: Path):
    return slopes.io.load_model(folder / "model.safetensors").preprocessing


@pytest.mark.parametrize("mode", [[], STREAM], ids=["memory", "stream"])
def test_a_byte_order_mark_is_read_as_excel_writes_it(tmp_path, capsys, mode) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + rows().to_csv(index=False).encode())
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST, *mode,
                       "--out", tmp_path / "m")
    assert code == 0, err
    assert stored(tmp_path / "m").columns == ["x", "color"]


def test_an_id_column_is_named_and_streaming_keeps_training(tmp_path, capsys) -> None:
    frame = rows()
    frame.insert(0, "order", [f"A{i:04d}" for i in range(len(frame))])
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    for mode in ([], STREAM):
        code, out, err = run(capsys, "train", path, "--target", "label", *FAST, *mode,
                             "--out", tmp_path / f"m{len(mode)}")
        assert code == 0, err
        assert ("warning: column 'order' has a different value in every row, like an ID; "
                "it cannot help predict new rows") in err
        assert "validation_data" not in err
        # No validation row has an order the training rows saw: said, and no validation.
        assert "validation row(s) hold values the training rows never had" in err
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST, *STREAM,
                       "--early-stopping", "--out", tmp_path / "e")
    assert code == 1
    assert "--early-stopping needs validation rows, but none are left" in err


@pytest.mark.parametrize("mode", [[], STREAM], ids=["memory", "stream"])
def test_zip_codes_are_one_text_column_in_every_chunk(tmp_path, capsys, mode) -> None:
    frame = rows()
    frame["zip"] = ["12345", "23456"] * 30 + ["02139", "00501"] * 20
    path = tmp_path / "zips.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST, *mode,
                       "--out", tmp_path / "m")
    assert code == 0, err
    assert stored(tmp_path / "m").categories["zip"] == ["00501", "02139", "12345", "23456"]


def test_a_file_sorted_by_its_class_is_named(tmp_path, capsys) -> None:
    path = tmp_path / "sorted.csv"
    rows(200).sort_values("label").to_csv(path, index=False)
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST, *STREAM,
                       "--out", tmp_path / "m")
    assert code == 0, err
    assert "chunks of 20 rows train on one class of 'label' only (is the file sorted by it?)" \
        in err
    assert "shuffle the file's rows first" in err
    shuffled = tmp_path / "shuffled.csv"
    rows(200).to_csv(shuffled, index=False)
    code, _, err = run(capsys, "train", shuffled, "--target", "label", *FAST, *STREAM,
                       "--out", tmp_path / "s")
    assert code == 0 and "sorted by it" not in err


@pytest.mark.parametrize("mode", [[], STREAM], ids=["memory", "stream"])
def test_a_second_header_line_is_refused(tmp_path, capsys, mode) -> None:
    path = tmp_path / "joined.csv"
    text = rows(50).to_csv(index=False)
    path.write_text(text + rows(50, seed=1).to_csv(index=False))
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST, *mode,
                       "--out", tmp_path / "m")
    assert code == 1
    assert (f"{path}: row 50 repeats the header line (x, color, label): two files joined "
            "into one? Remove that line") in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("mode", [[], STREAM], ids=["memory", "stream"])
def test_a_cut_off_row_is_refused_even_with_fill_missing(tmp_path, capsys, mode) -> None:
    path = tmp_path / "cut.csv"
    lines = rows(60).to_csv(index=False).splitlines()
    lines[31] = lines[31].rsplit(",", 1)[0]  # row 30 loses its last field
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "train", path, "--target", "label", "--fill-missing", *FAST,
                       *mode, "--out", tmp_path / "m")
    assert code == 1
    assert (f"{path}: row 30 has 2 field(s), but the header names 3 columns: a cut-off line? "
            "Fix or remove it") in err


def test_chunk_rows_without_stream_is_a_usage_error(tmp_path, capsys) -> None:
    path = tmp_path / "rows.csv"
    rows().to_csv(path, index=False)
    code, _, err = run(capsys, "train", path, "--target", "label", "--chunk-rows", "25",
                       "--out", tmp_path / "m")
    assert code == 2
    assert (f"--chunk-rows 25 is for streaming, but {path} is read whole; add --stream to "
            "read it in chunks, or leave out --chunk-rows") in err


def test_chunk_rows_alone_is_fine_for_a_parquet_file(tmp_path, capsys) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "rows.parquet"
    rows().to_parquet(path)
    code, out, err = run(capsys, "train", path, "--target", "label", "--chunk-rows", "25",
                         *FAST, "--out", tmp_path / "m")
    assert code == 0, err
    assert "reading it in chunks of 25 rows" in out


@pytest.mark.parametrize("column, what", [
    (pd.date_range("2024-01-01", periods=100, freq="D"), "dates or times"),
    ([[1, 2]] * 100, "lists"),
], ids=["datetime", "list"])
def test_parquet_dates_and_lists_are_refused_by_name(tmp_path, capsys, column, what) -> None:
    pytest.importorskip("pyarrow")
    frame = rows()
    frame["odd"] = column
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path)
    code, _, err = run(capsys, "train", path, "--target", "label", *FAST,
                       "--out", tmp_path / "m")
    assert code == 1
    assert f"{path}: column 'odd' holds {what} (Parquet type" in err
    assert "slopes reads numbers, text and true/false, the same from Parquet as from CSV" in err
    assert "--drop odd" in err and "unhashable" not in err
    code, _, err = run(capsys, "train", path, "--target", "label", "--drop", "odd", *FAST,
                       "--out", tmp_path / "d")
    assert code == 0, err


def test_parquet_and_csv_of_the_same_rows_learn_the_same(tmp_path, capsys) -> None:
    pytest.importorskip("pyarrow")
    frame = rows()
    frame["zip"] = ["02139", "10001"] * 50
    frame.to_parquet(tmp_path / "rows.parquet")
    frame.to_csv(tmp_path / "rows.csv", index=False)
    common = ["--target", "label", "--test-size", "0", "--validation-split", "0", *FAST]
    assert run(capsys, "train", tmp_path / "rows.parquet", *common, "--out", tmp_path / "p")[0] == 0
    assert run(capsys, "train", tmp_path / "rows.csv", *common, *STREAM,
               "--out", tmp_path / "c")[0] == 0
    parquet, csv = stored(tmp_path / "p").to_dict(), stored(tmp_path / "c").to_dict()
    assert parquet["categories"] == csv["categories"] == {"color": ["blue", "red"],
                                                          "zip": ["02139", "10001"]}
    assert parquet["numeric"]["x"] == pytest.approx(csv["numeric"]["x"], rel=1e-12)
    assert parquet["columns"] == csv["columns"] and parquet["classes"] == csv["classes"]
