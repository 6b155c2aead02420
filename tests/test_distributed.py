"""Training on a real Dask cluster: a LocalCluster of two worker processes, one thread each.

One cluster for the module (starting one costs seconds). The tests: synchronous
slope averaging takes the steps one process takes on the concatenated batch
(1e-10, float64); weight averaging of identical workers is one process's epoch;
the preprocessing merged from partitions is the one learned from the whole
table (hypothesis tables split into files); ``slopes train --workers`` /
``--scheduler`` writes an ordinary model file; the refusals.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_run import cli, process
from generated_tables import tables
from slopes import Network
from slopes.commands.tables import read_table
from slopes.data_parallel import (
    Shard,
    flatten,
    train_slope_averaging,
    train_weight_averaging,
)
from slopes.distributed import connect, default_loss, fit_distributed, network, prepare, train
from slopes.distributed_sources import ArraySource, FileSource, blocks
from slopes.distributed_stats import ExactMoments
from slopes.errors import CommandError
from slopes.io import load_model
from slopes.optimizers import SGD, Adam
from slopes.preprocessing import TabularPreprocessor

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def run(*args):
    """``slopes ARGS`` in a process of its own: (exit code, stdout, stderr)."""
    proc = process(*args)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def actors(client, sources):
    workers = sorted(client.scheduler_info()["workers"])
    return [client.submit(Shard, s, actor=True, workers=[w], pure=False).result()
            for s, w in zip(sources, workers, strict=False)]


# ------------------------------------------------------------------------ the steps
@pytest.mark.parametrize("loss", ["mse", "sse", "binary_crossentropy"])
def test_slope_averaging_is_one_process_on_the_concatenated_batch(client, loss):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    parts = [(X[:70], y[:70]), (X[70:], y[70:])]
    shares = [16, 24]  # uneven shares, and chunks of 37 rows: steps cross chunk boundaries
    output = "sigmoid" if loss == "binary_crossentropy" else "identity"
    net = Network.mlp([4, 5, 1], activation="tanh", output=output, seed=1)
    reference = net.copy()
    shards = actors(client, [ArraySource(Xp, yp, rows_per_chunk=37, shuffle=False, loss=loss)
                             for Xp, yp in parts])
    for s in shards:
        s.set_network(net, loss).result()
    history = train_slope_averaging(net, shards, loss, Adam(0.05), None, epochs=2,
                                    rows_per_worker=shares)

    opt = Adam(0.05)
    for _ in range(2):
        at = [0, 0]
        while True:
            xs, ys = [], []
            for k, (Xp, yp) in enumerate(parts):
                take = slice(at[k], min(at[k] + shares[k], len(Xp)))
                xs.append(Xp[take])
                ys.append(yp[take])
                at[k] = take.stop
            if not sum(len(b) for b in xs):
                break
            reference.train_on_batch(np.concatenate(xs), np.concatenate(ys), optimizer=opt,
                                     loss=loss)
    assert opt.iterations == 2 * 5  # 150 rows: 5 steps an epoch (70 rows at 16, 80 at 24)
    for mine, theirs in zip(net.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10)
    assert len(history.history["loss"]) == 2


def test_weight_averaging_of_identical_workers_is_one_process_epoch(client):
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(90, 3)), rng.normal(size=90)
    net = Network.mlp([3, 4, 1], activation="relu", output="identity", seed=2)
    reference = net.copy()
    source = ArraySource(X, y, rows_per_chunk=40, shuffle=False)
    shards = actors(client, [source, source])
    for s in shards:
        s.set_network(net, "mse").result()
    train_weight_averaging(net, shards, "mse", "sgd", 0.05, epochs=2, batch_size=10)
    opt = SGD(0.05)
    for _ in range(2):  # chunks of 40 rows, batches of 10: the rows in order
        reference.fit(iter([(X[s:s + 10], y[s:s + 10]) for s in range(0, 90, 10)]), loss="mse",
                      optimizer=opt, epochs=1, verbose=0)
    np.testing.assert_allclose(flatten(net.parameters()), flatten(reference.parameters()),
                               rtol=0, atol=1e-12)


# ------------------------------------------------------------------------ statistics
def _split(text: str, cuts: list[int], folder: Path) -> list[Path]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    edges = [0, *sorted(c % (len(rows) + 1) for c in cuts), len(rows)]
    paths = []
    for k in range(len(edges) - 1):
        path = folder / f"part-{k:02d}.csv"
        path.write_text(header + "".join(rows[edges[k]:edges[k + 1]]), encoding="utf-8")
        paths.append(path)
    return paths


def _summary(paths: list[Path], table, parts: list[list[int]]):
    """Each 'worker' summarizes its files, as on the cluster; the client merges."""
    names = list(pd.read_csv(paths[0], nrows=0, encoding="utf-8-sig").columns)
    columns = [c for c in names if c != table.target] + [table.target]
    settings_ = {"target": table.target, "categorical": table.categorical, "seed": 0,
                 "test_size": 0.0, "validation_split": 0.0, "chunk_rows": 7, "names": names}
    sources = [FileSource([(str(paths[i]), i) for i in part], columns, settings_)
               for part in parts]
    answers = [s.kinds_pass() for s in sources]
    types = answers[0][1]
    for other in answers[1:]:
        types.merge(other[1])
    kinds = types.kinds()
    rows = {i: n for a in answers for i, n in a[2].items()}
    offsets = {i: sum(rows[j] for j in range(i)) for i in range(len(paths))}
    summaries = [s.summarize(kinds, offsets) for s in sources]
    for other in summaries[1:]:
        summaries[0].merge(other)
    return summaries[0].preprocessor(table.task, table.fill_missing)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables(), cuts=st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
       data=st.data())
def test_merged_statistics_are_those_of_the_whole_table(table, cuts, data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    whole = table.write(folder, "whole.csv")
    paths = _split(table.text, cuts, folder)
    workers = data.draw(st.integers(1, len(paths)))
    parts = [list(range(k, len(paths), workers)) for k in range(workers)]
    merged = _summary(paths, table, parts)
    alone = _summary(paths, table, [list(range(len(paths)))])
    # Exact sums: the same bits however the rows are split among workers and chunks.
    assert merged.to_dict() == alone.to_dict()

    frame = read_table(whole)
    expected = TabularPreprocessor(target=table.target, categorical=table.categorical,
                                   task=table.task, standardize_target=table.task == "regress",
                                   fill_missing=table.fill_missing).fit(frame).to_dict()
    got = merged.to_dict()
    for key in ("columns", "categories", "classes", "categorical", "task", "fill_missing"):
        assert got[key] == expected[key], key
    assert got["numeric"].keys() == expected["numeric"].keys()
    for name, stats in expected["numeric"].items():
        for key in ("mean", "scale"):
            assert got["numeric"][name][key] == pytest.approx(stats[key], rel=1e-12,
                                                              abs=1e-12), (name, key)
    for key in ("target_mean", "target_scale"):
        assert got[key] == pytest.approx(expected[key], rel=1e-12, abs=1e-12)


def test_exact_moments_do_not_depend_on_the_split():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(1e9, 3, 500), rng.normal(0, 1e-300, 10), [0.0, -0.0]])
    whole = ExactMoments().add_all(values)
    for cut in (1, 100, 511):
        parts = ExactMoments().add_all(values[:cut]).merge(ExactMoments().add_all(values[cut:]))
        assert (parts.mean, parts.std, parts.n) == (whole.mean, whole.std, whole.n)
    from fractions import Fraction
    assert whole.mean == float(sum(map(Fraction, values)) / len(values))


# ------------------------------------------------------------------------ end to end
def _parts(folder: Path, n_files: int = 3, rows: int = 400) -> Path:
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    n = n_files * rows
    frame = pd.DataFrame({"gre": rng.normal(580, 110, n).round(), "gpa": rng.normal(3.4, 0.4, n)
                          .round(2), "rank": rng.integers(1, 5, n),
                          "city": rng.choice(["Oslo", "Lima", "Pune"], n)})
    frame["admit"] = ((frame.gre - 580) / 110 + (frame.gpa - 3.4) / 0.4 - frame["rank"] / 2
                      + rng.normal(0, 0.5, n) > -1.2).astype(int)
    for k in range(n_files):
        frame.iloc[k * rows:(k + 1) * rows].to_csv(folder / f"part-{k}.csv", index=False)
    frame.to_csv(folder.parent / "all.csv", index=False)
    return folder


def test_fit_distributed_on_a_client(client, tmp_path):
    folder = _parts(tmp_path / "parts")
    for averaging in ("weights", "slopes"):
        net, prep, history = fit_distributed(str(folder / "*.csv"), "admit",
                                             categorical=["rank"], epochs=3, client=client,
                                             averaging=averaging, rows_per_worker=64)
        assert prep.classes == [0, 1] and prep.categories["rank"] == ["1", "2", "3", "4"]
        assert len(history.epoch) == 3 and history.history["loss"][-1] < 0.6
        assert history.params["averaging"] == averaging
    # The same preprocessing as one FileSource reading every file would learn.
    prepared = prepare(client, folder, "admit", categorical=["rank"], validation_split=0.0)
    assert len(prepared.shards) == 2 and len(prepared.files) == 3
    assert prepared.prep.to_dict() == _summary(
        sorted(folder.glob("*.csv")),
        type("T", (), {"target": "admit", "categorical": ["rank"], "task": None,
                       "fill_missing": False}),
        [[0, 1, 2]]).to_dict() | {"task": prepared.prep.task}


def test_the_command_writes_an_ordinary_model_file(client, tmp_path, capsys):
    folder = _parts(tmp_path / "parts")
    address = client.scheduler.address
    # A process of its own, as a user runs it (a second client in this process would share
    # the actors' event loop with the fixture's).
    code, out, err = run("train", folder, "--target", "admit", "--categorical", "rank",
                         "--scheduler", address, "--epochs", "4", "--out", tmp_path / "m")
    assert code == 0, err
    assert f"Training on the Dask scheduler at {address}: 3 file(s) spread over 2 worker(s)" \
        in out, out
    assert "test  loss" in out and "Wrote model.safetensors" in out
    # The default, chosen by benchmarks/distributed.py: slope averaging, 2048 rows a worker.
    assert "synchronous slope averaging: 2048 rows per worker per step" in out
    model = tmp_path / "m" / "model.safetensors"
    code, out, err = cli(capsys, "predict", model, tmp_path / "all.csv", "--out",
                         tmp_path / "p.csv")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 1200
    code, out, err = cli(capsys, "explain", model, tmp_path / "all.csv", "--row", "3", "--out",
                         tmp_path / "ex")
    assert code == 0, err
    code, out, err = cli(capsys, "export", model, "--onnx", tmp_path / "m.onnx")
    assert code == 0, err
    saved = load_model(model)
    assert saved.training["distributed"]["workers"] == 2
    assert saved.preprocessing.categories["rank"] == ["1", "2", "3", "4"]


def test_workers_starts_a_local_cluster(tmp_path, capsys):
    folder = _parts(tmp_path / "parts", n_files=2, rows=200)
    code, out, err = run("train", str(folder / "part-*.csv"), "--target", "admit",
                         "--workers", "2", "--epochs", "2", "--average", "slopes",
                         "--batch-size", "64", "--out", tmp_path / "m")
    assert code == 0, err
    assert "a local cluster of 2 worker processes" in out
    assert "synchronous slope averaging: 32 rows per worker per step" in out
    assert (tmp_path / "m" / "model.safetensors").exists()



def test_one_csv_file_is_cut_into_blocks_of_lines_for_the_workers(client, tmp_path):
    _parts(tmp_path / "parts", n_files=1, rows=3000)
    one = tmp_path / "parts" / "part-0.csv"
    whole = prepare(client, one, "admit", categorical=["rank"], block_bytes=10**9)
    cut = prepare(client, one, "admit", categorical=["rank"], block_bytes=9000)
    assert whole.parts == 1 and len(whole.shards) == 1
    # At most 9000 bytes a block, as many blocks for each of the 2 workers.
    assert cut.parts == -(-one.stat().st_size // 9000 // 2) * 2 and len(cut.shards) == 2
    # The same rows in each part (the --stream hash of the row number), the same statistics.
    assert cut.counts == whole.counts
    assert cut.prep.to_dict() == whole.prep.to_dict()


def test_a_csv_file_with_quotes_is_read_whole(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('x,note,y\n' + "".join(f'{k},"line one\nline two",{k % 2}\n'
                                           for k in range(200)))
    assert blocks(path, 4) == [(None, None)]
    plain = tmp_path / "p.csv"
    plain.write_text("x,y\n" + "".join(f"{k},{k % 2}\n" for k in range(200)))
    cuts = blocks(plain, 4)
    assert len(cuts) == 4 and cuts[0][0] == len("x,y\n") and cuts[-1][1] == plain.stat().st_size
    text = plain.read_bytes()
    assert all(text[start - 1:start] == b"\n" for start, _ in cuts)

# ------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(("option", "reason"), [
    (["--dropout", "0.2"], "--dropout does not work with --workers: dropout's masks"),
    (["--schedule", "step:2"], "--schedule does not work with --workers: a schedule is a "
                               "callback of the one-process fit loop"),
    (["--save-interrupted"], "--save-interrupted does not work with --workers: Ctrl-C stops"),
    (["--l2", "0.01", "--average", "slopes"], "--l2 does not work with --workers: with "
                                              "--average slopes"),
    (["--cv", "3"], "--cv does not work with --workers: cross-validation trains K networks"),
    (["--sample-weight", "w"], "--sample-weight does not work with --workers: the workers "
                               "read no weight column yet"),
    (["--stream"], "--stream does not work with --workers: every worker already reads its "
                   "files in chunks"),
    (["--no-stream"], "--no-stream does not work with --workers: every worker reads its files "
                      "in chunks"),
])
def test_options_a_cluster_cannot_honour_are_refused(tmp_path, capsys, option, reason):
    code, out, err = cli(capsys, "train", tmp_path / "x.csv", "--target", "y", "--workers",
                         "2", *option)
    assert code == 2
    assert reason in err


def test_average_without_a_cluster_is_refused(tmp_path, capsys):
    code, _, err = cli(capsys, "train", tmp_path / "x.csv", "--target", "y", "--average",
                       "slopes")
    assert code == 2 and "--average is for training on a cluster" in err


def test_a_scheduler_that_does_not_answer_is_named():
    with pytest.raises(CommandError, match=r"cannot reach the Dask scheduler at "
                                           r"tcp://127\.0\.0\.1:9 within 1 s"):
        connect(scheduler="tcp://127.0.0.1:9", timeout=1)


@pytest.mark.parametrize(("name", "message"), [
    ("nothing/*.csv", "no file matches this pattern"),
    ("missing.csv", "no such file, folder or pattern"),
    ("empty", "the folder holds no .csv or .parquet file"),
])
def test_data_that_names_no_files_is_refused(client, tmp_path, name, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=message):
        prepare(client, str(tmp_path / name), "y")


def test_parts_with_different_headers_are_refused(client, tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,0\n2,1\n")
    (tmp_path / "b.csv").write_text("x,z\n1,0\n2,1\n")
    with pytest.raises(CommandError, match=r"b\.csv: its header \(x, z\) is not that of the "
                                           r"first file \(x, y\)"):
        prepare(client, tmp_path, "y")


@pytest.mark.parametrize(("cell", "message"), [
    ("inf", r"part-1\.csv \(rows counted across the files in name order: its first row is row "
            r"3\): column 'x' row 4: expected a finite number, got inf"),
    ("", r"missing values in column 'x' \(1 row\(s\), first row 4\); fill or drop them, or use "
         r"--fill-missing"),
])
def test_a_bad_cell_on_a_worker_names_its_file_and_row(client, tmp_path, cell, message):
    (tmp_path / "part-0.csv").write_text("x,y\n1,0\n2,1\n3,0\n")
    (tmp_path / "part-1.csv").write_text(f"x,y\n4,1\n{cell},0\n6,1\n")
    with pytest.raises(CommandError, match=message):
        prepare(client, tmp_path, "y", validation_split=0.0)


def test_a_worker_that_dies_stops_the_run_with_its_address(client, tmp_path):
    # Last: the nanny restarts the worker, under a new address.
    folder = _parts(tmp_path / "parts", n_files=2, rows=100)
    prepared = prepare(client, folder, "admit")
    victim = prepared.workers[0]
    os.kill(prepared.shards[0].info().result()["pid"], signal.SIGKILL)
    loss = default_loss(prepared.prep)
    with pytest.raises(CommandError, match=f"the Dask worker {victim} stopped answering"):
        train(network(prepared.prep, loss, [4], "relu", 0), prepared, loss, epochs=2)


def test_network_png_traces_the_hardest_held_out_row_of_every_worker(client, tmp_path):
    """Each worker finds its own hardest test row; the client keeps the hardest of them,
    which is the held-out row of the whole table with the largest loss."""
    from slopes.commands.chunks import split_masks
    from slopes.commands.pictures import row_losses
    from slopes.data_parallel import flatten, wait
    from slopes.distributed import scores

    folder = _parts(tmp_path / "parts")
    prepared = prepare(client, folder, "admit", categorical=["rank"], test_size=0.2, seed=3)
    net = network(prepared.prep, "binary_crossentropy", [5], "relu", seed=0)
    train(net, prepared, "binary_crossentropy", epochs=1)
    flat = flatten(net.parameters())
    found = [r["hardest"]["test"] for r in wait([s.score(flat, ["train", "test"], ["test"])
                                                 for s in prepared.shards])]
    assert all(found) and len(found) == len(prepared.shards)  # every worker holds test rows
    hardest = max(found, key=lambda r: r.loss)
    together = scores(net, prepared, ["train", "validation", "test"], hardest=["test", "train"])
    assert (together["hardest"]["test"].row, together["hardest"]["test"].loss) == (hardest.row,
                                                                                   hardest.loss)
    assert together["hardest"]["test"].rows == together["test"]["rows"]
    assert together["hardest"]["train"].rows == together["train"]["rows"]

    whole = pd.read_csv(tmp_path / "all.csv")
    _, _, test = split_masks(np.arange(len(whole)), 3, 0.2, 0.1)
    rows = whole[test]
    X = prepared.prep.transform(rows)
    y = prepared.prep.transform_target(rows["admit"])
    losses = row_losses(net, X, y, "binary_crossentropy")
    assert sum(r.rows for r in found) == len(rows)
    assert hardest.row == int(rows.index[np.argmax(losses)])
    assert hardest.loss == pytest.approx(losses.max(), rel=1e-12)


def test_the_hardest_row_is_found_only_among_the_training_and_test_rows_scored(tmp_path):
    source = FileSource([(str(tmp_path / "t.csv"), 0)], ["x", "y"], {"names": ["x", "y"]})
    net = Network.mlp([1, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"hardest names \['validation'\]; it takes 'train' "
                                         r"and 'test', among the parts scored \(\['train'\]\)"):
        source.score(net, ["train"], ["validation"])
    with pytest.raises(ValueError, match=r"hardest names \['test'\]"):
        source.score(net, ["train"], ["test"])
