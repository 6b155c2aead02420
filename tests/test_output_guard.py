"""No file is ever lost: every file a command writes goes through one guard.

``slopes.commands.outputs.OutputGuard`` refuses to write over an input of the
same run (the data file, the model file, another output of the run), refuses
to replace a model file, or a file in a model's folder, without
``--overwrite``, and an empty output name is a usage error. Each test holds one
case of issue 16; docs/reliability.md lists them.
"""

from __future__ import annotations

import ast
import os
import signal
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from cli_run import cli  # noqa: E402
from slopes.cli import main  # noqa: E402
from slopes.commands.outputs import OutputFiles, OutputGuard  # noqa: E402
from slopes.errors import CommandError  # noqa: E402
from slopes.io import load_model  # noqa: E402

FAST = ["--epochs", "3", "--hidden", "3"]
COMMANDS = Path(__file__).resolve().parents[1] / "src" / "slopes" / "commands"


def table(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n).round(3)
    color = rng.choice(["red", "blue"], size=n)
    label = np.where(x + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x": x, "color": color, "label": label})


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """``(data.csv, model folder)``: a small model `slopes train` wrote."""
    folder = tmp_path_factory.mktemp("guard")
    data = folder / "data.csv"
    table().to_csv(data, index=False)
    model = folder / "model"
    assert main(["train", str(data), "--target", "label", *FAST, "--out", str(model)]) == 0
    return data, model


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to check that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------ inputs of the run
def test_explain_html_never_replaces_the_data_file(capsys, trained):
    data, model = trained
    before = data.read_bytes()
    code, _, err = cli(capsys, "explain", model, data, "--row", "0", "--html", data,
                       "--out", data.parent / "ex1")
    assert code == 1
    assert f"--html {data}: is the data file {data}; refusing to overwrite it, choose another " \
           "--html" in err
    assert data.read_bytes() == before
    assert not (data.parent / "ex1").exists()


def test_explain_html_never_replaces_the_model_it_reads(capsys, trained):
    data, model = trained
    before = snapshot(model)
    target = model / "model.safetensors"
    code, _, err = cli(capsys, "explain", model, data, "--row", "0", "--html", target,
                       "--out", data.parent / "ex2", "--overwrite")
    assert code == 1
    assert f"--html {target}: is the model file {target}; refusing to overwrite it" in err
    assert snapshot(model) == before


def test_an_input_named_like_an_output_in_the_out_folder_is_not_overwritten(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    data = out / "metrics.json"  # a CSV file the user happened to call metrics.json
    table().to_csv(data, index=False)
    before = data.read_bytes()
    code, _, err = cli(capsys, "train", data, "--target", "label", *FAST, "--out", out)
    assert code == 1
    assert f"--out {out}: its metrics.json is the data file {data}; refusing to overwrite " \
           "it, choose another --out" in err
    assert data.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]


def test_the_input_reached_through_a_link_is_still_the_input(capsys, trained, tmp_path):
    data, model = trained
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    before = data.read_bytes()
    code, _, err = cli(capsys, "predict", model, data, "--out", link)
    assert code == 1
    assert f"--out {link}: is the input file {data}; refusing to overwrite it" in err
    assert data.read_bytes() == before


def test_two_outputs_of_one_run_cannot_share_a_file(capsys, trained, tmp_path):
    data, model = trained
    out = tmp_path / "ex"
    code, _, err = cli(capsys, "explain", model, data, "--row", "0", "--out", out,
                       "--html", out / "network.png")
    assert code == 1
    assert f"--html {out / 'network.png'}: is also written by --out {out} in this run; two " \
           "outputs cannot share a file, choose another name" in err
    assert not out.exists()


# ---------------------------------------------------------- models need --overwrite
def test_demo_never_replaces_a_model_train_wrote_without_overwrite(capsys, trained, tmp_path):
    data, model = trained
    folder = tmp_path / "m"
    assert cli(capsys, "train", data, "--target", "label", *FAST, "--out", folder)[0] == 0
    before = snapshot(folder)
    code, _, err = cli(capsys, "demo", "--out", folder, "--epochs", "2")
    assert code == 1
    assert f"--out {folder}: already holds model.safetensors; add --overwrite to replace it, " \
           "or choose another --out" in err
    assert snapshot(folder) == before
    code, _, err = cli(capsys, "demo", "--out", folder, "--epochs", "2", "--overwrite")
    assert code == 0, err
    assert load_model(folder / "model.safetensors").training["command"] == "demo"


def test_explain_out_never_replaces_the_pictures_of_a_model_folder(capsys, trained):
    data, model = trained
    before = snapshot(model)
    code, _, err = cli(capsys, "explain", model, data, "--row", "0", "--out", model)
    assert code == 1
    assert f"--out {model}: network.png there belongs to the model " \
           f"{model / 'model.safetensors'}; add --overwrite to replace it, or choose another " \
           "--out" in err
    assert snapshot(model) == before


def test_explain_out_replaces_a_model_folder_picture_with_overwrite(capsys, tmp_path):
    data = tmp_path / "data.csv"
    table().to_csv(data, index=False)
    model = tmp_path / "model"
    assert cli(capsys, "train", data, "--target", "label", *FAST, "--out", model)[0] == 0
    old = (model / "network.png").read_bytes()
    code, _, err = cli(capsys, "explain", model, data, "--row", "1", "--out", model,
                       "--overwrite")
    assert code == 0, err
    assert (model / "network.png").read_bytes() != old


def test_predict_never_replaces_another_model_without_overwrite(capsys, trained, tmp_path):
    data, model = trained
    other = tmp_path / "saved.bin"  # a model saved from Python under a name of its own
    other.write_bytes((model / "model.safetensors").read_bytes())
    code, _, err = cli(capsys, "predict", model, data, "--out", other)
    assert code == 1
    assert f"--out {other}: is a model file; add --overwrite to replace it, or choose " \
           "another --out" in err
    assert other.read_bytes() == (model / "model.safetensors").read_bytes()


def test_predict_replaces_an_old_predictions_file(capsys, trained, tmp_path):
    data, model = trained
    old = tmp_path / "predictions.csv"
    old.write_text("old\n")
    code, _, err = cli(capsys, "predict", model, data, "--out", old)
    assert code == 0, err
    assert old.read_text().startswith("x,color,label,predicted_label")


# ------------------------------------------------------------------ usage errors
@pytest.mark.parametrize("argv", [
    ["train", "DATA", "--target", "label", "--out", ""],
    ["demo", "--out", " "],
    ["predict", "MODEL", "DATA", "--out", ""],
    ["explain", "MODEL", "DATA", "--row", "0", "--out", ""],
    ["explain", "MODEL", "DATA", "--row", "0", "--html", ""],
])
def test_an_empty_output_name_is_a_usage_error(capsys, trained, argv):
    data, model = trained
    argv = [str(data) if a == "DATA" else str(model) if a == "MODEL" else a for a in argv]
    code, _, err = cli(capsys, *argv)
    assert code == 2
    blank = argv[-1]
    assert f"expected a file or folder name, got {blank!r}" in err


# ----------------------------------------------------------- the guard, in Python
def test_the_guard_refuses_a_missing_folder_and_a_directory(tmp_path):
    guard = OutputGuard()
    with pytest.raises(CommandError, match=f"--out {tmp_path / 'no' / 'p.csv'}: the folder "
                                           f"{tmp_path / 'no'} does not exist"):
        guard.claim(tmp_path / "no" / "p.csv", "--out")
    with pytest.raises(CommandError, match=f"--html {tmp_path}: is a directory, expected a "
                                           "file name"):
        guard.claim(tmp_path, "--html")


def test_output_files_claim_every_file_before_work_and_again_at_commit(tmp_path):
    data = tmp_path / "loss.png"
    data.write_bytes(b"an input")
    files = OutputFiles(tmp_path, ["model.safetensors"],
                        OutputGuard({"the data file": data}))
    files.check()  # model.safetensors is free
    files.add("loss.png", b"picture")
    with pytest.raises(CommandError, match="its loss.png is the data file"):
        files.commit()
    assert data.read_bytes() == b"an input"
    assert not (tmp_path / "model.safetensors").exists()


def test_no_command_writes_a_file_except_through_the_guard():
    """Only outputs.py may call the atomic writers: every other command goes through it."""
    writers = {"write_atomic", "write_files_atomic", "write_text", "write_bytes", "to_onnx",
               "savefig", "save"}
    found = []
    for path in sorted(COMMANDS.glob("*.py")):
        if path.name == "outputs.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = None
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            elif isinstance(node, ast.ImportFrom):
                imported = {a.name for a in node.names} & writers
                found += [f"{path.name}: imports {n}" for n in sorted(imported)]
            if name in writers:
                found.append(f"{path.name}:{node.lineno}: {name}()")
    assert not found, found


# ------------------------------------------------------------- Ctrl-C, asked to save
def test_ctrl_c_in_the_first_epoch_with_save_interrupted_writes_the_model(
        capsys, trained, tmp_path, monkeypatch):
    """Ctrl-C before any epoch ended still writes the model the user asked for."""
    from slopes import callbacks

    data, _ = trained
    made = callbacks.file_snapshots

    def pressing_ctrl_c(net, *args, **kwargs):
        recorder = made(net, *args, **kwargs)
        begin = recorder.on_train_begin

        def on_train_begin(logs):
            begin(logs)
            signal.raise_signal(signal.SIGINT)  # fit's handler: stop after this batch

        recorder.on_train_begin = on_train_begin
        return recorder

    monkeypatch.setattr(callbacks, "file_snapshots", pressing_ctrl_c)
    out = tmp_path / "m"
    code, _, err = cli(capsys, "train", data, "--target", "label", *FAST, "--out", out,
                       "--save-interrupted")
    assert code == 0, err
    model = load_model(out / "model.safetensors")
    assert model.training["interrupted"] is True
    assert model.training["epochs_run"] == 0
    assert os.path.exists(out / "metrics.json")
    assert not os.path.exists(out / "loss.png")  # no epoch ended: no loss to draw
