"""Tests for simlib.analysis.acceptance (Metropolis acceptance vs dr)."""

import numpy as np
import pytest

from simlib.analysis import acceptance_table


def test_exact_numbers():
    table = acceptance_table(dr=[0.3, 0.1, 0.2], n_trials=[1000, 100, 10], n_accepted=[250, 80, 0])
    assert table["dr [length]"].tolist() == [0.1, 0.2, 0.3]  # sorted by dr
    assert table["n_trials"].tolist() == [100, 10, 1000]
    assert table["acceptance"].tolist() == [0.8, 0.0, 0.25]
    np.testing.assert_allclose(table["acceptance_err"], [0.04, 0.0, np.sqrt(0.25 * 0.75 / 1000)], rtol=1e-12)
    # Wilson 95 % interval for 80/100, a textbook value: (0.7112, 0.8666)
    assert table.loc[0, "wilson_low"] == pytest.approx(0.71117, abs=1e-5)
    assert table.loc[0, "wilson_high"] == pytest.approx(0.86663, abs=1e-5)
    # for k = 0 the interval is exactly [0, z^2 / (n + z^2)]
    z2 = 1.959963984540054**2
    assert table.loc[1, "wilson_low"] == pytest.approx(0.0, abs=1e-15)
    assert table.loc[1, "wilson_high"] == pytest.approx(z2 / (10 + z2), rel=1e-12)


def test_error_shrinks_as_one_over_sqrt_n():
    n = np.array([100, 400, 1600, 6400])
    table = acceptance_table(dr=[0.1, 0.2, 0.3, 0.4], n_trials=n, n_accepted=3 * n // 10)
    err = table["acceptance_err"].to_numpy()
    np.testing.assert_allclose(err[:-1] / err[1:], 2.0, rtol=1e-12)
    width = (table["wilson_high"] - table["wilson_low"]).to_numpy()
    assert np.all(np.diff(width) < 0)
    assert width[-1] == pytest.approx(2 * 1.959963984540054 * err[-1], rel=0.01)  # normal limit
    assert np.all((table["wilson_low"] <= table["acceptance"]) & (table["acceptance"] <= table["wilson_high"]))


def test_confidence_changes_the_interval():
    narrow = acceptance_table([0.1], [200], [50], confidence=0.68)
    wide = acceptance_table([0.1], [200], [50], confidence=0.99)
    assert wide.loc[0, "wilson_high"] - wide.loc[0, "wilson_low"] > narrow.loc[0, "wilson_high"] - narrow.loc[0, "wilson_low"]


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0.1], [10], [11]), {}, "exceed"),
        (([0.1], [0], [0]), {}, "n_trials must be >= 1"),
        (([0.1], [10.5], [1]), {}, "non-negative integers"),
        (([0.1, 0.2], [10], [1]), {}, r"n_trials must have shape \(2,\)"),
        (([-0.1], [10], [1]), {}, "dr"),
        (([0.1], [10], [1]), {"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        acceptance_table(*args, **kwargs)


def test_wilson_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    n, k = np.array([5, 40, 333, 1000]), np.array([5, 1, 100, 999])
    table = acceptance_table([0.1, 0.2, 0.3, 0.4], n, k, confidence=0.9)
    for i in range(4):
        ci = stats.binomtest(int(k[i]), int(n[i])).proportion_ci(confidence_level=0.9, method="wilson")
        assert table.loc[i, "wilson_low"] == pytest.approx(ci.low, abs=1e-12)
        assert table.loc[i, "wilson_high"] == pytest.approx(ci.high, abs=1e-12)
