"""Penalties, weight decay, AdamW and clipping against PyTorch: the same weights after 100 steps.

Random float64 networks train 100 steps in both libraries from the same
initial weights; every weight and bias must agree to 1e-12 relative (the
largest difference over the largest weight of each array). PyTorch is never a
dependency: this module is skipped, saying why, where it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from slopes import Network
from slopes.optimizers import SGD, Adam, AdamW

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (never a dependency of slopes); these tests "
    "compare the penalties, weight decay, AdamW and clipping with it")

STEPS = 100
RTOL = 1e-12
#: The largest relative difference of each comparison, printed with -s (for the report).
MAX_DIFFERENCES: dict[str, float] = {}


def _problem(seed: int, sizes=(5, 7, 4, 3), acts=("tanh", "sigmoid")):
    rng = np.random.default_rng(seed)
    net = Network.mlp(list(sizes), activation=acts[0], output="identity", seed=seed)
    # A second hidden activation, so two kinds of slope are in play.
    net.layers[1].activation = Network.mlp([1, 1, 1], activation=acts[1]).layers[0].activation
    for layer in net.layers:
        layer.bias = rng.normal(size=layer.n_out) * 0.1
    x = rng.normal(size=(32, sizes[0]))
    y = rng.normal(size=(32, sizes[-1]))
    return net, x, y


def _torch_model(net: Network):
    modules = []
    names = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
    for k, layer in enumerate(net.layers):
        linear = torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias.copy()))
        modules.append(linear)
        if k < len(net.layers) - 1:
            modules.append(names[layer.activation.name]())
    return torch.nn.Sequential(*modules)


def _train_torch(model, x, y, make_opt, l1=0.0, l2=0.0, clip_norm=None, clip_value=None,
                 batch=None):
    opt = make_opt(model.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    n = x.shape[0]
    size = n if batch is None else batch
    for _ in range(STEPS // (n // size)):
        for start in range(0, n, size):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xt[start:start + size]),
                                                yt[start:start + size])
            if l1:
                loss = loss + l1 * sum(w.abs().sum() for w in weights)
            if l2:
                loss = loss + l2 * sum((w ** 2).sum() for w in weights)
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            if clip_value is not None:
                torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
            opt.step()


def _assert_same(name: str, net: Network, model) -> None:
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    worst = 0.0
    for layer, linear in zip(net.layers, linears, strict=True):
        for mine, theirs in ((layer.weights, linear.weight.detach().numpy().T),
                             (layer.bias, linear.bias.detach().numpy())):
            worst = max(worst, float(np.abs(mine - theirs).max() / np.abs(theirs).max()))
    MAX_DIFFERENCES[name] = worst
    print(f"{name}: max relative difference {worst:.3g}")
    assert worst < RTOL, f"{name}: {worst:.3g}"


def _compare(name, seed, slopes_opt, torch_opt, batch=None, torch_settings=None, **settings):
    net, x, y = _problem(seed)
    model = _torch_model(net)
    epochs = STEPS // (x.shape[0] // (batch or x.shape[0]))
    net.fit(x, y, loss="mse", optimizer=slopes_opt, epochs=epochs, batch_size=batch,
            shuffle=False, verbose=0, **settings)
    if torch_settings is None:
        torch_settings = settings
    _train_torch(model, x, y, torch_opt, batch=batch, **torch_settings)
    _assert_same(name, net, model)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_equals_torch(momentum):
    _compare(f"SGD(weight_decay, momentum={momentum})", 1, SGD(0.1, momentum=momentum,
             weight_decay=0.05),
             lambda p: torch.optim.SGD(p, lr=0.1, momentum=momentum, weight_decay=0.05))


def test_adam_weight_decay_equals_torch():
    _compare("Adam(weight_decay)", 2, Adam(0.01, weight_decay=0.05),
             lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.05))


@pytest.mark.parametrize("weight_decay", [0.01, 0.3])
def test_adamw_equals_torch(weight_decay):
    _compare(f"AdamW(weight_decay={weight_decay})", 3, AdamW(0.01, weight_decay=weight_decay),
             lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=weight_decay))


def test_adamw_default_is_torchs():
    assert AdamW().weight_decay == torch.optim.AdamW([torch.zeros(1)]).defaults["weight_decay"]
    assert AdamW().learning_rate == torch.optim.AdamW([torch.zeros(1)]).defaults["lr"]


def test_l2_equals_torch_loss_plus_penalty():
    _compare("l2 (loss + l2 sum w^2)", 4, SGD(0.1),
             lambda p: torch.optim.SGD(p, lr=0.1), l2=0.03)


def test_l2_on_minibatches_with_adam_equals_torch():
    _compare("l2, Adam, batches of 8", 5, Adam(0.01),
             lambda p: torch.optim.Adam(p, lr=0.01), batch=8, l2=0.02)


def test_l2_with_biases_is_torchs_coupled_weight_decay():
    # l2 = weight_decay / 2 with penalize_bias=True is PyTorch's weight_decay.
    _compare("l2 = wd / 2 vs SGD(weight_decay=wd)", 6, SGD(0.1),
             lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.06), torch_settings={},
             l2=0.03, penalize_bias=True)


def test_l1_equals_torch():
    _compare("l1 (loss + l1 sum |w|)", 7, SGD(0.05),
             lambda p: torch.optim.SGD(p, lr=0.05), l1=0.002)


def test_clip_norm_equals_clip_grad_norm():
    _compare("clip_norm", 8, SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1), clip_norm=0.05)


def test_clip_value_equals_clip_grad_value():
    _compare("clip_value", 9, SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1), clip_value=0.01)


def test_penalty_and_clipping_together_equal_torch():
    _compare("l2 + clip_norm, Adam", 10, Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01),
             l2=0.01, clip_norm=0.1)
