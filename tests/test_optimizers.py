"""One step of each update rule, checked against numbers worked out by hand."""

import numpy as np
import pytest

from slopes.optimizers import SGD, Adam, get_optimizer


def params_and_slopes():
    return [np.array([1.0, -2.0])], [np.array([0.5, 0.25])]


def test_sgd_step_is_learning_rate_times_slope():
    p, g = params_and_slopes()
    SGD(learning_rate=0.1).step(p, g)
    # 1 - 0.1 * 0.5 = 0.95 ; -2 - 0.1 * 0.25 = -2.025
    np.testing.assert_allclose(p[0], [0.95, -2.025], rtol=0, atol=1e-15)


def test_sgd_momentum_two_steps():
    p, g = params_and_slopes()
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.step(p, g)
    # first step: buf = g = [0.5, 0.25]; p = [1, -2] - 0.1 * buf = [0.95, -2.025]
    np.testing.assert_allclose(p[0], [0.95, -2.025], atol=1e-15)
    opt.step(p, [np.array([1.0, -1.0])])
    # buf = 0.9 * [0.5, 0.25] + [1, -1] = [1.45, -0.775]
    # p = [0.95, -2.025] - 0.1 * [1.45, -0.775] = [0.805, -1.9475]
    np.testing.assert_allclose(p[0], [0.805, -1.9475], atol=1e-15)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [1.45, -0.775], atol=1e-15)


def test_sgd_nesterov_two_steps():
    p, g = params_and_slopes()
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.step(p, g)
    # buf = g; step uses g + 0.9 * buf = 1.9 * g = [0.95, 0.475]
    # p = [1, -2] - 0.1 * [0.95, 0.475] = [0.905, -2.0475]
    np.testing.assert_allclose(p[0], [0.905, -2.0475], atol=1e-15)
    opt.step(p, [np.array([1.0, -1.0])])
    # buf = 0.9 * [0.5, 0.25] + [1, -1] = [1.45, -0.775]
    # step uses [1, -1] + 0.9 * buf = [2.305, -1.6975]
    # p = [0.905, -2.0475] - 0.1 * [2.305, -1.6975] = [0.6745, -1.87775]
    np.testing.assert_allclose(p[0], [0.6745, -1.87775], atol=1e-15)


def test_sgd_weight_decay_adds_to_slope():
    p, g = params_and_slopes()
    SGD(learning_rate=0.1, weight_decay=0.5).step(p, g)
    # g + 0.5 * p = [0.5 + 0.5, 0.25 - 1.0] = [1.0, -0.75]; p - 0.1 * that = [0.9, -1.925]
    np.testing.assert_allclose(p[0], [0.9, -1.925], atol=1e-15)


def test_adam_first_step_moves_by_learning_rate_times_sign():
    p, g = params_and_slopes()
    opt = Adam(learning_rate=0.1)
    opt.step(p, g)
    # t = 1: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g, sqrt(v / (1 - 0.999)) = |g|
    # p -= 0.1 * g / (|g| + 1e-8)
    expected = np.array([1.0, -2.0]) - 0.1 * np.array([0.5, 0.25]) / (
        np.array([0.5, 0.25]) + 1e-8)
    np.testing.assert_allclose(p[0], expected, rtol=1e-14)
    np.testing.assert_allclose(p[0], [0.9, -2.1], atol=1e-8)


def test_adam_second_step_by_hand():
    p, g = params_and_slopes()
    opt = Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step(p, g)
    g2 = np.array([1.0, -1.0])
    opt.step(p, [g2])
    g1 = np.array([0.5, 0.25])
    m = 0.9 * (0.1 * g1) + 0.1 * g2          # [0.145, -0.0775]
    v = 0.999 * (0.001 * g1**2) + 0.001 * g2**2
    m_hat = m / (1 - 0.9**2)
    v_hat = v / (1 - 0.999**2)
    first = np.array([1.0, -2.0]) - 0.1 * g1 / (g1 + 1e-8)
    expected = first - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p[0], expected, rtol=1e-12)


def test_adam_weight_decay_is_l2_added_to_slope():
    p, g = params_and_slopes()
    Adam(learning_rate=0.1, weight_decay=1.0).step(p, g)
    # g + p = [1.5, -1.75]; first Adam step moves by lr * sign
    np.testing.assert_allclose(p[0], [0.9, -1.9], atol=1e-8)


def test_state_is_created_on_first_step_and_aligned():
    opt = Adam()
    assert opt.state is None
    params = [np.zeros((2, 3)), np.zeros(3)]
    opt.step(params, [np.ones((2, 3)), np.ones(3)])
    assert [s["m"].shape for s in opt.state] == [(2, 3), (3,)]
    with pytest.raises(ValueError, match="holds state for 2 parameters, but got 1"):
        opt.step([np.zeros(2)], [np.ones(2)])


def test_float32_state_stays_float32():
    p = [np.ones(3, dtype=np.float32)]
    opt = Adam()
    opt.step(p, [np.full(3, 0.5, dtype=np.float32)])
    assert p[0].dtype == np.float32 and opt.state[0]["m"].dtype == np.float32


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(learning_rate=-0.1), r"learning_rate must be > 0, got -0.1"),
        (lambda: SGD(learning_rate=0), r"learning_rate must be > 0, got 0"),
        (lambda: SGD(momentum=-1), r"momentum must be >= 0, got -1"),
        (lambda: SGD(nesterov=True), r"nesterov=True needs momentum > 0, got momentum=0.0"),
        (lambda: Adam(beta1=1.0), r"beta1 must be in \[0, 1\), got 1.0"),
        (lambda: Adam(eps=-1e-8), r"eps must be >= 0, got -1e-08"),
        (lambda: Adam(weight_decay=-0.5), r"weight_decay must be >= 0, got -0.5"),
        (lambda: Adam(learning_rate="fast"), r"learning_rate must be a number, got 'fast'"),
        (lambda: get_optimizer("rmsprop"), r"unknown optimizer 'rmsprop'; valid names are: sgd"),
        (lambda: get_optimizer(SGD(), learning_rate=0.5), r"learning_rate=0.5 was given to fit"),
    ],
)
def test_invalid_values_are_repeated_in_the_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_get_optimizer_defaults():
    assert get_optimizer("sgd").learning_rate == 0.01
    assert get_optimizer("adam").learning_rate == 0.001
    assert get_optimizer("Adam", 0.5).learning_rate == 0.5
    with pytest.raises(TypeError, match=r"optimizer must be a name .* object, got 3 \(int\)"):
        get_optimizer(3)
