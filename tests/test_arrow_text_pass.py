"""The text pass read by pyarrow must decide what pandas' reading decides.

:func:`slopes.commands.tables.file_kinds` reads a CSV file as text to decide
each column's kind. Where :func:`~slopes.commands.arrow_text.arrow_reads_as_pandas`
accepts the file, pyarrow's multithreaded reader does it (2.4 times faster on
a numeric file), else pandas. The two must agree on every file: the same
kinds, or the same error. Files are drawn by hypothesis from cells that have
broken readers before (codes with leading zeros, missing-value words, spaces
before and after cells, quoted commas and line breaks, unicode, booleans,
huge numbers), with or without a byte-order mark, ``\\r\\n`` line ends, blank
lines and rows shorter or longer than the header.

:func:`~slopes.commands.tables.read_table` reads the typed file in chunks and
joins each column's chunks: it must give the frame pandas gives reading the
file at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from slopes.commands import arrow_text, tables  # noqa: E402
from slopes.errors import CommandError  # noqa: E402

CELLS = ["1", "-2.5", "1e5", "007", "02139", "0", "0.5", " 3", "4 ", "True", "false", "TRUE",
         "", "nan", "NA", "None", "n/a", "abc", "Zürich", "東京", "x y", "inf",
         "123456789012345678901234567890", "-0", "+7", ".5", "1.", "1,5", "a\nb", 'say "hi"',
         "é,è", "  "]


def _field(cell: str, quoted: bool, space: bool) -> str:
    if quoted or any(c in cell for c in ',"\n'):
        cell = '"' + cell.replace('"', '""') + '"'
    return (" " if space else "") + cell


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A small CSV file's bytes: a header, rows of drawn cells, and drawn oddities."""
    n_columns = draw(st.integers(1, 4))
    names = [f"c{k}" for k in range(n_columns)]
    column_cells = [draw(st.lists(st.sampled_from(CELLS), min_size=1, max_size=4))
                    for _ in names]
    n_rows = draw(st.integers(0, 12))
    spaces = draw(st.booleans())
    quotes = draw(st.booleans())
    lines = [",".join(names)]
    for _ in range(n_rows):
        row = [_field(draw(st.sampled_from(cells)), quotes and draw(st.booleans()),
                      spaces and draw(st.booleans()))
               for cells in column_cells]
        shape = draw(st.sampled_from(["whole"] * 8 + ["short", "long", "blank", "header"]))
        if shape == "short" and len(row) > 1:
            row = row[:-1]
        elif shape == "long":
            row = [*row, "9"]
        elif shape == "blank":
            lines.append("")
        elif shape == "header":
            row = list(names)
        lines.append(",".join(row))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8")


def _kinds(path: Path, monkeypatch: pytest.MonkeyPatch, arrow: bool) -> tuple[str, object]:
    with monkeypatch.context() as m:
        if not arrow:
            m.setattr(arrow_text, "arrow_reads_as_pandas", lambda *a: False)
        try:
            names = tables.header_names(path)
            return "kinds", tables.file_kinds(path, names, 5)
        except CommandError as exc:
            return "error", str(exc)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
def test_pyarrow_and_pandas_decide_the_same_kinds_or_the_same_error(data, tmp_path,
                                                                    monkeypatch):
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    monkeypatch.setattr(arrow_text, "ARROW_BLOCK_BYTES", 64)  # several chunks a file
    assert _kinds(path, monkeypatch, arrow=True) == _kinds(path, monkeypatch, arrow=False)


def test_pyarrow_reads_plain_files_and_pandas_the_rest(tmp_path):
    cases = {
        "plain.csv": ("a,b\n1, x\n2,y\n", True),
        "bom.csv": ("\ufeffa,b\n1,2\n", True),
        "one column.csv": ("a\n1\n2\n", False),
        "blank first line.csv": ("\na,b\n1,2\n", False),
        "quoted header.csv": ('"a",b\n1,2\n', False),
        "space before a quote.csv": ('a,b\n1, "x"\n', False),
        "tab before a quote.csv": ('a,b\n1,\t"x"\n', False),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        names = tables.header_names(path)
        assert arrow_text.arrow_reads_as_pandas(path, len(names)) is expected, name


def test_the_text_pass_without_pyarrow_reads_with_pandas(tmp_path, monkeypatch):
    import importlib.util

    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    assert arrow_text.arrow_reads_as_pandas(path, 2) is False
    assert tables.file_kinds(path, ["a", "b"], 10) == {"a": "integer", "b": "text"}


def test_a_short_row_is_named_by_the_pandas_reading(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3\n")
    assert arrow_text.arrow_reads_as_pandas(path, 2)
    with pytest.raises(CommandError, match=r"row 1 has 1 field\(s\), but the header names 2"):
        tables.file_kinds(path, ["a", "b"], 10)


def test_pyarrow_chunks_hold_the_rows_asked_for(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{k},{k % 3}\n" for k in range(25)))
    chunks = list(arrow_text.arrow_text_chunks(path, ["a", "b"], 10))
    assert [len(c) for c in chunks] == [25]  # one block of the file: one chunk
    assert list(chunks[0].index) == list(range(25))
    assert chunks[0]["a"].tolist()[:3] == ["0", "1", "2"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
def test_the_table_read_in_chunks_is_the_table_read_at_once(data, tmp_path, monkeypatch):
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    try:
        names = tables.header_names(path)
        tables.check_unique(path, names)
        kinds = tables.file_kinds(path, names, 5)
    except CommandError:
        return  # refused before reading the typed file: nothing to compare
    monkeypatch.setattr(tables, "KIND_CHUNK_ROWS", 3)  # several chunks even for a few rows
    try:
        whole = next(tables.typed_csv_chunks(path, kinds, None))
    except CommandError as exc:
        with pytest.raises(CommandError, match="^" + __import__("re").escape(str(exc))):
            tables.read_table(path, kinds)
        return
    if len(whole) == 0:
        return  # read_table refuses a file of no rows (its own test)
    pd.testing.assert_frame_equal(tables.read_table(path, kinds), whole)


def test_a_quoted_blank_cell_in_a_column_of_numbers_is_missing_in_every_reading(tmp_path):
    """``"  "`` is a blank cell, so missing, as an empty one is; pandas cannot read it as
    a float (this gave a raw ValueError traceback): those columns are read as text then."""
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,x\n"  ",y\n2.5,z\n')
    whole = tables.read_table(path)
    assert whole["a"].tolist()[0] == 1.0 and pd.isna(whole["a"][1]) and whole["a"][2] == 2.5
    chunks = list(tables.typed_csv_chunks(path, {"a": "number", "b": "text"}, 1))
    assert [len(c) for c in chunks] == [1, 1, 1]  # each chunk once, none twice
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


# ------------------------------------------------------------------ a cluster worker's blocks
def _block_kinds(path: Path, names: list[str], monkeypatch: pytest.MonkeyPatch,
                 arrow: bool) -> object:
    """The kinds and row counts a cluster worker finds in the blocks of ``path``."""
    from slopes import distributed_sources

    files = [(str(path), k, *block) for k, block in enumerate(distributed_sources.blocks(path, 3))]
    with monkeypatch.context() as m:
        if not arrow:
            m.setattr(distributed_sources, "arrow_reads_as_pandas", lambda *a, **k: False)
        source = distributed_sources.FileSource(files, names, {"names": names, "chunk_rows": 5})
        try:
            _, types, rows = source.kinds_pass()
            return types.kinds(), rows
        except CommandError as exc:
            return str(exc)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
def test_a_cluster_worker_reads_its_blocks_with_pyarrow_as_with_pandas(data, tmp_path,
                                                                       monkeypatch):
    """A big file with no quote is cut into blocks of lines, one per worker; each worker
    decides its kinds with pyarrow's reader (a file with quotes is read whole, by pandas)."""
    path = tmp_path / "table.csv"
    path.write_bytes(data.replace(b'"', b""))
    monkeypatch.setattr(arrow_text, "ARROW_BLOCK_BYTES", 64)  # several chunks a block
    try:
        names = tables.header_names(path)
    except CommandError:
        return
    assert (_block_kinds(path, names, monkeypatch, arrow=True)
            == _block_kinds(path, names, monkeypatch, arrow=False))


def test_a_cluster_worker_reads_a_plain_block_with_pyarrow(tmp_path, monkeypatch):
    from slopes import distributed_sources

    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n" + "".join(f"{k}, x{k % 4},{k % 2}\n" for k in range(60)))
    read = []
    real = tables.arrow_column_types
    monkeypatch.setattr(distributed_sources, "arrow_column_types",
                        lambda *a: read.append(a[0]) or real(*a))
    kinds, rows = _block_kinds(path, ["a", "b", "c"], monkeypatch, arrow=True)
    assert len(read) == 3 and kinds == {"a": "integer", "b": "text", "c": "integer"}
    assert sum(rows.values()) == 60


def test_pyarrow_names_a_row_of_a_later_chunk_as_pandas_does(tmp_path, monkeypatch):
    """Rows are counted across the chunks pyarrow gives once, as pandas counts them: in
    the whole file, and in each block of a cluster worker (from the block's first row)."""
    path = tmp_path / "joined.csv"
    path.write_text("a,b\n" + "".join(f"{k},{k % 3}\n" for k in range(100)) + "a,b\n"
                    + "1,2\n" * 50)
    monkeypatch.setattr(arrow_text, "ARROW_BLOCK_BYTES", 64)  # several chunks
    assert _kinds(path, monkeypatch, arrow=True) == _kinds(path, monkeypatch, arrow=False) == (
        "error", f"{path}: row 100 repeats the header line (a, b): two files joined into one? "
                 "Remove that line (and check the rows after it)")
    by_arrow = _block_kinds(path, ["a", "b"], monkeypatch, arrow=True)
    assert by_arrow == _block_kinds(path, ["a", "b"], monkeypatch, arrow=False)
    assert "repeats the header line" in by_arrow


@pytest.mark.parametrize("stream", [False, True])
def test_a_whole_number_past_int64_stays_a_float(tmp_path, stream):
    """A column of whole numbers is read as int64 where none is missing; one past int64
    stays a float in every chunk (it wrapped around to -9223372036854775808)."""
    path = tmp_path / "big.csv"
    path.write_text("a,b\n,1\n,1\n,1\n123456789012345678901234567890,1\n")
    kinds = tables.file_kinds(path, ["a", "b"], 5)
    assert kinds["a"] == "integer"
    if stream:
        values = [v for chunk in tables.typed_csv_chunks(path, kinds, 3) for v in chunk["a"]]
    else:
        values = list(tables.read_table(path)["a"])
    assert values[3] == pytest.approx(1.2345678901234568e29, rel=1e-15)
