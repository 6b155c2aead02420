"""Training one slopes network on a Dask cluster: ``fit_distributed``.

The data is a CSV or Parquet file, a folder of them, or a glob (``parts/*.csv``),
on the workers' disks or a shared one (every worker must see the paths). The
files are spread over the workers, biggest first, and each worker reads and
preprocesses **its own files only**, chunk by chunk (a :class:`FileSource`
held by a :class:`~slopes.data_parallel.Shard`, a Dask actor, between steps):

1. a pass deciding each column's kind (number, integer, text, true/false) by
   the rules of ``slopes train`` (:class:`slopes.commands.tables.ColumnTypes`,
   merged across workers), and counting each file's rows;
2. a pass summarizing the training rows (:class:`slopes.distributed_stats.TableSummary`:
   exact sums, categories, classes), merged on the client into one
   :class:`~slopes.preprocessing.TabularPreprocessor`, bit for bit the one a
   single process reading every file would learn;
3. training, data-parallel (:mod:`slopes.data_parallel`): per-epoch weight
   averaging (the default, by measurement: ``benchmarks/distributed.py``) or
   synchronous slope averaging.

Rows are numbered as if the files (in name order) were one file, and put in
the test, validation or training part by the seeded hash of their number
that ``slopes train --stream`` uses: a single file is split exactly as
``--stream`` splits it.

This module is a face of the library (beside :mod:`slopes.sklearn`): it reads
tables with the command line's readers (:mod:`slopes.commands.tables`,
:mod:`slopes.commands.chunks`), so that the columns' kinds are decided as
``slopes train`` decides them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import data_parallel
from . import distributed_sources as sources  # a module: slopes.commands imports this one
from ._optional import require
from .callbacks import History
from .commands.chunks import ChunkReader
from .commands.tables import check_unique, header_names
from .distributed_stats import TableSummary
from .errors import CommandError
from .network import Network
from .preprocessing import TabularPreprocessor

__all__ = ["fit_distributed", "connect", "Prepared", "prepare", "train", "scores", "network",
           "default_loss", "DEFAULT_AVERAGING", "DEFAULT_SYNC_ROWS", "INSTALL"]

#: How to install what this module needs.
INSTALL = "pip install 'slopes[distributed]'"
#: The combining rule used unless one is asked for, chosen by benchmarks/distributed.py:
#: on a 2 GB file (one epoch, two local workers) slope averaging with 4,096-row steps ran
#: 1.68x the rows/s of one process and scored as it does (test accuracy 0.984 against
#: 0.986), where weight averaging ran 1.53x and scored 0.924: averaging two networks
#: trained apart for a whole epoch loses what each learned. Weight averaging stays
#: available (it takes l1, l2 and clip_norm, which the summed slopes do not).
DEFAULT_AVERAGING = "slopes"
#: Rows per worker per step of synchronous slope averaging, when not given: a round trip
#: to a local worker costs about a millisecond, which a step on this many rows hides.
DEFAULT_SYNC_ROWS = 2048
#: A CSV file is read in blocks of lines of at most this many bytes, spread over the workers.
BLOCK_BYTES = 64 * 2**20
#: Files from this size on are cut into at least one block per worker.
MIN_SPLIT_BYTES = 2**20


# ------------------------------------------------------------------------ cluster
def connect(workers: int | None = None, scheduler: str | None = None,
            timeout: float = 10.0) -> tuple[Any, Any]:
    """``(client, cluster)``: a LocalCluster of ``workers`` processes (one thread each),
    or a client of the scheduler at ``scheduler`` (``cluster`` None).

    A scheduler not answering within ``timeout`` seconds is a :class:`CommandError`
    naming its address.
    """
    try:
        distributed = require("distributed", "training on a Dask cluster", INSTALL)
    except ImportError as exc:
        raise CommandError(str(exc)) from exc
    if scheduler is not None:
        try:
            return distributed.Client(scheduler, timeout=timeout), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise CommandError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no answer'})"
                "; is it running, and is the address (tcp://HOST:PORT) right?") from exc
    # Dask starts its worker processes with MALLOC_TRIM_THRESHOLD_=65536, which turns off
    # glibc's adaptive mmap threshold: every array of a chunk is then mapped and faulted in
    # afresh. Measured: a worker's statistics pass took twice the CPU time (3.9 s instead
    # of 1.9 s on 1.7 million rows). slopes' workers start without it.
    key = "distributed.nanny.pre-spawn-environ"
    dask = require("dask", "training on a Dask cluster", INSTALL)
    environ = {k: v for k, v in (dask.config.get(key, None) or {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({key: environ}):
        cluster = distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR)
    return distributed.Client(cluster), cluster


class _Guarded:
    """An actor, whose calls turn a lost worker into a :class:`CommandError`."""

    def __init__(self, actor: Any, address: str, client: Any) -> None:
        self.actor, self.address, self.client = actor, address, client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.actor, name)

        def call(*args: Any) -> Any:
            return _Answer(method(*args), self)
        return call


class _Answer:
    def __init__(self, future: Any, shard: _Guarded) -> None:
        self.future, self.shard = future, shard

    def result(self) -> Any:
        try:
            return self.future.result()
        except (ConnectionError, EOFError, TimeoutError) as exc:
            raise self.lost(exc) from exc
        except OSError as exc:
            if type(exc) is OSError:  # Dask's "Unable to contact Actor's worker"
                raise self.lost(exc) from exc
            # A file the worker could not open or read (FileNotFoundError, PermissionError).
            raise CommandError(f"on the Dask worker {self.shard.address}: {exc}") from exc
        except Exception as exc:
            if not type(exc).__module__.startswith(("distributed", "tornado", "asyncio")):
                raise  # the worker's own error (a CommandError about the data...)
            raise self.lost(exc) from exc

    def lost(self, exc: BaseException) -> CommandError:
        """The worker's process, or the connection to it, is gone."""
        return CommandError(
            f"the Dask worker {self.shard.address} stopped answering "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'lost'}); "
            "its rows are gone, so training stopped and nothing was written; run again "
            "(on a LocalCluster, give the workers more memory or use fewer)")


class Prepared:
    """What :func:`prepare` learned: the shards, the preprocessing, the rows per part."""

    def __init__(self, shards: list[Any], prep: TabularPreprocessor, summary: TableSummary,
                 files: list[Path], kinds: dict[str, str], workers: list[str]) -> None:
        self.shards, self.prep, self.summary = shards, prep, summary
        self.files, self.kinds, self.workers = files, kinds, workers
        #: Validation rows left out for values the training rows never had (after train).
        self.skipped_validation = 0
        #: The parts read: whole files, or blocks of lines of a CSV file.
        self.parts = len(files)

    @property
    def counts(self) -> dict[str, int]:
        return self.summary.counts


def prepare(client: Any, data: Any, target: str, *, features: Sequence[str] | None = None,
            drop: Sequence[str] = (), categorical: Sequence[str] = (), task: str | None = None,
            fill_missing: bool = False, seed: int = 0, test_size: float = 0.0,
            validation_split: float = 0.1, chunk_rows: int = 100_000,
            block_bytes: int = BLOCK_BYTES) -> Prepared:
    """Spread the files of ``data`` over the cluster's workers and learn the preprocessing.

    A CSV file is cut into blocks of whole lines of at most ``block_bytes``
    (at least one per worker from :data:`MIN_SPLIT_BYTES` on), unless it holds
    a ``"`` (a quoted field may hold a line break): then it is read whole by one
    worker. Parquet files are read whole. Two passes, each worker over its own
    parts (the columns' kinds and row counts; the statistics of the training
    rows), merged on the client.
    Raises :class:`CommandError` for a problem of the data, naming the file.
    """
    files = sources.find_files(data)
    first = files[0]
    names = (ChunkReader(first, chunk_rows).columns if first.suffix.lower() == ".parquet"
             else header_names(first))
    if not names:
        raise CommandError(f"{first}: the file is empty; expected a header line and data rows")
    check_unique(first, names)
    missing = [n for n in [target, *(features or []), *drop, *categorical] if n not in names]
    if missing:
        raise CommandError(f"{first}: no column {', '.join(map(repr, missing))}; the columns "
                           f"are: {', '.join(names)}")
    keep = [c for c in (features or [c for c in names if c != target])
            if c not in drop and c != target]
    if not keep:
        raise CommandError(f"{first}: no feature columns are left to learn from")
    outside = [c for c in categorical if c not in keep]
    if outside:
        raise CommandError(f"categorical names {', '.join(map(repr, outside))}, which the "
                           "features chosen leave out")
    columns = [*keep, target]
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise CommandError("the Dask cluster has no workers")
    # The parts: whole files, or blocks of lines of a big CSV file (one file, two workers).
    pieces: list[tuple] = []
    for path in files:
        size = path.stat().st_size
        n_blocks = 1 if path.suffix.lower() == ".parquet" else max(
            -(-size // block_bytes), len(workers) if size >= MIN_SPLIT_BYTES else 1)
        if n_blocks > 1:  # a multiple of the workers, so that each reads as many bytes
            n_blocks = -(-n_blocks // len(workers)) * len(workers)
        pieces += [(str(path), start, end) for start, end in sources.blocks(path, n_blocks)]
    sizes = [(end - start) if start is not None else Path(p).stat().st_size
             for p, start, end in pieces]
    parts = [p for p in sources.spread(sizes, len(workers)) if p]
    settings = {"target": target, "categorical": list(categorical), "seed": seed,
                "test_size": test_size, "validation_split": validation_split,
                "chunk_rows": chunk_rows, "names": names}
    shards = []
    for address, part in zip(workers, parts, strict=False):
        source = sources.FileSource([(pieces[i][0], i, *pieces[i][1:]) for i in part], columns,
                                    settings)
        actor = client.submit(data_parallel.Shard, source, actor=True, workers=[address],
                              pure=False).result()
        shards.append(_Guarded(actor, address, client))
    answers = data_parallel.wait([s.call("kinds_pass") for s in shards])
    rows: dict[int, int] = {}
    if answers[0][0] == "csv":
        types = answers[0][1]
        for _, other, _ in answers[1:]:
            types.merge(other)
        kinds = {c: k for c, k in types.kinds().items() if c in columns}
    else:
        kinds = {}
        for _, found, _ in answers:
            for name, kind in found.items():
                kinds[name] = sources.merge_kinds(kinds.get(name), kind, name, data)
    for _, _, counted in answers:
        rows.update(counted)
    offsets, start = {}, 0
    for i in range(len(pieces)):
        offsets[i] = start
        start += rows[i]
    if start == 0:
        raise CommandError(f"{data}: has a header ({', '.join(names)}) but no data rows")
    summaries = data_parallel.wait([s.call("summarize", kinds, offsets) for s in shards])
    summary = summaries[0]
    for other in summaries[1:]:
        summary.merge(other)
    if summary.counts["train"] == 0:
        raise CommandError(f"{data}: none of its {summary.counts['rows']} rows is left to train "
                           "on after test_size and validation_split; lower them")
    try:
        prep = summary.preprocessor(task, fill_missing)
    except ValueError as exc:
        where = first if len(files) == 1 else f"{data} (rows counted across the files in name " \
                                               "order)"
        raise CommandError(f"{where}: {exc}") from exc
    prepared = Prepared(shards, prep, summary, files, kinds, workers[:len(shards)])
    prepared.parts = len(pieces)
    return prepared


def default_loss(prep: TabularPreprocessor) -> str:
    """``slopes train``'s default loss for the preprocessing's task and classes."""
    if prep.task == "regress":
        return "mse"
    return "binary_crossentropy" if len(prep.classes) == 2 else "categorical_crossentropy"


def network(prep: TabularPreprocessor, loss: str, hidden: Sequence[int], activation: str,
            seed: int, dropout: float = 0.0) -> Network:
    """The network ``slopes train`` builds for ``prep`` (He init for relu, Glorot else)."""
    if prep.task == "regress":
        n_out, output = 1, "identity"
    elif loss == "binary_crossentropy":
        n_out, output = 1, "sigmoid"
    else:
        n_out, output = len(prep.classes), "softmax"
    init = "he_normal" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    return Network.mlp([prep.n_features, *hidden, n_out], activation=activation, output=output,
                       bias=True, init=init, seed=seed, dropout=dropout)


def train(net: Network, prepared: Prepared, loss: str, *, optimizer: str = "adam",
          learning_rate: float | None = 0.01, epochs: int = 10, batch_size: int = 32,
          averaging: str = DEFAULT_AVERAGING, rows_per_worker: int | None = None,
          patience: int | None = None, seed: int = 0, options: dict[str, Any] | None = None,
          on_epoch: Callable[[int, dict], None] | None = None) -> History:
    """Train ``net`` in place on the prepared shards (see :mod:`slopes.data_parallel`).

    ``averaging="weights"``: each worker an epoch of batches of ``batch_size``,
    then the weights averaged. ``"slopes"``: every step ``rows_per_worker`` rows
    on each worker (default :data:`DEFAULT_SYNC_ROWS`), their slopes summed,
    one optimizer step.
    """
    if averaging not in data_parallel.AVERAGING:
        raise ValueError(f"averaging must be one of {', '.join(data_parallel.AVERAGING)}, "
                         f"got {averaging!r}")
    shards = prepared.shards
    skipped = data_parallel.wait([s.call("prepare", prepared.prep, loss) for s in shards])
    data_parallel.wait([s.set_network(net, loss) for s in shards])
    prepared.skipped_validation = sum(s["validation"] for s in skipped)
    if averaging == "slopes":
        if options and any(options.values()):
            raise ValueError("l1, l2 and clip_norm work with averaging='weights' only")
        return data_parallel.train_slope_averaging(
            net, shards, loss, optimizer, learning_rate, epochs,
            rows_per_worker or DEFAULT_SYNC_ROWS, patience=patience, on_epoch=on_epoch)
    return data_parallel.train_weight_averaging(
        net, shards, loss, optimizer, learning_rate, epochs, batch_size, seed=seed,
        patience=patience, options=options, on_epoch=on_epoch)


def scores(net: Network, prepared: Prepared, parts: Sequence[str],
           hardest: Sequence[str] = ()) -> dict[str, Any]:
    """``{part: sums}``: the sums of every worker's rows of each part, added up (see
    :func:`slopes.distributed_sources.score_batches`); one pass over the files.

    With ``hardest`` (some of ``"train"`` and ``"test"``), also ``"hardest":
    {part: TracedRow or None}``: the row of that part with the largest loss over
    all the workers (the first worker's among equal losses), found in the same pass.
    """
    flat = data_parallel.flatten(net.parameters())
    answers = data_parallel.wait([s.score(flat, list(parts), list(hardest))
                                  for s in prepared.shards])
    total = answers[0]
    for other in answers[1:]:
        for part in parts:
            sources.add_sums(total[part], other[part])
    if hardest:
        each = [a["hardest"] for a in answers]
        total["hardest"] = {}
        for part in hardest:
            found = [rows[part] for rows in each if rows[part] is not None]
            best = max(found, key=lambda r: r.loss) if found else None
            if best is not None:
                best.rows = sum(r.rows for r in found)
            total["hardest"][part] = best
    return total


def fit_distributed(data: Any, target: str, *, hidden: Sequence[int] = (8, 8),
                    activation: str = "relu", task: str | None = None, loss: str | None = None,
                    optimizer: str = "adam", learning_rate: float | None = 0.01,
                    epochs: int = 10, batch_size: int = 32,
                    averaging: str = DEFAULT_AVERAGING, rows_per_worker: int | None = None,
                    features: Sequence[str] | None = None, drop: Sequence[str] = (),
                    categorical: Sequence[str] = (), fill_missing: bool = False,
                    test_size: float = 0.0, validation_split: float = 0.1,
                    patience: int | None = 10, seed: int = 0, chunk_rows: int = 100_000,
                    workers: int | None = 2, scheduler: str | None = None, client: Any = None
                    ) -> tuple[Network, TabularPreprocessor, History]:
    """Train one network on a Dask cluster; each worker reads its own files.

    Parameters
    ----------
    data : path, folder, glob or list of them
        CSV files with one header, or Parquet files; every worker must see them.
    target : str
        The column to predict.
    hidden, activation, task, loss, optimizer, learning_rate, epochs, batch_size
        As ``slopes train``'s options (``loss`` None: the task's default).
    averaging : ``"weights"`` or ``"slopes"``
        Per-epoch weight averaging, or synchronous slope averaging with
        ``rows_per_worker`` rows per worker per step (see :mod:`slopes.data_parallel`).
    features, drop, categorical, fill_missing
        Which columns to learn from and how, as ``slopes train``'s options.
    test_size, validation_split : float
        Fractions of the rows held out (by the seeded row hash of ``--stream``).
    patience : int or None
        Early stopping on the validation loss (None: off).
    workers : int
        Processes of the LocalCluster started when neither ``scheduler`` nor
        ``client`` is given (closed at the end).
    scheduler : str or None
        The address of a running Dask scheduler, ``tcp://host:8786``.
    client : distributed.Client or None
        A client already connected (not closed).

    Returns
    -------
    (Network, TabularPreprocessor, History)
        Save them with ``net.save(path, preprocessing=prep, history=history)``:
        an ordinary slopes model file.

    Raises
    ------
    CommandError
        A problem of the data (naming the file), a scheduler that cannot be
        reached (naming its address), a worker that died.

    Notes
    -----
    A script that starts a local cluster (``workers``) calls this under
    ``if __name__ == "__main__":``: the workers are processes that import the
    script again.
    """
    own = client is None
    cluster = None
    if own:
        client, cluster = connect(workers, scheduler)
    try:
        prepared = prepare(client, data, target, features=features, drop=drop,
                           categorical=categorical, task=task, fill_missing=fill_missing,
                           seed=seed, test_size=test_size, validation_split=validation_split,
                           chunk_rows=chunk_rows)
        prep = prepared.prep
        loss = loss or default_loss(prep)
        net = network(prep, loss, hidden, activation, seed)
        if patience is not None and prepared.counts["validation"] == 0:
            patience = None
        history = train(net, prepared, loss, optimizer=optimizer, learning_rate=learning_rate,
                        epochs=epochs, batch_size=batch_size, averaging=averaging,
                        rows_per_worker=rows_per_worker, patience=patience, seed=seed)
        return net, prep, history
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
