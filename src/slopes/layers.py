"""The dense (fully connected) layer.

A dense layer maps the values of the ``n_in`` nodes feeding it to the values
of its ``n_out`` nodes::

    z = x @ weights + bias        # (n_samples, n_out)
    a = activation(z)             # the layer's node values

``weights[i, j]`` is the weight from node ``i`` of the layer before to node
``j`` of this layer, as in the course (``w_ij``, one row per input node, one
column per node fed).
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS, Activation, get_activation, ones_vector
from .initializers import INITIALIZERS, initial_weights, make_rng
from .penalties import check_dropout, check_penalty
from .validation import check_bool, check_seed, short_repr

__all__ = ["Dense", "check_layers"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_dtype(dtype: object) -> np.dtype:
    """``np.float32`` or ``np.float64`` as a dtype; anything else is a ``ValueError``."""
    if dtype is None:
        # np.dtype(None) is float64: refuse it rather than choose silently.
        raise ValueError("dtype must be float32 or float64, got None")
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _first_text(value: object) -> str | bytes | None:
    """The first str or bytes entry of ``value`` (nested lists or an array), else None."""
    try:
        items = np.asarray(value, dtype=object).ravel()
    except (TypeError, ValueError):
        return None  # ragged lists: np.array reports them below
    for item in items:
        if isinstance(item, (str, bytes)):
            return item
    return None


class Dense:
    """A fully connected layer with ``weights`` (n_in, n_out) and ``bias`` (n_out,) or None.

    Parameters
    ----------
    n_in, n_out : int
        Number of nodes feeding the layer, and number of nodes in it.
    activation : str or Activation
        ``"identity"``, ``"relu"``, ``"leaky_relu"``, ``"sigmoid"``, ``"tanh"``,
        ``"softmax"`` or an :class:`~slopes.activations.Activation` object.
    bias : bool
        Whether the layer adds a bias to each node (the course's networks
        have none: ``bias=False``).
    init : str
        ``"normal"`` (std ``1/sqrt(n_in)``, the course's choice),
        ``"glorot_uniform"`` or ``"he_normal"``. Biases start at zero.
    seed : int, numpy Generator or None
        Seed of the random initial weights.
    dtype : float32 or float64
        Every computation of the layer runs in this dtype.
    dropout : float in [0, 1)
        Inverted dropout on the layer's output nodes while training: in each
        batch every node of every row is dropped (its value set to 0) with
        probability ``dropout`` and the kept ones are scaled by ``1 / (1 -
        dropout)``. Never in :meth:`Network.predict`, in the trace of a
        prediction or in an export. Only for hidden layers.
    l1, l2 : float >= 0 or None
        This layer's weight penalties, ``l1 * sum|w| + l2 * sum w^2`` (see
        :mod:`slopes.penalties`); None takes the ``l1`` and ``l2`` given to
        ``fit``.

    Examples
    --------
    >>> layer = Dense(2, 1, activation="relu", bias=False)
    >>> layer.weights = np.array([[1.0], [1.0]])
    >>> layer.weights.shape
    (2, 1)
    """

    #: Defaults for layers made without ``__init__`` (``Dense.__new__`` and a copied ``__dict__``).
    dropout: float = 0.0
    l1: float | None = None
    l2: float | None = None

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation = "identity",
        bias: bool = True,
        init: str = "normal",
        seed: int | np.random.Generator | None = None,
        dtype: object = np.float64,
        dropout: float = 0.0,
        l1: float | None = None,
        l2: float | None = None,
    ) -> None:
        self.n_in = _positive_int("n_in", n_in)
        self.n_out = _positive_int("n_out", n_out)
        if activation is not None and not isinstance(activation, (str, Activation)):
            raise TypeError(
                f"activation must be a name ({', '.join(ACTIVATIONS)}) or an Activation "
                f"object, got {short_repr(activation)} ({type(activation).__name__})"
            )
        self.activation = get_activation(activation)
        # bias="no" is truthy: without this check it would silently add a bias.
        check_bool("bias", bias)
        if not isinstance(init, str):
            raise TypeError(
                f"init must be a name ({', '.join(INITIALIZERS)}), got {short_repr(init)} "
                f"({type(init).__name__})"
            )
        check_seed(seed)
        self.dtype = as_float_dtype(dtype)
        self.init = init
        self.dropout = check_dropout("dropout", dropout)
        self.l1 = None if l1 is None else check_penalty("l1", l1)
        self.l2 = None if l2 is None else check_penalty("l2", l2)
        self._weights = initial_weights(init, self.n_in, self.n_out, make_rng(seed), self.dtype)
        self._bias = np.zeros(self.n_out, dtype=self.dtype) if bias else None
        # Filled by backpropagation (Network.trace / fit), same shapes as the parameters.
        self.weight_slopes: np.ndarray | None = None
        self.bias_slopes: np.ndarray | None = None

    # Assignable parameters, checked so a wrong shape fails here and not deep in a matmul.
    @property
    def weights(self) -> np.ndarray:
        """Weights of shape ``(n_in, n_out)``; ``weights[i, j]`` goes from node i to node j."""
        return self._weights

    @weights.setter
    def weights(self, value: object) -> None:
        self._weights = self._checked("weights", value, (self.n_in, self.n_out))

    @property
    def bias(self) -> np.ndarray | None:
        """Bias of shape ``(n_out,)``, or None for a layer without bias."""
        return self._bias

    @bias.setter
    def bias(self, value: object) -> None:
        if value is None:
            self._bias = None
        else:
            self._bias = self._checked("bias", value, (self.n_out,))

    def _checked(self, name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
        # Text is refused even when it reads as numbers: np.array(['0.5'], dtype=float)
        # would take it, and weights read as text mean the file was parsed wrongly.
        text = (value if isinstance(value, (str, bytes))
                else _first_text(value) if not isinstance(value, np.ndarray)
                or value.dtype.kind in "USO" else None)
        if text is not None:
            given = "" if isinstance(value, np.ndarray) else f" in {short_repr(value)}"
            raise TypeError(f"{name} must be numeric, got text {short_repr(text)}{given}; "
                            f"expected an array of shape {shape} of numbers")
        try:
            arr = np.array(value, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric, got {value!r}") from exc
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, but this layer expects {shape}")
        bad = ~np.isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            index = ", ".join(map(str, where))
            raise ValueError(f"{name} contains {int(bad.sum())} NaN or infinite value(s), the "
                             f"first {arr[where]} at {name}[{index}]; expected finite numbers")
        return arr

    @property
    def has_bias(self) -> bool:
        return self._bias is not None

    def parameters(self) -> list[np.ndarray]:
        """The layer's parameter arrays: ``[weights]`` or ``[weights, bias]``."""
        return [self._weights] if self._bias is None else [self._weights, self._bias]

    def parameter_slopes(self) -> list[np.ndarray]:
        """The slopes of :meth:`parameters`, in the same order (after a backward pass)."""
        if self.weight_slopes is None:
            raise ValueError("this layer has no slopes yet; run Network.trace or fit first")
        if self._bias is None:
            return [self.weight_slopes]
        return [self.weight_slopes, self.bias_slopes]

    def node_inputs(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``z = x @ weights + bias`` (n_samples, n_out), in the layer's dtype.

        ``out``, when given, is a C-contiguous ``(n_samples, n_out)`` array of
        the layer's dtype to write ``z`` into (the fit loop's buffers).
        """
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        z = np.matmul(x, self._weights, out=out)
        if self._bias is not None:
            z += self._bias
        return z

    def forward(self, x: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(z, a)`` for node values ``x`` of shape ``(n_samples, n_in)``, in the layer's dtype.

        ``out`` is None or ``(z_out, a_out)``, arrays to write ``z`` and ``a`` into.
        """
        if out is None:
            z = self.node_inputs(x)
            return z, self.activation.value(z)
        z = self.node_inputs(x, out[0])
        return z, self.activation.value(z, out=out[1])

    def backward(
        self, x: np.ndarray, input_slope: np.ndarray, need_node_slope: bool = True,
        out: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Slopes of the weights, the bias and the feeding nodes.

        Given ``input_slope = dL/dz`` (n_samples, n_out), the slope of weight
        ``(i, j)`` sums over the samples the value of node ``i`` feeding it
        times the slope at the node ``j`` it feeds::

            weight_slopes = x.T @ input_slope          # (n_in, n_out)
            bias_slopes = ones @ input_slope           # (n_out,): the sum over the samples
            node_slope = input_slope @ weights.T          # (n_samples, n_in)

        The slope of a feeding node is the sum over the weights leaving it.
        ``out`` is None or three arrays (or None) to write the three slopes into.
        """
        w_out, b_out, x_out = (None, None, None) if out is None else out
        weight_slopes = np.matmul(x.T, input_slope, out=w_out)
        bias_slopes = None
        if self._bias is not None:
            # The sum over the samples as a product with ones: one BLAS call, several
            # times faster than input_slope.sum(axis=0) when the layer has few nodes.
            ones = ones_vector(input_slope.shape[0], input_slope.dtype)
            bias_slopes = np.matmul(ones, input_slope, out=b_out)
        node_slope = None
        if need_node_slope:
            if self.n_out == 1:  # an outer product: a multiplication, no BLAS call
                node_slope = np.multiply(input_slope, self._weights.T, out=x_out)
            else:
                node_slope = np.matmul(input_slope, self._weights.T, out=x_out)
        return weight_slopes, bias_slopes, node_slope

    def astype(self, dtype: object) -> Dense:
        """A copy of the layer whose parameters and computations use ``dtype``."""
        new = Dense.__new__(Dense)
        new.__dict__.update(self.__dict__)
        new.dtype = as_float_dtype(dtype)
        new._weights = self._weights.astype(new.dtype, copy=True)
        new._bias = None if self._bias is None else self._bias.astype(new.dtype, copy=True)
        new.weight_slopes = None
        new.bias_slopes = None
        return new

    def __repr__(self) -> str:
        lines = [
            f"Dense({self.n_in}, {self.n_out}, activation={self.activation.name!r}, "
            f"bias={self.has_bias}, dtype={self.dtype.name}{self._extras()})",
            f"  weights={np.array2string(self._weights, precision=4, threshold=20)}",
        ]
        if self.weight_slopes is not None:
            slopes = np.array2string(self.weight_slopes, precision=4, threshold=20)
            lines.append(f"  weight_slopes={slopes}")
        return "\n".join(lines)


    def penalty_coefficients(self, l1: float = 0.0, l2: float = 0.0) -> tuple[float, float]:
        """``(l1, l2)`` this layer's weights are penalized with: its own, or the fit's when None."""
        return (l1 if self.l1 is None else self.l1, l2 if self.l2 is None else self.l2)

    def _extras(self) -> str:
        """``", dropout=0.5, l2=0.001"``: the training settings that differ from the defaults."""
        extras = [f"{name}={value:g}" for name, value in (("dropout", self.dropout),
                                                          ("l1", self.l1), ("l2", self.l2))
                  if value]
        return "".join(", " + text for text in extras)


def check_layers(layers: object) -> list:
    """``layers`` of ``Network(layers)`` as a list of Dense layers; a TypeError names any other."""
    if isinstance(layers, Dense):
        raise TypeError(
            "layers must be a list of Dense layers, got one Dense; write Network([Dense(...)])"
        )
    if isinstance(layers, type):
        raise TypeError(
            f"layers must be a list of Dense layers, got the class {layers.__name__}; "
            f"write Network([Dense(n_in, n_out)])"
        )
    if isinstance(layers, (str, bytes, dict)) or not hasattr(layers, "__iter__"):
        raise TypeError(
            f"layers must be a list of Dense layers, got {short_repr(layers)} "
            f"({type(layers).__name__})"
        )
    layers = list(layers)
    for k, layer in enumerate(layers):
        if isinstance(layer, type) and issubclass(layer, Dense):
            raise TypeError(
                f"layers[{k}] must be a Dense layer, got the class {layer.__name__}; "
                f"write {layer.__name__}(n_in, n_out) to make one"
            )
        if not isinstance(layer, Dense):
            raise TypeError(f"layers[{k}] must be a Dense layer, got {short_repr(layer)} "
                            f"({type(layer).__name__}); an activation goes inside its layer: "
                            "Dense(n_in, n_out, activation='relu')")
    return layers
