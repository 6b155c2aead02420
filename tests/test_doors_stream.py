"""One truth, two doors: ``slopes train`` in memory and ``--stream`` learn the same preprocessing.

For each generated table (:mod:`generated_tables`), both paths train on all
the rows (``--test-size 0 --validation-split 0``, since they split rows
differently) and must store the same columns, categories, classes, means and
scales (to float tolerance), or both refuse with the same reason.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("pandas")
from hypothesis import HealthCheck, given, settings  # noqa: E402

import slopes  # noqa: E402
from generated_tables import GeneratedTable, tables  # noqa: E402
from slopes import cli  # noqa: E402

RAN: list[GeneratedTable] = []
COMMON = ["--test-size", "0", "--validation-split", "0", "--epochs", "1", "--hidden", "3",
          "--seed", "1"]


def train(args: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = cli.main(["train", *args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.err


def stored(folder: Path) -> dict:
    """The preprocessing a model folder's model file holds, as plain values."""
    return slopes.io.load_model(folder / "model.safetensors").preprocessing.to_dict()


def the_reason(err: str) -> str:
    lines = [line for line in err.splitlines() if "error:" in line]
    return lines[-1] if lines else err


def assert_same_preprocessing(memory: dict, streamed: dict) -> None:
    for key in ("target", "task", "columns", "categorical", "fill_missing", "standardize_target"):
        assert memory[key] == streamed[key], key
    assert memory["categories"] == streamed["categories"]
    assert memory["classes"] == streamed["classes"]
    assert memory["numeric"].keys() == streamed["numeric"].keys()
    for name, stats in memory["numeric"].items():
        other = streamed["numeric"][name]
        # The mean to a billionth of the spread (a Unix time's 1.7e9 +- 0.002 included).
        assert abs(stats["mean"] - other["mean"]) <= 1e-9 * stats["scale"] + 1e-15 * abs(
            stats["mean"]), (name, stats, other)
        assert math.isclose(stats["scale"], other["scale"], rel_tol=1e-9), (name, stats, other)
    for what in ("target_mean", "target_scale"):
        assert math.isclose(memory[what], streamed[what], rel_tol=1e-9, abs_tol=1e-9), what


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables())
def test_streamed_and_in_memory_learn_the_same_preprocessing(table: GeneratedTable,
                                                             tmp_path_factory, capsys) -> None:
    folder = tmp_path_factory.mktemp("doors")
    path = table.write(folder)
    args = [*table.train_args(path), *COMMON, "--task", table.task]
    code_m, err_m = train([*args, "--out", str(folder / "memory")], capsys)
    code_s, err_s = train([*args, "--stream", "--chunk-rows", "7", "--out",
                           str(folder / "streamed")], capsys)
    RAN.append(table)
    assert "Traceback" not in err_m + err_s
    assert code_m == code_s, (err_m, err_s)
    if code_m != 0:
        assert the_reason(err_m) == the_reason(err_s)
        return
    memory = stored(folder / "memory")
    streamed = stored(folder / "streamed")
    assert_same_preprocessing(memory, streamed)
    # Each kind of column is learned as the kind it is.
    for name, kind in table.kinds.items():
        if kind in ("unix_time", "number"):
            assert name in memory["numeric"], name
        else:
            assert name in memory["categories"], name


def test_the_differential_test_ran_its_tables() -> None:
    # Runs after the test above (file order): record how many tables it ran.
    assert len(RAN) >= 20, len(RAN)
    kinds = {kind for table in RAN for kind in table.kinds.values()}
    print(f"\n{len(RAN)} generated tables, column kinds {sorted(kinds)}, "
          f"{sum(t.bom for t in RAN)} with a byte-order mark, "
          f"{sum(t.fill_missing for t in RAN)} with missing cells")
    assert kinds == {"unix_time", "number", "big_code", "zip", "text"}


def test_zip_codes_stay_text_in_both_paths(tmp_path: Path, capsys) -> None:
    lines = ["zip,x,label"] + [f"{z},{i % 7},{i % 2}" for i, z in
                               enumerate(["12345", "23456"] * 20 + ["02139", "00501"] * 20)]
    path = tmp_path / "zips.csv"
    path.write_text("\n".join(lines) + "\n")
    args = [str(path), "--target", "label", *COMMON]
    assert train([*args, "--out", str(tmp_path / "m")], capsys)[0] == 0
    assert train([*args, "--stream", "--chunk-rows", "10", "--out", str(tmp_path / "s")],
                 capsys)[0] == 0
    for out in ("m", "s"):
        prep = slopes.io.load_model(tmp_path / out / "model.safetensors").preprocessing
        assert prep.categories["zip"] == ["00501", "02139", "12345", "23456"], out
