"""Tests for simlib.analysis.energy (energy conservation of NVE runs)."""

import numpy as np
import pandas as pd
import pytest

from simlib.analysis import THERMO_COLUMNS, drift_vs_timestep, energy_conservation


def synthetic_run(drift, sigma_e, sigma_k, seed, n=301, t_end=30.0):
    """Thermo table with E/N = -2 + drift t + noise(sigma_e), K/N = 0.9 + noise(sigma_k)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, t_end, n)
    k = 0.9 + rng.normal(scale=sigma_k, size=n)
    e = -2.0 + drift * t + rng.normal(scale=sigma_e, size=n)
    return pd.DataFrame({"t": t, "K/N": k, "U/N": e - k, "E/N": e})


def test_noise_free_line_is_exact():
    t = np.linspace(0, 10, 11)
    k = 1.0 + 0.1 * np.sin(t)
    res = energy_conservation(t, k, -3.0 + 2e-3 * t - k)
    assert res.drift == pytest.approx(2e-3, rel=1e-10)
    assert res.intercept == pytest.approx(-3.0, rel=1e-12)
    assert res.drift_err < 1e-14 and res.total_rms_detrended < 1e-14
    # RMS of a linear ramp about its mean: slope * std(t)
    assert res.total_rms == pytest.approx(2e-3 * np.std(t), rel=1e-10)
    assert res.kinetic_rms == pytest.approx(np.std(k), rel=1e-12)


def test_known_slope_and_noise():
    drift, sigma_e, sigma_k = 1e-4, 1e-3, 5e-2
    run = synthetic_run(drift, sigma_e, sigma_k, seed=1)
    res = energy_conservation(*(run[c] for c in THERMO_COLUMNS))
    t = run["t"].to_numpy()
    # OLS standard error for independent noise: sigma / sqrt(sum (t - <t>)^2);
    # with 299 degrees of freedom the estimate is good to ~4 %, allow 15 %
    expected_err = sigma_e / np.sqrt(np.sum((t - t.mean()) ** 2))
    assert res.drift_err == pytest.approx(expected_err, rel=0.15)
    assert abs(res.drift - drift) < 4 * expected_err
    assert res.total_rms_detrended == pytest.approx(sigma_e, rel=0.15)
    # about the mean the ramp adds drift^2 var(t) to the variance
    assert res.total_rms == pytest.approx(np.sqrt(sigma_e**2 + drift**2 * np.var(t)), rel=0.15)
    assert res.kinetic_rms == pytest.approx(sigma_k, rel=0.15)
    assert res.rms_ratio == pytest.approx(res.total_rms / res.kinetic_rms, rel=1e-12)
    assert res.n_samples == 301


def test_total_defaults_to_sum():
    run = synthetic_run(1e-4, 1e-3, 5e-2, seed=2)
    a = energy_conservation(run["t"], run["K/N"], run["U/N"])
    b = energy_conservation(run["t"], run["K/N"], run["U/N"], run["E/N"])
    assert a.drift == pytest.approx(b.drift, rel=1e-9, abs=1e-15)


def test_drift_vs_timestep_table():
    # velocity Verlet: fluctuation ~ dt^2; give each run a different drift
    dts = [0.004, 0.001, 0.002]
    runs = {dt: synthetic_run(10 * dt, 50 * dt**2, 5e-2, seed=i) for i, dt in enumerate(dts)}
    table = drift_vs_timestep(runs)
    assert list(table.columns) == [
        "dt [time]", "drift [energy/time]", "drift_err [energy/time]", "E_rms [energy]",
        "E_rms_detrended [energy]", "K_rms [energy]", "E_rms/K_rms", "n_samples",
    ]
    assert table["dt [time]"].tolist() == sorted(dts)
    for _, row in table.iterrows():
        single = energy_conservation(*(runs[row["dt [time]"]][c] for c in THERMO_COLUMNS))
        assert row["drift [energy/time]"] == single.drift
        assert row["E_rms/K_rms"] == single.rms_ratio
    # the same from (dt, table) pairs
    pd.testing.assert_frame_equal(table, drift_vs_timestep(list(runs.items())))


def test_bad_arguments():
    t = np.arange(5.0)
    with pytest.raises(ValueError, match="kinetic"):
        energy_conservation(t, np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="time"):
        energy_conservation(np.zeros(5), np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="non-finite"):
        energy_conservation(t, np.ones(5), [1, 1, np.nan, 1, 1])
    with pytest.raises(ValueError, match="lacks columns"):
        drift_vs_timestep({0.001: pd.DataFrame({"t": t, "K/N": t})})
    with pytest.raises(ValueError, match="dt must be positive"):
        drift_vs_timestep({0.0: synthetic_run(0.0, 1e-3, 1e-2, seed=0)})
    with pytest.raises(ValueError, match="empty"):
        drift_vs_timestep({})
