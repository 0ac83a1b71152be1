"""Metropolis acceptance rate against the trial displacement dr.

Each trial move is a Bernoulli experiment, so with n trials and k acceptances
the estimate p = k / n has the binomial standard error sqrt(p (1 - p) / n).
That error is 0 when p is 0 or 1 and is poor for small n, so the Wilson score
interval is given too (E. B. Wilson, J. Am. Stat. Assoc. 22, 209 (1927)).
Trials are assumed independent; consecutive Metropolis trials are nearly so for
the acceptance indicator, but not exactly.
"""

from statistics import NormalDist

import numpy as np
import pandas as pd


def _counts(name, values, n):
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like dr, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must hold non-negative integers")
    return arr.astype(np.int64)


def acceptance_table(dr, n_trials, n_accepted, confidence=0.95):
    """Acceptance rate per trial displacement with binomial and Wilson errors.

    Parameters
    ----------
    dr : array_like of float, shape (n_runs,)
        Maximum trial displacement per coordinate [length], > 0.
    n_trials : array_like of int, shape (n_runs,)
        Number of trial moves, >= 1.
    n_accepted : array_like of int, shape (n_runs,)
        Number of accepted moves, 0 <= n_accepted <= n_trials.
    confidence : float, optional
        Coverage of the Wilson interval, in (0, 1). Default 0.95 (z = 1.95996).

    Returns
    -------
    pandas.DataFrame
        One row per run, sorted by dr (stable), columns ``"dr [length]"``,
        ``"n_trials"``, ``"n_accepted"``, ``"acceptance"`` (k / n),
        ``"acceptance_err"`` (sqrt(p (1 - p) / n)), ``"wilson_low"``,
        ``"wilson_high"``.

    Examples
    --------
    >>> df = acceptance_table([0.1, 0.2], [100, 100], [80, 50])
    >>> df["acceptance"].tolist(), df["acceptance_err"].tolist()
    ([0.8, 0.5], [0.04, 0.05])
    """
    dr = np.asarray(dr, dtype=np.float64)
    if dr.ndim != 1 or dr.size == 0:
        raise ValueError(f"dr must have shape (n_runs,) with n_runs >= 1, got {dr.shape}")
    if not np.all(np.isfinite(dr)) or np.any(dr <= 0):
        raise ValueError("dr must hold positive finite displacements [length]")
    n = _counts("n_trials", n_trials, dr.size)
    k = _counts("n_accepted", n_accepted, dr.size)
    if np.any(n < 1):
        raise ValueError("n_trials must be >= 1 for every run")
    if np.any(k > n):
        raise ValueError("n_accepted must not exceed n_trials")
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(0.5 + 0.5 * confidence)
    p = k / n
    z2n = z * z / n
    centre = (p + 0.5 * z2n) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    table = pd.DataFrame({
        "dr [length]": dr,
        "n_trials": n,
        "n_accepted": k,
        "acceptance": p,
        "acceptance_err": np.sqrt(p * (1.0 - p) / n),
        "wilson_low": np.maximum(centre - half, 0.0),
        "wilson_high": np.minimum(centre + half, 1.0),
    })
    return table.sort_values("dr [length]", kind="stable").reset_index(drop=True)
