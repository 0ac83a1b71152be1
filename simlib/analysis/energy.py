"""Energy conservation of NVE runs from a thermo table (t, K/N, U/N, E/N).

Reduced LJ units: time [time], energies per particle [energy]. For a
symplectic integrator such as velocity Verlet the total energy E = K + U
should show no systematic drift and fluctuations of order dt^2; the usual
quality number is the ratio of the RMS fluctuation of E/N to that of K/N.

The drift error is the ordinary least-squares standard error, which assumes
independent residuals; residuals of an MD energy are correlated, so treat it as
a lower bound (or sample the thermo table sparsely, e.g. every 1 t0).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Column names of a thermo table, as printed by the course programs.
THERMO_COLUMNS = ("t", "K/N", "U/N", "E/N")


@dataclass(frozen=True)
class EnergyConservation:
    """Result of :func:`energy_conservation`.

    Attributes
    ----------
    drift, drift_err : float
        Least-squares slope of E/N against t and its standard error [energy/time].
    intercept : float
        E/N of the fitted line at t = 0 [energy].
    total_rms : float
        RMS fluctuation of E/N about its mean, sqrt(mean((E - <E>)^2)) [energy].
    total_rms_detrended : float
        RMS of E/N about the fitted line (drift removed) [energy].
    kinetic_rms : float
        RMS fluctuation of K/N about its mean [energy].
    rms_ratio : float
        total_rms / kinetic_rms (dimensionless; small means good conservation).
    n_samples : int
        Rows used.
    """

    drift: float
    drift_err: float
    intercept: float
    total_rms: float
    total_rms_detrended: float
    kinetic_rms: float
    rms_ratio: float
    n_samples: int


def _column(name, values, n=None):
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and arr.size != n):
        want = "(n,)" if n is None else f"({n},)"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def energy_conservation(time, kinetic, potential, total=None):
    """Drift and fluctuation of the total energy per particle.

    Parameters
    ----------
    time : array_like, shape (n,)
        Times t [time], n >= 3, not all equal.
    kinetic : array_like, shape (n,)
        K/N [energy].
    potential : array_like, shape (n,)
        U/N [energy].
    total : array_like, shape (n,), optional
        E/N [energy]. Default None meaning kinetic + potential.

    Returns
    -------
    EnergyConservation

    Examples
    --------
    >>> t = [0.0, 1.0, 2.0, 3.0]
    >>> res = energy_conservation(t, [1.0, 2.0, 1.0, 2.0], [0.0, -1.0, 0.0, -1.0])
    >>> res.drift, res.total_rms, res.kinetic_rms
    (0.0, 0.0, 0.5)
    """
    t = _column("time", time)
    n = t.size
    if n < 3 or np.ptp(t) == 0.0:
        raise ValueError(f"time needs at least 3 samples spanning a nonzero interval, got {n}")
    k = _column("kinetic", kinetic, n)
    u = _column("potential", potential, n)
    e = k + u if total is None else _column("total", total, n)
    tc = t - t.mean()
    sxx = np.sum(tc**2)
    slope = float(np.sum(tc * (e - e.mean())) / sxx)
    intercept = float(e.mean() - slope * t.mean())
    resid = e - (intercept + slope * t)
    drift_err = float(np.sqrt(np.sum(resid**2) / (n - 2) / sxx))
    e_rms = float(np.sqrt(np.mean((e - e.mean()) ** 2)))
    k_rms = float(np.sqrt(np.mean((k - k.mean()) ** 2)))
    return EnergyConservation(
        drift=slope, drift_err=drift_err, intercept=intercept, total_rms=e_rms,
        total_rms_detrended=float(np.sqrt(np.mean(resid**2))), kinetic_rms=k_rms,
        rms_ratio=e_rms / k_rms if k_rms > 0 else float("nan"), n_samples=n,
    )


def drift_vs_timestep(runs, columns=THERMO_COLUMNS):
    """Energy-conservation table over runs with different time steps.

    Parameters
    ----------
    runs : mapping of float to pandas.DataFrame, or iterable of (float, DataFrame)
        Time step dt [time] -> thermo table of that run.
    columns : sequence of 4 str, optional
        Names of the time, K/N, U/N and E/N columns in the tables. Default
        ``THERMO_COLUMNS = ("t", "K/N", "U/N", "E/N")``.

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by dt, columns ``"dt [time]"``,
        ``"drift [energy/time]"``, ``"drift_err [energy/time]"``,
        ``"E_rms [energy]"``, ``"E_rms_detrended [energy]"``, ``"K_rms [energy]"``,
        ``"E_rms/K_rms"``, ``"n_samples"`` (energies per particle).
    """
    items = list(runs.items()) if hasattr(runs, "items") else list(runs)
    if not items:
        raise ValueError("runs is empty")
    if len(columns) != 4:
        raise ValueError(f"columns must name (time, K/N, U/N, E/N), got {columns!r}")
    rows = []
    for dt, table in items:
        dt = float(dt)
        if not np.isfinite(dt) or dt <= 0:
            raise ValueError(f"time step dt must be positive, got {dt}")
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"thermo table for dt={dt} lacks columns {missing}")
        res = energy_conservation(*(table[c].to_numpy() for c in columns))
        rows.append({
            "dt [time]": dt,
            "drift [energy/time]": res.drift,
            "drift_err [energy/time]": res.drift_err,
            "E_rms [energy]": res.total_rms,
            "E_rms_detrended [energy]": res.total_rms_detrended,
            "K_rms [energy]": res.kinetic_rms,
            "E_rms/K_rms": res.rms_ratio,
            "n_samples": res.n_samples,
        })
    return pd.DataFrame(rows).sort_values("dt [time]", kind="stable").reset_index(drop=True)
