"""Synthetic checks of the Yamamoto-Onuki non-affine integrator (no MD)."""

from __future__ import annotations

import numpy as np

from taulc.md import NonAffineIntegrator


def _affine_path(t, rate, y0, amp, omega):
    """A particle that only follows the flow u_x = rate*y while oscillating in y."""
    y = y0[None, :] + amp[None, :] * np.sin(omega * t)[:, None]
    x = rate * (y0[None, :] * t[:, None] + amp[None, :] * (1 - np.cos(omega * t))[:, None] / omega)
    r = np.zeros(t.shape + y0.shape + (3,))
    r[..., 0], r[..., 1] = x, y
    return r, y


def _integrate(r, t, rate):
    integ = NonAffineIntegrator(r[0])
    out = [integ.update(r[i], rate, t[i] - t[i - 1]) for i in range(1, len(t))]
    return np.array(out)


def test_following_the_flow_is_zero_and_converges():
    rng = np.random.default_rng(0)
    y0, amp = rng.uniform(0, 10, 20), rng.uniform(0, 0.5, 20)
    rate, omega = 0.1, 2.0
    errs = []
    for h in (0.1, 0.05, 0.025):
        t = np.arange(0.0, 50.0 + h / 2, h)
        r, _ = _affine_path(t, rate, y0, amp, omega)
        na = _integrate(r, t, rate)
        np.testing.assert_allclose(na[..., 1], r[1:, :, 1] - r[0, :, 1])  # y is all non-affine
        errs.append(np.abs(na[..., 0]).max())
    assert errs[0] < 1e-3
    assert errs[0] / errs[2] > 10  # second order: ~16x for 4x smaller step
    # The comoving shortcut x - rate*t*y drifts by rate * t * Δy (several σ here)
    t = np.arange(0.0, 50.0, 0.1)
    r, y = _affine_path(t, rate, y0 + 0.0, amp, omega)
    shortcut = r[-1, :, 0] - r[0, :, 0] - rate * t[-1] * y[-1]
    assert np.abs(shortcut).max() > 0.5


def test_exact_window_integral_and_rate_changes():
    t = np.linspace(0.0, 4.0, 41)
    y0, amp = np.array([1.0, 3.0]), np.array([0.2, 0.0])
    r, y = _affine_path(t, 0.2, y0, amp, 1.5)
    integ = NonAffineIntegrator(r[0])
    for i in range(1, len(t)):
        a, b = t[i - 1], t[i]
        exact = y0 * (b - a) - amp * (np.cos(1.5 * b) - np.cos(1.5 * a)) / 1.5
        na = integ.update(r[i], 0.2, b - a, y_integral=exact)
    assert np.abs(na[:, 0]).max() < 1e-12
    # a genuine non-affine hop is kept, and zero rate adds nothing affine
    integ = NonAffineIntegrator(np.zeros((1, 3)))
    na = integ.update(np.array([[0.7, 2.0, 0.0]]), 0.0, 1.0)
    np.testing.assert_allclose(na, [[0.7, 2.0, 0.0]])
