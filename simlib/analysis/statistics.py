"""Error bars for averages of correlated time series (block averaging).

A time series x_1..x_n from a simulation is correlated, so sigma/sqrt(n)
underestimates the error of its mean. Flyvbjerg-Petersen blocking (J. Chem.
Phys. 91, 461 (1989)) repeatedly averages neighbouring pairs (block size
B = 1, 2, 4, ...). The naive standard error of the block means grows with B
and levels off (the plateau) once blocks are longer than the correlation time;
the plateau value is the honest error of the mean.

The plateau is chosen with the criterion of Lee et al., Phys. Rev. E 83,
066706 (2011) (also used by pyblock): the smallest block size B with

    B^3 > 2 n (e_B / e_1)^4,

where e_B is the standard error at block size B and e_1 the naive one, among
levels that keep at least ``min_blocks`` blocks. The statistical inefficiency
is s = n e_plateau^2 / var(x) (1 for independent data; (1 + phi) / (1 - phi)
for an AR(1) process with coefficient phi), and n / s is the effective number
of independent samples.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from ._common import check_positive


@dataclass(frozen=True)
class BlockAverage:
    """Result of :func:`block_average`.

    Attributes
    ----------
    mean : float
        Mean of the whole series [units of x].
    n_samples : int
        Length n of the series.
    block_sizes : numpy.ndarray of int, shape (n_levels,)
        B = 1, 2, 4, ... (levels with at least 2 blocks).
    n_blocks : numpy.ndarray of int, shape (n_levels,)
        Number of blocks at each level (a trailing odd block is dropped).
    standard_errors : numpy.ndarray, shape (n_levels,)
        sqrt(var(block means, ddof=1) / n_blocks) at each level [units of x].
    standard_error_errors : numpy.ndarray, shape (n_levels,)
        Uncertainty of each standard error, e / sqrt(2 (n_blocks - 1)).
    plateau_level : int
        Index of the chosen level (the largest level with ``min_blocks``
        blocks, or level 0, if no plateau was found).
    plateau_found : bool
        Whether the plateau criterion was met; if False the error is a lower
        bound: the series is too short for its correlation time.
    standard_error : float
        Standard error of the mean at ``plateau_level`` [units of x].
    statistical_inefficiency : float
        s = n * standard_error^2 / var(x, ddof=1).
    """

    mean: float
    n_samples: int
    block_sizes: np.ndarray
    n_blocks: np.ndarray
    standard_errors: np.ndarray
    standard_error_errors: np.ndarray
    plateau_level: int
    plateau_found: bool
    standard_error: float
    statistical_inefficiency: float

    @property
    def plateau_block_size(self):
        """Block size B at the chosen level."""
        return int(self.block_sizes[self.plateau_level])


def _check_series(series):
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"series must be one-dimensional with at least 2 samples, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("series contains non-finite values")
    return x


def block_average(series, min_blocks=16):
    """Flyvbjerg-Petersen block analysis of the mean of a correlated series.

    Parameters
    ----------
    series : array_like, shape (n,)
        Samples, equally spaced in time, n >= 2.
    min_blocks : int, optional
        Fewest blocks a level may have to be chosen as the plateau. Default 16
        (relative uncertainty of the error there about 1/sqrt(30) = 18 %).

    Returns
    -------
    BlockAverage

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(size=4096)
    >>> res = block_average(x)
    >>> res.plateau_found, round(res.statistical_inefficiency, 1)
    (True, 1.0)
    """
    x = _check_series(series)
    min_blocks = check_positive("min_blocks", min_blocks, integer=True)
    n = x.size
    variance = x.var(ddof=1)
    sizes, counts, errors = [], [], []
    level, size = x, 1
    while level.size >= 2:
        m = level.size
        sizes.append(size)
        counts.append(m)
        errors.append(np.sqrt(level.var(ddof=1) / m))
        level = 0.5 * (level[: m - m % 2 : 2] + level[1 : m - m % 2 : 2])
        size *= 2
    sizes, counts, errors = np.array(sizes), np.array(counts), np.array(errors)
    err_err = errors / np.sqrt(2.0 * (counts - 1.0))
    usable = np.flatnonzero(counts >= min_blocks)
    plateau, found = (int(usable[-1]) if usable.size else 0), False
    if errors[0] > 0.0:
        for j in usable:
            if sizes[j] ** 3 > 2.0 * n * (errors[j] / errors[0]) ** 4:
                plateau, found = int(j), True
                break
    else:  # constant series: no fluctuation, error 0 at every level
        plateau, found = 0, True
    error = float(errors[plateau])
    return BlockAverage(
        mean=float(x.mean()), n_samples=n, block_sizes=sizes, n_blocks=counts,
        standard_errors=errors, standard_error_errors=err_err,
        plateau_level=plateau, plateau_found=found, standard_error=error,
        statistical_inefficiency=float(n * error**2 / variance) if variance > 0 else 1.0,
    )


@dataclass(frozen=True)
class MeanWithError:
    """Result of :func:`mean_with_error`.

    Attributes
    ----------
    mean, error : float
        Mean and its blocked standard error [units of x].
    statistical_inefficiency : float
        s >= ~1; the error is sqrt(s) times the naive sigma / sqrt(n).
    n_effective : float
        n / s, the number of effectively independent samples.
    plateau_found : bool
        False if the series is too short: ``error`` is then a lower bound.
    """

    mean: float
    error: float
    statistical_inefficiency: float
    n_effective: float
    plateau_found: bool


def mean_with_error(series, min_blocks=16):
    """Mean of a correlated series with an honest (blocked) standard error.

    Parameters
    ----------
    series : array_like, shape (n,)
        Samples, equally spaced in time, n >= 2.
    min_blocks : int, optional
        As in :func:`block_average`. Default 16.

    Returns
    -------
    MeanWithError
        Warns (RuntimeWarning) when no plateau was found.
    """
    res = block_average(series, min_blocks=min_blocks)
    if not res.plateau_found:
        warnings.warn(
            f"block averaging found no plateau for {res.n_samples} samples: the error "
            "is a lower bound (series shorter than ~100 correlation times?)",
            RuntimeWarning, stacklevel=2,
        )
    s = res.statistical_inefficiency
    return MeanWithError(mean=res.mean, error=res.standard_error, statistical_inefficiency=s,
                         n_effective=res.n_samples / s, plateau_found=res.plateau_found)
