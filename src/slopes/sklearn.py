"""scikit-learn estimators: :class:`SlopesClassifier` and :class:`SlopesRegressor`.

Thin faces over :class:`~slopes.network.Network` and
:func:`slopes.training.fit`: they check their parameters and data the
scikit-learn way, build a network, train it with the same loop as
``Network.fit``, and keep it as ``network_`` so every number stays
explainable (``est.network_.trace(...)``, ``slopes.plot.draw_network``). They
do no arithmetic of their own.

They pass scikit-learn's own estimator checks
(``sklearn.utils.estimator_checks.parametrize_with_checks``), so they work in
``Pipeline``, ``GridSearchCV`` and ``cross_val_score``.

Needs scikit-learn >= 1.6: ``pip install 'slopes[all]'``.

Their checks of parameters, labels and scaler are in :mod:`slopes.sklearn_checks`.

Why this module is long: the two estimators, the base class they share (building,
training, ``transform``) and the parameter documentation both docstrings carry
are one job, read together: a classifier's ``fit`` is half in the base class.
scikit-learn keeps its ``MLPClassifier``, ``MLPRegressor`` and their base class
in one module for the same reason. Split apart, each would need scikit-learn's
imports and the other two open beside it.

Examples
--------
>>> import numpy as np
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from slopes.sklearn import SlopesClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)) * [1, 100]          # features on very different scales
>>> y = np.where(X[:, 0] + X[:, 1] / 100 > 0, "yes", "no")
>>> model = make_pipeline(StandardScaler(), SlopesClassifier(hidden_layer_sizes=(8,),
...                       learning_rate=0.01, epochs=30, random_state=0))
>>> model.fit(X, y).score(X, y) > 0.95
True
>>> model[-1].classes_
array(['no', 'yes'], dtype='<U3')
>>> model[-1].network_            # a slopes Network: trace it, explain it, draw it
Network(2-8-1, activations=[relu, sigmoid], dtype=float64)
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._optional import require
from .callbacks import EarlyStopping
from .layers import Dense
from .network import Network
from .optimizers import SGD, Adam, Optimizer
from .schedules import ReduceLROnPlateau, get_schedule
from .sklearn_checks import (
    Settings,
    check_dtype,
    check_labels,
    check_number,
    check_params,
    check_scaler,
    python_value,
)
from .training import check_sample_weight
from .training import fit as train

try:
    import sklearn
    from sklearn.base import (
        BaseEstimator,
        ClassifierMixin,
        ClassNamePrefixFeaturesOutMixin,
        RegressorMixin,
        TransformerMixin,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:
    # Without scikit-learn, this names the extra to install; with an old one, the version.
    require("sklearn", "slopes.sklearn (the scikit-learn estimators)")
    raise ImportError(
        f"slopes.sklearn needs scikit-learn >= 1.6, but scikit-learn {sklearn.__version__} is "
        "installed; upgrade it with: pip install -U 'slopes[all]'"
    ) from exc

__all__ = ["SlopesClassifier", "SlopesRegressor"]

# ------------------------------------------------------------------------ the estimators
class _SlopesEstimator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What the classifier and the regressor share: building, training, transform.

    Subclasses say which loss and output layer they train with
    (:meth:`_output`) and turn ``y`` into the network's targets.

    ``get_feature_names_out`` names the nodes of the last hidden layer (what
    ``transform`` returns by default, and what a Pipeline passes on):
    ``slopesclassifier0``, ``slopesclassifier1``... so ``set_output`` works.
    """

    # Set by the subclasses' __init__ (scikit-learn reads parameters from __init__).
    hidden_layer_sizes: Any
    activation: Any
    optimizer: Any
    learning_rate: Any
    epochs: Any
    batch_size: Any
    early_stopping: Any
    validation_fraction: Any
    patience: Any
    weight_decay: Any
    alpha: Any
    dropout: Any
    schedule: Any
    scale_inputs: Any
    dtype: Any
    random_state: Any
    verbose: Any

    def _output(self, n_outputs: int) -> tuple[str, str]:
        """``(loss, output activation)`` for a network with ``n_outputs`` outputs."""
        raise NotImplementedError

    def _l2(self, alpha: float, rows: float, n_outputs: int) -> float:
        """The ``l2`` of ``fit`` that gives scikit-learn's ``alpha`` for batches of ``rows``."""
        raise NotImplementedError

    # ..................................................................... fitting
    def _new_rng(self) -> np.random.Generator:
        """A generator drawn afresh from ``random_state``: every fit starts the same way."""
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return np.random.default_rng(rs.randint(2**32, dtype=np.uint64))
        return np.random.default_rng(rs)

    def _start(self, settings: Settings, X: np.ndarray, n_outputs: int,
               sample_weight: np.ndarray | None) -> np.ndarray:
        """Make a new network, optimizer, generator (and scaler); return the network's inputs."""
        self._rng = self._new_rng()
        self.scaler_ = None
        if settings.scale_inputs:
            # Numbers near 1e300 overflow the variance: said below, not as NumPy's warning.
            with np.errstate(over="ignore", invalid="ignore"):
                self.scaler_ = StandardScaler().fit(X, sample_weight=sample_weight)
            check_scaler(self.scaler_, X, getattr(self, "feature_names_in_", None))
            X = self.scaler_.transform(X)
        loss, output = self._output(n_outputs)
        sizes = [X.shape[1], *settings.sizes, n_outputs]
        activations = [*settings.activations, output]
        self.network_ = Network([
            Dense(sizes[k], sizes[k + 1], activation=activations[k], seed=self._rng,
                  dtype=settings.dtype, dropout=settings.dropout if k < len(sizes) - 2 else 0.0)
            for k in range(len(sizes) - 1)
        ])
        self._loss = loss
        optimizer = Adam if settings.optimizer == "adam" else SGD
        # One optimizer object for the estimator's life, so partial_fit keeps Adam's moments.
        self._optimizer: Optimizer = optimizer(learning_rate=settings.learning_rate,
                                               weight_decay=settings.weight_decay)
        self.loss_curve_: list[float] = []
        self.validation_loss_curve_: list[float] | None = None
        self._plateau: ReduceLROnPlateau | None = None  # partial_fit's, kept between calls
        self._plateau_rate = settings.learning_rate
        self.n_iter_ = 0
        return X

    def _train(self, settings: Settings, X: np.ndarray, targets: np.ndarray,
               weights: np.ndarray | None, epochs: int, validation: tuple | None = None,
               incremental: bool = False) -> None:
        callbacks: list[Any] = [] if validation is None else [
            EarlyStopping(monitor="val_loss", patience=settings.patience)]
        schedule = get_schedule(copy.deepcopy(settings.schedule))
        if schedule is not None and incremental:
            schedule = self._incremental_schedule(schedule, settings)
        elif schedule is not None:
            callbacks.insert(0, schedule)
        # scikit-learn adds 0.5 * alpha * sum(w ** 2) / (the batch's weight sum) to each
        # batch's loss: l2 = alpha / (2 * rows) for its log loss (see _l2), the rows
        # weighed by their mean sample weight.
        rows = X.shape[0] if settings.batch_size is None else min(settings.batch_size, X.shape[0])
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        l2 = (self._l2(settings.alpha, rows * mean_weight, targets.shape[1] if targets.ndim > 1
                       else 1) if settings.alpha and mean_weight > 0 else 0.0)
        history = train(self.network_, X, targets, loss=self._loss, optimizer=self._optimizer,
                        epochs=epochs, batch_size=settings.batch_size, validation_data=validation,
                        callbacks=callbacks, seed=self._rng, verbose=settings.verbose,
                        sample_weight=weights, l2=l2)
        if schedule is not None and incremental:
            if isinstance(schedule, ReduceLROnPlateau) and history.history.get("loss"):
                self._plateau_rate = schedule.observe(history.history["loss"][-1],
                                                      self._plateau_rate, self.n_iter_)
            self._optimizer.learning_rate = settings.learning_rate
        self.loss_curve_ += history.history.get("loss", [])
        if validation is not None:
            self.validation_loss_curve_ = list(history.history.get("val_loss", []))
        self.n_iter_ += len(history.epoch)

    def _incremental_schedule(self, schedule: Any, settings: Settings) -> Any:
        """The schedule of one ``partial_fit`` call, its rate set on the optimizer: the rate
        of epoch ``n_iter_``. A ReduceLROnPlateau carries over from call to call and
        watches each call's training loss (a partial fit has no validation loss)."""
        if not isinstance(schedule, ReduceLROnPlateau):
            self._optimizer.learning_rate = schedule.rates(settings.learning_rate,
                                                           self.n_iter_ + 1)[-1]
            return schedule
        if schedule.monitor != "loss":
            raise ValueError(
                f"schedule reduces the learning rate when {schedule.monitor!r} stops improving, "
                "but partial_fit logs only the training loss; give the plateau schedule "
                "monitor='loss' (e.g. 'plateau:0.5,5,loss') or use fit")
        if self._plateau is None:
            self._plateau = schedule
        self._optimizer.learning_rate = self._plateau_rate
        return self._plateau

    def _fit(self, X: np.ndarray, targets: np.ndarray, weights: np.ndarray | None,
             settings: Settings, n_outputs: int, sample_weight: np.ndarray | None,
             stratify: np.ndarray | None = None) -> None:
        """Start afresh and train; ``weights`` weigh the loss (sample x class weights),
        ``sample_weight`` alone fits the scaler, as the data's own distribution."""
        X = self._start(settings, X, n_outputs, sample_weight)
        validation = None
        if settings.early_stopping:
            X, targets, weights, validation = self._split(X, targets, weights, settings,
                                                          stratify)
        self._train(settings, X, targets, weights, settings.epochs, validation)

    def _split(self, X: np.ndarray, targets: np.ndarray, weights: np.ndarray | None,
               settings: Settings, labels: np.ndarray | None) -> tuple:
        """Hold out ``validation_fraction`` of the rows (by class when it can), to stop early."""
        n = X.shape[0]
        n_val = math.ceil(n * settings.validation_fraction)
        if n < 2 or n_val >= n:
            raise ValueError(
                f"early_stopping holds out validation_fraction={settings.validation_fraction} of "
                f"the {n} samples, which leaves none to train on; give more samples, a smaller "
                "validation_fraction, or early_stopping=False"
            )
        stratify = None
        if labels is not None:
            counts = np.bincount(labels)
            k = np.count_nonzero(counts)
            if counts[counts > 0].min() >= 2 and k <= n_val <= n - k:
                stratify = labels
        rows = np.arange(n)
        train_rows, val_rows = train_test_split(
            rows, test_size=n_val, random_state=int(self._rng.integers(2**31)), stratify=stratify)
        w_val = None if weights is None else weights[val_rows]
        # Held-out rows that all weigh 0 have no weighted loss (0/0): count them unweighted.
        validation = ((X[val_rows], targets[val_rows]) if w_val is None or not w_val.sum() > 0
                      else (X[val_rows], targets[val_rows], w_val))
        w_train = None if weights is None else weights[train_rows]
        if w_train is not None and not w_train.sum() > 0:
            raise ValueError(
                "sample_weight is zero for every sample left for training after holding out "
                "the validation set of early_stopping; at least one weight must be positive"
            )
        return X[train_rows], targets[train_rows], w_train, validation

    def _inputs(self, X: object) -> np.ndarray:
        """``X`` checked against the fit (features, names) and scaled as in fit."""
        check_is_fitted(self)
        # order="C" everywhere: a DataFrame gives column-ordered arrays, whose rows (what
        # every batch takes) are strided; scikit-learn's conversion is then the one copy.
        X = validate_data(self, X, reset=False, dtype=self.network_.dtype.type, order="C")
        if self.scaler_ is not None:
            X = self.scaler_.transform(X)
        return X

    def _raw_outputs(self, X: object) -> np.ndarray:
        """The network's outputs (n_samples, n_outputs), as float64 (exact for float32 ones)."""
        x = self._inputs(X)  # first: it raises NotFittedError before network_ is looked up
        # scikit-learn's metrics and checks expect float64 predictions.
        return self.network_.predict(x).astype(np.float64, copy=False)

    # .................................................................... transform
    def transform(self, X: object, layer: int = -1) -> np.ndarray:
        """The node values of hidden layer ``layer`` for ``X``.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        layer : int
            Which hidden layer, counted from 0 (the first); ``-1`` is the last
            hidden layer, the one feeding the output layer.

        Returns
        -------
        array (n_samples, hidden_layer_sizes[layer])
            ``a = f(z)`` at that layer's nodes, in the network's dtype. With
            ``set_output(transform="pandas")``, a DataFrame whose columns are
            ``get_feature_names_out()``: the last hidden layer's, so another
            ``layer`` needs the default output.
        """
        check_is_fitted(self)
        n_hidden = len(self.network_.layers) - 1
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) \
                or not -n_hidden <= layer < n_hidden:
            raise ValueError(
                f"layer must be an int from {-n_hidden} to {n_hidden - 1} (the network has "
                f"{n_hidden} hidden layer(s)), got {layer!r}"
            )
        _, values = self.network_.forward(self._inputs(X))
        return values[int(layer) % n_hidden + 1]

    @property
    def _n_features_out(self) -> int:
        """Width of the last hidden layer, for ``get_feature_names_out``."""
        return self.network_.layers[-1].n_in

    def __sklearn_tags__(self):  # -> sklearn.utils.Tags
        tags = super().__sklearn_tags__()
        try:
            name = check_dtype(self.dtype).name
        except ValueError:
            name = "float64"  # a bad dtype is reported by fit, not by the tags
        # transform returns the network's dtype whatever X was: it preserves only that one.
        tags.transformer_tags.preserves_dtype = [name]
        return tags


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Nodes per hidden layer; at least one hidden layer.
    activation : str or list of str, default="relu"
        ``"identity"``, ``"relu"``, ``"leaky_relu"``, ``"sigmoid"`` or ``"tanh"``
        for every hidden layer, or a list with one per hidden layer.
    optimizer : {"adam", "sgd"}, default="adam"
        The update rules of ``slopes.optimizers.Adam`` and ``SGD`` (PyTorch's).
    learning_rate : float, default=0.001
    epochs : int, default=200
        Passes over the training data (fewer when early stopping stops).
    batch_size : int or None, default=32
        Rows per gradient step; None is one step per epoch on all rows.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified for a
        classifier when every class has two rows), stop when their loss has
        not improved for ``patience`` epochs, and go back to the best weights.
        The held-out loss per epoch is ``validation_loss_curve_``.
    validation_fraction : float in (0, 1), default=0.1
    patience : int, default=10
    weight_decay : float, default=0.0
        L2 decay: ``weight_decay * p`` is added to the slope of every weight
        and bias ``p`` before each update (as ``torch.optim`` does).
    alpha : float >= 0, default=0.0
        The L2 penalty of scikit-learn's ``MLPClassifier``/``MLPRegressor``,
        with its meaning: ``0.5 * alpha * sum(w ** 2) / rows`` added to each
        batch's loss (weights, not biases; ``rows`` the batch's, weighed by
        the mean sample weight), so a grid over ``alpha`` carries over. It is
        ``fit``'s ``l2 = alpha / (2 * rows)`` for the classifier's log loss and
        ``alpha / (rows * n_targets)`` for the regressor's mean squared error
        (twice scikit-learn's squared loss). The default is 0, not
        scikit-learn's 1e-4, so that a model without it trains as before;
        give ``alpha=1e-4`` for scikit-learn's default. A last, shorter batch
        of ``r`` rows gets ``alpha / (2 * r)`` in scikit-learn, a little more.
    dropout : float in [0, 1), default=0.0
        Inverted dropout on every hidden layer while training: that fraction
        of the nodes dropped in each step (never in ``predict``).
    schedule : str, dict, schedule or None, default=None
        A learning-rate schedule (:mod:`slopes.schedules`, PyTorch's rates):
        ``"step:10,0.5"``, ``"cosine:100"``, ``"warmup:5+cosine:100"``,
        ``"plateau:0.5,5"``..., a ``to_dict()``, or a schedule object (copied
        for every fit). ``fit`` runs it over its epochs; each ``partial_fit``
        call trains at the rate of epoch ``n_iter_`` (a plateau schedule
        there watches the training loss: ``"plateau:0.5,5,loss"``).
    {class_weight}scale_inputs : bool, default=False
        Standardize each feature inside the estimator (``scaler_``, a
        ``StandardScaler`` fitted with the sample weights). Off by default,
        as scikit-learn expects scaling to be a ``Pipeline`` step.
    dtype : {"float64", "float32"}, default="float64"
        The network's dtype, used for every computation and returned by
        ``transform``; predictions and probabilities are float64 (exact).
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
        ``fit`` draws afresh from it every time, so the same int gives the
        same model on every fit.
    verbose : {0, 1, 2}, default=0
        0 is silent; 1 shows progress; 2 prints a line every few epochs.

    Unscaled inputs train poorly: a feature in the thousands swamps the
    others and saturates the nodes. Standardize in a Pipeline (or set
    ``scale_inputs=True``)::

        make_pipeline(StandardScaler(), {name}())

    Sample weights. ``fit(X, y, sample_weight)`` weighs each row's loss and
    slope exactly: each batch's loss is ``L = sum_i w_i l_i / sum_i w_i`` over
    its rows{class_formula}. With one batch (``batch_size=None``, or fewer
    rows than ``batch_size``), integer weights train exactly as repeating
    rows; a batch whose weights are all 0 is skipped.

    Attributes
    ----------
    network_ : slopes.Network
        The trained network, ready for ``network_.trace(X, y)``,
        ``trace.explain(...)`` and ``slopes.plot.draw_network``; it reads
        inputs scaled by ``scaler_`` when that is set.
    scaler_ : StandardScaler or None
    n_features_in_ : int
    feature_names_in_ : array of str
        Only when ``X`` was a DataFrame with string column names.
    loss_curve_ : list of float
        The training loss per epoch (``partial_fit`` appends one per call).
    validation_loss_curve_ : list of float or None
        The held-out loss per epoch with ``early_stopping``, else None.
    n_iter_ : int
        Epochs run.
"""


class SlopesClassifier(ClassifierMixin, _SlopesEstimator):
    """A multilayer perceptron classifier trained by slopes, for scikit-learn.

    Two classes: one sigmoid output node and binary cross-entropy. More:
    one softmax node per class and categorical cross-entropy. Labels of any
    type (strings too) come back from ``predict`` as given.
    """

    __doc__ = (__doc__ or "") + _PARAMETERS_DOC.replace("{name}", "SlopesClassifier").replace(
        "{class_weight}",
        """class_weight : dict, "balanced" or None, default=None
        A weight per class, multiplying the sample weights of its rows; a class
        left out weighs 1. ``"balanced"`` is ``n_samples / (n_classes *
        count_c)`` with ``count_c`` the (sample-weighted) rows of class c.
    """).replace(
        "{class_formula}",
        ", where ``w_i`` is ``sample_weight[i] * class_weight[y_i]``")

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        epochs: int = 200,
        batch_size: int | None = 32,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        weight_decay: float = 0.0,
        alpha: float = 0.0,
        dropout: float = 0.0,
        schedule: str | dict | Any | None = None,
        class_weight: dict | str | None = None,
        scale_inputs: bool = False,
        dtype: str = "float64",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.weight_decay = weight_decay
        self.alpha = alpha
        self.dropout = dropout
        self.schedule = schedule
        self.class_weight = class_weight
        self.scale_inputs = scale_inputs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _output(self, n_outputs: int) -> tuple[str, str]:
        if n_outputs == 1:
            return "binary_crossentropy", "sigmoid"
        return "categorical_crossentropy", "softmax"

    def _l2(self, alpha: float, rows: float, n_outputs: int) -> float:
        # The log loss is scikit-learn's, term for term: its 0.5 * alpha / rows is l2.
        return alpha / (2 * rows)

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """Class indices 0..k-1 of labels ``y``; every label must be one of ``classes_``."""
        known = np.isin(y, self.classes_)
        if not known.all():
            unknown = np.unique(y[~known])
            raise ValueError(
                f"y has labels {unknown.tolist()!r} that are not among the classes "
                f"{self.classes_.tolist()!r} given to the first partial_fit"
            )
        return np.searchsorted(self.classes_, y)

    def _weights(self, labels: np.ndarray, sample_weight: np.ndarray | None,
                 incremental: bool) -> np.ndarray | None:
        """The sample weights times the class weights, per row; None when both are absent."""
        cw = self.class_weight
        if cw is None:
            return sample_weight
        k = len(self.classes_)
        if isinstance(cw, str) and cw == "balanced":
            if incremental:
                raise ValueError(
                    "class_weight='balanced' needs the class counts of all the data, which "
                    "partial_fit never sees at once; give a dict of class weights instead"
                )
            counts = np.bincount(labels, weights=sample_weight, minlength=k)
            per_class = np.divide(counts.sum(), k * counts, out=np.zeros(k), where=counts > 0)
        elif isinstance(cw, dict):
            classes = self.classes_.tolist()
            for key, value in cw.items():
                check_number(f"class_weight[{key!r}]", value, 0.0, True)
            # A key of no class is fine (a cross-validation fold may miss a rare class),
            # unless some class has no weight as well: then the key is likely a typo.
            unknown = [key for key in cw if key not in set(classes)]
            unweighted = [c for c in classes if c not in cw]
            if unknown and unweighted:
                raise ValueError(
                    f"class_weight has weights for {unknown!r}, which are not among the classes "
                    f"{classes!r}, and none for the classes {unweighted!r}"
                )
            per_class = np.array([float(cw.get(c, 1.0)) for c in classes])
        else:
            raise ValueError(
                f"class_weight must be a dict {{class: weight}}, 'balanced' or None, got {cw!r}"
            )
        weights = per_class[labels]
        if sample_weight is not None:
            weights = weights * sample_weight
        if not weights.sum() > 0:
            raise ValueError(
                "sample_weight times class_weight is zero for every sample; at least one "
                "weight must be positive"
            )
        return weights

    def fit(self, X: object, y: object, sample_weight: object = None) -> SlopesClassifier:
        """Train a new network on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,).

        Every call starts afresh from ``random_state``. ``sample_weight``
        (n_samples,) weighs each row's loss and slope (see the class notes).
        """
        settings = check_params(self)
        check_labels(y)
        X, y = validate_data(self, X, y, dtype=settings.dtype.type, order="C")
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, got 1 class: "
                f"{python_value(self.classes_[0])!r}"
            )
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0],
                                                                   settings.dtype)
        weights = self._weights(labels, sw, incremental=False)
        if weights is not None:
            weighed = np.unique(labels[weights > 0])
            if weighed.size < 2:
                raise ValueError(
                    f"only 1 class ({python_value(self.classes_[weighed[0]])!r}) has samples of "
                    "positive weight; a classifier needs at least 2 classes to learn from"
                )
        self._fit(X, self._encode(labels), weights, settings, self._n_outputs(), sw,
                  stratify=labels)
        return self

    def partial_fit(self, X: object, y: object, classes: object = None,
                    sample_weight: object = None) -> SlopesClassifier:
        """One epoch over ``X``, ``y``, continuing from the network trained so far.

        The first call (on an unfitted estimator) builds the network and needs
        ``classes``, every label ``y`` will ever hold. The optimizer's state
        (Adam's moments) carries over from call to call; early stopping does
        not apply. With ``scale_inputs``, the scaler is fitted on the first
        call's rows and kept.
        """
        first = not hasattr(self, "network_")
        check_labels(y)
        if classes is not None:
            check_labels(classes, "classes")
        if first:
            settings = check_params(self)
            if classes is None:
                raise ValueError(
                    "the first call to partial_fit needs classes, every class label y will "
                    "ever hold (e.g. classes=np.unique(y_all))"
                )
            X, y = validate_data(self, X, y, dtype=settings.dtype.type, order="C")
            check_classification_targets(y)
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes, got 1 class: "
                    f"{python_value(self.classes_[0])!r}"
                )
        else:
            settings = check_params(self)
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)),
                                                          self.classes_):
                raise ValueError(
                    f"classes={np.unique(np.asarray(classes)).tolist()!r} differs from the "
                    f"classes {self.classes_.tolist()!r} of the first call to partial_fit"
                )
            X, y = validate_data(self, X, y, reset=False, dtype=self.network_.dtype.type,
                                 order="C")
            check_classification_targets(y)
        labels = self._targets(y)
        sw = None if sample_weight is None else check_sample_weight(
            sample_weight, X.shape[0], settings.dtype if first else self.network_.dtype)
        weights = self._weights(labels, sw, incremental=True)
        if first:
            X = self._start(settings, X, self._n_outputs(), sw)
        elif self.scaler_ is not None:
            X = self.scaler_.transform(X)
        self._train(settings, X, self._encode(labels), weights, epochs=1, incremental=True)
        return self

    def _n_outputs(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        """The network's targets: 0/1 for one sigmoid output, class indices for softmax."""
        return labels.astype(np.float64) if len(self.classes_) == 2 else labels

    def predict_proba(self, X: object) -> np.ndarray:
        """Probabilities (n_samples, n_classes), columns in the order of ``classes_``.

        Two classes: ``[1 - p, p]`` from the sigmoid output ``p``; more: the
        softmax outputs.
        """
        out = self._raw_outputs(X)
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict(self, X: object) -> np.ndarray:
        """The most probable class of each row, as a label of ``classes_`` (n_samples,)."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class SlopesRegressor(RegressorMixin, _SlopesEstimator):
    """A multilayer perceptron regressor trained by slopes, for scikit-learn.

    An identity output layer with one node per target and the mean squared
    error; ``y`` may have several columns (n_samples, n_targets). Targets far
    from unit size train slowly: scale them too, e.g. with
    ``TransformedTargetRegressor(regressor=..., transformer=StandardScaler())``.
    """

    __doc__ = (__doc__ or "") + _PARAMETERS_DOC.replace("{name}", "SlopesRegressor").replace(
        "{class_weight}", "").replace("{class_formula}", " (``l_i`` averaged over the targets)")

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        epochs: int = 200,
        batch_size: int | None = 32,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        weight_decay: float = 0.0,
        alpha: float = 0.0,
        dropout: float = 0.0,
        schedule: str | dict | Any | None = None,
        scale_inputs: bool = False,
        dtype: str = "float64",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.weight_decay = weight_decay
        self.alpha = alpha
        self.dropout = dropout
        self.schedule = schedule
        self.scale_inputs = scale_inputs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _output(self, n_outputs: int) -> tuple[str, str]:
        return "mse", "identity"

    def _l2(self, alpha: float, rows: float, n_outputs: int) -> float:
        # scikit-learn's squared loss is half the mse, and its slope (p - y) / rows leaves
        # out the mean over the outputs: slopes' mse slope is 2 / n_outputs times it, so the
        # penalty's slope is scaled alike to descend scikit-learn's objective.
        return alpha / (rows * n_outputs)

    def fit(self, X: object, y: object, sample_weight: object = None) -> SlopesRegressor:
        """Train a new network on ``X`` (n_samples, n_features) and ``y`` (n_samples[, n_targets]).

        Every call starts afresh from ``random_state``. ``sample_weight``
        (n_samples,) weighs each row's loss and slope (see the class notes).
        """
        settings = check_params(self)
        X, y = validate_data(self, X, y, dtype=settings.dtype.type, order="C",
                             multi_output=True, y_numeric=True)
        self._single_target = y.ndim == 1
        targets = y.reshape(len(y), -1).astype(settings.dtype)
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0],
                                                                   settings.dtype)
        self._fit(X, targets, sw, settings, targets.shape[1], sw)
        return self

    def partial_fit(self, X: object, y: object, sample_weight: object = None) -> SlopesRegressor:
        """One epoch over ``X``, ``y``, continuing from the network trained so far.

        The first call (on an unfitted estimator) builds the network. The
        optimizer's state (Adam's moments) carries over from call to call;
        early stopping does not apply. With ``scale_inputs``, the scaler is
        fitted on the first call's rows and kept.
        """
        first = not hasattr(self, "network_")
        settings = check_params(self)
        dtype = settings.dtype if first else self.network_.dtype
        X, y = validate_data(self, X, y, reset=first, dtype=dtype.type, order="C",
                             multi_output=True, y_numeric=True)
        targets = y.reshape(len(y), -1).astype(dtype)
        if not first and targets.shape[1] != self.network_.n_outputs:
            raise ValueError(
                f"y has {targets.shape[1]} target(s) per sample, but this regressor was "
                f"started on {self.network_.n_outputs}"
            )
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0],
                                                                   dtype)
        if first:
            self._single_target = y.ndim == 1
            X = self._start(settings, X, targets.shape[1], sw)
        elif self.scaler_ is not None:
            X = self.scaler_.transform(X)
        self._train(settings, X, targets, sw, epochs=1, incremental=True)
        return self

    def predict(self, X: object) -> np.ndarray:
        """Predictions (n_samples,) for one target, (n_samples, n_targets) for several."""
        out = self._raw_outputs(X)
        return out[:, 0] if self._single_target else out

    def __sklearn_tags__(self):  # -> sklearn.utils.Tags
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
