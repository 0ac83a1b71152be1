"""Tests for simlib.analysis.statistics (block averaging)."""

import numpy as np
import pytest
from scipy.signal import lfilter

from simlib.analysis import block_average, mean_with_error


def ar1(phi, n, seed, burn_in=10_000):
    """Stationary AR(1) series x_t = phi x_{t-1} + e_t, e ~ N(0, 1)."""
    noise = np.random.default_rng(seed).normal(size=n + burn_in)
    return lfilter([1.0], [1.0, -phi], noise)[burn_in:]


def test_exact_levels_on_small_series():
    res = block_average([1.0, 2.0, 3.0, 4.0, 5.0], min_blocks=1)
    # level 0: 5 samples; level 1: pairs (1.5, 3.5), the odd 5th sample dropped
    assert res.block_sizes.tolist() == [1, 2]
    assert res.n_blocks.tolist() == [5, 2]
    assert res.standard_errors[0] == pytest.approx(np.sqrt(2.5 / 5), rel=1e-14)
    assert res.standard_errors[1] == pytest.approx(1.0, rel=1e-14)
    assert res.mean == 3.0
    assert res.standard_error_errors[1] == pytest.approx(1.0 / np.sqrt(2.0), rel=1e-14)


def test_independent_gaussian_error_is_sigma_over_sqrt_n():
    sigma, n = 2.0, 2**16
    x = np.random.default_rng(11).normal(3.0, sigma, size=n)
    res = mean_with_error(x)
    assert res.plateau_found
    # The plateau has >= 512 blocks, so the error estimate itself is uncertain by
    # about 1/sqrt(2 * 511) = 3 %; allow 10 %.
    assert res.error == pytest.approx(sigma / np.sqrt(n), rel=0.10)
    assert res.statistical_inefficiency == pytest.approx(1.0, abs=0.2)
    assert abs(res.mean - 3.0) < 4 * sigma / np.sqrt(n)


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_ar1_statistical_inefficiency(phi):
    n = 2**20
    x = ar1(phi, n, seed=int(phi * 100))
    res = block_average(x)
    expected = (1 + phi) / (1 - phi)
    assert res.plateau_found
    # The plateau has >= 512 blocks: s (~ error^2) is uncertain by about
    # 2 / sqrt(2 * 511) = 6 %; truncation bias is ~2 %. Allow 15 %.
    assert res.statistical_inefficiency == pytest.approx(expected, rel=0.15)
    # the naive error (level 0) is too small by sqrt(s)
    assert res.standard_errors[0] < res.standard_error / np.sqrt(expected) * 1.15
    honest = mean_with_error(x)
    assert honest.error == pytest.approx(np.sqrt(expected / (1 - phi**2) / n), rel=0.08)
    assert honest.n_effective == pytest.approx(n / honest.statistical_inefficiency)


def test_short_correlated_series_has_no_plateau_and_warns():
    x = ar1(0.999, 2000, seed=5)  # correlation time ~ 1000 samples
    assert not block_average(x).plateau_found
    with pytest.warns(RuntimeWarning, match="no plateau"):
        res = mean_with_error(x)
    assert not res.plateau_found


def test_constant_series_has_zero_error():
    res = mean_with_error(np.full(100, 1.5))
    assert res.mean == 1.5 and res.error == 0.0


@pytest.mark.parametrize(
    "series, kwargs, match",
    [
        (np.ones((10, 2)), {}, "one-dimensional"),
        ([1.0], {}, "at least 2"),
        ([1.0, np.nan, 2.0], {}, "non-finite"),
        ([1.0, 2.0, 3.0], {"min_blocks": 0}, "min_blocks"),
    ],
)
def test_bad_arguments(series, kwargs, match):
    with pytest.raises(ValueError, match=match):
        block_average(series, **kwargs)
