"""Train one model in slopes and in PyTorch from the same weights and compare the numbers.

Checks that SGD (plain, momentum, Nesterov, weight decay) and Adam (with and
without weight decay) follow torch.optim's update rules exactly: after a few
hundred float64 steps the weights agree to rounding error.

Run (torch is never a dependency of slopes; install it for this script only):
    .venv/bin/pip install torch==2.13.0
    .venv/bin/python benchmarks/compare_torch.py
"""

from __future__ import annotations

import numpy as np

import slopes
from slopes.optimizers import SGD, Adam

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise SystemExit("this comparison needs torch: pip install torch==2.13.0") from exc

torch.set_default_dtype(torch.float64)


def torch_copy(net: slopes.Network) -> torch.nn.Sequential:
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "identity": torch.nn.Identity}
    modules = []
    for layer in net.layers:
        linear = torch.nn.Linear(layer.n_in, layer.n_out, bias=layer.has_bias)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T.copy()))
            if layer.has_bias:
                linear.bias.copy_(torch.from_numpy(layer.bias.copy()))
        modules += [linear, acts[layer.activation.name]()]
    return torch.nn.Sequential(*modules)


def compare(name: str, make_slopes_opt, make_torch_opt, steps: int = 300) -> float:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    y = np.sin(X @ rng.normal(size=5))[:, None]
    net = slopes.Network.mlp([5, 8, 8, 1], activation="tanh", seed=0)
    model = torch_copy(net)
    opt_t = make_torch_opt(model.parameters())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(steps):
        opt_t.zero_grad()
        torch.nn.functional.mse_loss(model(Xt), yt).backward()
        opt_t.step()
    opt_s = make_slopes_opt()
    for _ in range(steps):
        net.trace(X, y, loss="mse")
        opt_s.step(net.parameters(),
                   [g for layer in net.layers for g in layer.parameter_slopes()])
    torch_weights = [m.weight.detach().numpy().T for m in model if isinstance(m, torch.nn.Linear)]
    diff = max(float(np.max(np.abs(layer.weights - w)))
               for layer, w in zip(net.layers, torch_weights, strict=True))
    print(f"{name:<28} max |w_slopes - w_torch| after {steps} steps: {diff:.2e}")
    return diff


def main() -> None:
    cases = [
        ("SGD", lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        ("SGD momentum", lambda: SGD(0.05, momentum=0.9),
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        ("SGD nesterov + decay", lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-2),
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
        ("Adam", lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        ("Adam + weight decay", lambda: Adam(0.01, weight_decay=1e-2),
         lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-2)),
    ]
    worst = max(compare(*case) for case in cases)
    print(f"largest difference: {worst:.2e} ({'same numbers' if worst < 1e-10 else 'DIFFERENT'})")


if __name__ == "__main__":
    main()
