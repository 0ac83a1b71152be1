"""Diffusion: mean-square displacement, velocity autocorrelation, D.

Reduced LJ units: lengths [length] (particle diameter), times [time] (t0),
energies [energy] (eps), k_B = 1. Trajectories have shape (n_frames, N, d),
frames equally spaced by ``dt`` [time]; positions must be *unwrapped* (no
periodic jumps). Averages run over all particles and all time origins.

Error bars come from blocks of particles: the N particles are split into
``n_blocks`` contiguous groups, each group's curve is analysed separately, and
the standard error is std(group values, ddof=1) / sqrt(n_blocks). This treats
particles as statistically independent (exact for the free Langevin particle,
an approximation when collective motion matters).
"""

from dataclasses import dataclass

import numpy as np
import xarray as xr
from .._kernels import njit

from ._common import NotComputedError, check_positive, check_trajectory, require_computed

_MODES = ("fft", "direct")
_CHUNK_BYTES = 64 * 2**20  # FFT work memory per particle chunk


def langevin_free_msd(t, kT, friction, mass, dim):
    """Exact MSD of a free Langevin particle started in equilibrium.

    <dr^2>(t) = 2 d (kT / zeta) [t - (m / zeta) (1 - exp(-zeta t / m))]:
    ballistic d (kT/m) t^2 at short times, diffusive 2 d D t with D = kT / zeta.

    Parameters
    ----------
    t : array_like
        Lag times [time], >= 0.
    kT : float
        Bath temperature [energy].
    friction : float
        Friction coefficient zeta [mass/time].
    mass : float
        Particle mass [mass].
    dim : int
        Dimension d.

    Returns
    -------
    numpy.ndarray
        MSD [length^2], same shape as ``t``.

    Examples
    --------
    >>> float(langevin_free_msd(1e6, kT=1.0, friction=1.0, mass=1.0, dim=2) / 1e6)
    3.999996
    """
    kT, zeta = check_positive("kT", kT), check_positive("friction", friction)
    m, d = check_positive("mass", mass), check_positive("dim", dim, integer=True)
    t = np.asarray(t, dtype=np.float64)
    tau = m / zeta
    return 2.0 * d * kT / zeta * (t + tau * np.expm1(-t / tau))


def langevin_free_vacf(t, kT, friction, mass, dim):
    """Exact velocity autocorrelation <v(0).v(t)> = (d kT / m) exp(-zeta t / m) [length^2/time^2].

    Parameters as in :func:`langevin_free_msd`.
    """
    kT, zeta = check_positive("kT", kT), check_positive("friction", friction)
    m, d = check_positive("mass", mass), check_positive("dim", dim, integer=True)
    return d * kT / m * np.exp(-zeta * np.asarray(t, dtype=np.float64) / m)


def _autocorrelation_fft(x):
    """sum_k x(k).x(k+m) over origins k, for every lag m; x (T, n, d) -> (T, n)."""
    n_frames = x.shape[0]
    n_fft = 1 << (2 * n_frames - 1).bit_length()
    f = np.fft.rfft(x, n=n_fft, axis=0)
    return np.fft.irfft(f.real**2 + f.imag**2, n=n_fft, axis=0)[:n_frames].sum(axis=-1)


def _msd_fft(x):
    """Per-particle all-origin MSD by the FFT algorithm; x (T, n, d) -> (T, n).

    MSD(m) = [S1(m) - 2 S2(m)] / (T - m) with S2 the autocorrelation (FFT) and
    S1(m) = sum_{k<T-m} x(k)^2 + sum_{k>=m} x(k)^2 from cumulative sums.
    """
    n_frames = x.shape[0]
    x = x - x.mean(axis=0)  # shift invariance; reduces round-off
    sq = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum((x**2).sum(axis=-1), axis=0)])
    lag = np.arange(n_frames)
    s1 = sq[n_frames - lag] + (sq[n_frames] - sq[lag])
    out = (s1 - 2.0 * _autocorrelation_fft(x)) / (n_frames - lag)[:, None]
    out[0] = 0.0
    return out


@njit
def _msd_direct(x):
    """Per-particle all-origin MSD by the O(T^2) double loop; x (T, n, d) -> (T, n)."""
    n_frames, n, d = x.shape
    out = np.zeros((n_frames, n))
    for m in range(1, n_frames):
        for k in range(n_frames - m):
            for i in range(n):
                s = 0.0
                for a in range(d):
                    dx = x[k + m, i, a] - x[k, i, a]
                    s += dx * dx
                out[m, i] += s
        for i in range(n):
            out[m, i] /= n_frames - m
    return out


@njit
def _acf_direct(v):
    """Per-particle all-origin <v(k).v(k+m)>; v (T, n, d) -> (T, n)."""
    n_frames, n, d = v.shape
    out = np.zeros((n_frames, n))
    for m in range(n_frames):
        for k in range(n_frames - m):
            for i in range(n):
                s = 0.0
                for a in range(d):
                    s += v[k, i, a] * v[k + m, i, a]
                out[m, i] += s
        for i in range(n):
            out[m, i] /= n_frames - m
    return out


def _acf_fft(v):
    lag = np.arange(v.shape[0])
    return _autocorrelation_fft(v) / (v.shape[0] - lag)[:, None]


class _Correlator:
    """Shared machinery: per-particle curves in particle chunks, block sums."""

    _name = ""
    _kernels = {}
    _units = ""

    def __init__(self, dt, mode="fft", per_particle=False, n_blocks=10):
        self._dt = check_positive("dt", dt)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self._mode = mode
        self._per_particle = bool(per_particle)
        self._n_blocks = check_positive("n_blocks", n_blocks, integer=True)
        self._computed = False

    def _run(self, traj):
        n_frames, n, d = traj.shape
        kernel = self._kernels[self._mode]
        n_blocks = min(self._n_blocks, n)
        block_of = np.arange(n) * n_blocks // n
        block_sum = np.zeros((n_frames, n_blocks))
        per = np.empty((n_frames, n)) if self._per_particle else None
        chunk = max(1, _CHUNK_BYTES // (32 * n_frames * d))
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            curves = kernel(np.ascontiguousarray(traj[:, lo:hi]))
            for b in np.unique(block_of[lo:hi]):
                sel = block_of[lo:hi] == b
                block_sum[:, b] += curves[:, sel].sum(axis=1)
            if per is not None:
                per[:, lo:hi] = curves
        sizes = np.bincount(block_of, minlength=n_blocks)
        time = self._dt * np.arange(n_frames)
        data = {
            self._name: ("time", block_sum.sum(axis=1) / n, {"units": self._units}),
            f"{self._name}_block": (("time", "block"), block_sum / sizes, {"units": self._units}),
        }
        if per is not None:
            data[f"{self._name}_particle"] = (("time", "particle"), per, {"units": self._units})
        self._ds = xr.Dataset(
            data,
            coords={"time": ("time", time, {"units": "t0"}),
                    "lag": ("time", np.arange(n_frames), {"units": "1", "long_name": "lag in frames"})},
            attrs={"dim": d, "dt": self._dt, "mode": self._mode, "n_particles": n, "n_blocks": n_blocks},
        )
        self._computed = True
        return self

    @property
    def lag_time(self):
        """Lag times m * dt [time], shape (n_frames,)."""
        require_computed(self, "lag_time")
        return self._ds["time"].values.copy()

    @property
    def dataset(self):
        """All results as an :class:`xarray.Dataset` (see the class docstring)."""
        require_computed(self, "dataset")
        return self._ds.copy(deep=True)


class MSD(_Correlator):
    """Mean-square displacement over all time origins.

    MSD(m dt) = 1/(N (T - m)) sum_i sum_{k < T-m} |r_i(k + m) - r_i(k)|^2,
    the same as freud's ``MSD(mode='window')``.

    Parameters
    ----------
    dt : float
        Time between frames [time].
    mode : {"fft", "direct"}, optional
        "fft": O(T log T) per particle via the autocorrelation; "direct":
        O(T^2) double loop (reference). Default "fft".
    per_particle : bool, optional
        Also keep each particle's MSD (memory n_frames * N). Default False.
    n_blocks : int, optional
        Particle blocks for error bars (capped at N). Default 10.

    Notes
    -----
    :attr:`dataset` holds ``msd`` (time) [length^2], ``msd_block`` (time, block)
    and, with ``per_particle``, ``msd_particle`` (time, particle); coordinates
    ``time`` [time] and ``lag`` (frames); attrs ``dim``, ``dt``, ``n_particles``,
    ``n_blocks``. Feed it to :func:`fit_diffusion`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0)[:, None, None] * np.ones((1, 3, 2))  # v = (1, 1)
    >>> MSD(dt=1.0).compute(x).msd.tolist()
    [0.0, 2.0, 8.0, 18.0, 32.0]
    """

    _name = "msd"
    _kernels = {"fft": _msd_fft, "direct": _msd_direct}
    _units = "a^2"

    def compute(self, positions):
        """Compute the MSD.

        Parameters
        ----------
        positions : array_like, shape (n_frames, N, d)
            Unwrapped positions [length], n_frames >= 2, d in {1, 2, 3}.

        Returns
        -------
        self : MSD
        """
        return self._run(check_trajectory("positions", positions))

    @property
    def msd(self):
        """Particle-averaged MSD [length^2], shape (n_frames,)."""
        require_computed(self, "msd")
        return self._ds["msd"].values.copy()


class VACF(_Correlator):
    """Velocity autocorrelation <v(0) . v(t)> over all time origins.

    C(m dt) = 1/(N (T - m)) sum_i sum_{k < T-m} v_i(k) . v_i(k + m), summed over
    the d components, so C(0) = d kT / m in equilibrium.

    Parameters
    ----------
    dt : float
        Time between frames [time].
    mode : {"fft", "direct"}, optional
        Algorithm, as for :class:`MSD`. Default "fft".
    per_particle : bool, optional
        Also keep each particle's curve. Default False.
    n_blocks : int, optional
        Particle blocks for error bars (capped at N). Default 10.

    Notes
    -----
    :attr:`dataset` holds ``vacf`` (time) [length^2/time^2], ``vacf_block``
    (time, block) and optionally ``vacf_particle``; feed it to
    :func:`green_kubo_diffusion`.
    """

    _name = "vacf"
    _kernels = {"fft": _acf_fft, "direct": _acf_direct}
    _units = "a^2/t0^2"

    def compute(self, velocities):
        """Compute the VACF.

        Parameters
        ----------
        velocities : array_like, shape (n_frames, N, d)
            Velocities [length/time], n_frames >= 2, d in {1, 2, 3}.

        Returns
        -------
        self : VACF
        """
        return self._run(check_trajectory("velocities", velocities))

    @property
    def vacf(self):
        """Particle-averaged VACF [length^2/time^2], shape (n_frames,)."""
        require_computed(self, "vacf")
        return self._ds["vacf"].values.copy()


@dataclass(frozen=True)
class DiffusionFit:
    """Result of :func:`fit_diffusion`.

    Attributes
    ----------
    D, D_err : float
        Diffusion coefficient slope / (2 d) and its block standard error
        [length^2/time] (NaN error with a single block).
    slope, intercept : float
        Least-squares line MSD = slope t + intercept [length^2/time], [length^2].
    t_min, t_max : float
        Fit window actually used [time].
    n_points, n_blocks : int
        Lags in the window; particle blocks behind D_err.
    lag_times : tuple of float
        The lags fitted [time] (``green_kubo_diffusion(..., msd_fit=fit)`` reads them).
    """

    D: float
    D_err: float
    slope: float
    intercept: float
    t_min: float
    t_max: float
    n_points: int
    n_blocks: int
    lag_times: tuple = ()


def _window(time, t_min, t_max, default):
    t_last = time[-1]
    t_min = float(default[0] * t_last if t_min is None else t_min)
    t_max = float(default[1] * t_last if t_max is None else t_max)
    sel = (time >= t_min) & (time <= t_max)
    return sel, t_min, t_max


def _block_error(values):
    n = values.size
    return float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


def fit_diffusion(msd, t_min=None, t_max=None):
    """Diffusion coefficient from the slope of the MSD in a diffusive window.

    D = slope / (2 d), slope from an unweighted least-squares line through the
    MSD points with t_min <= t <= t_max. The error is the block standard error
    of the same fit applied to each particle block's MSD.

    Parameters
    ----------
    msd : MSD or xarray.Dataset
        A computed :class:`MSD` or its :attr:`MSD.dataset`.
    t_min, t_max : float or None, optional
        Fit window [time]. Defaults None meaning 0.25 and 0.5 of the longest lag:
        late enough to be past the ballistic regime in long runs, early enough to
        have many time origins. Check the MSD is linear there.

    Returns
    -------
    DiffusionFit
    """
    ds = msd.dataset if isinstance(msd, MSD) else msd
    time = ds["time"].values
    sel, t_min, t_max = _window(time, t_min, t_max, (0.25, 0.5))
    if sel.sum() < 2:
        raise ValueError(f"fit window [t_min={t_min}, t_max={t_max}] holds fewer than 2 lags")
    d = int(ds.attrs["dim"])
    slope, intercept = np.polyfit(time[sel], ds["msd"].values[sel], 1)
    blocks = ds["msd_block"].values[sel]
    block_slopes = np.polyfit(time[sel], blocks, 1)[0]
    return DiffusionFit(
        D=float(slope / (2 * d)), D_err=_block_error(block_slopes / (2 * d)),
        slope=float(slope), intercept=float(intercept), t_min=t_min, t_max=t_max,
        n_points=int(sel.sum()), n_blocks=int(blocks.shape[1]), lag_times=tuple(float(t) for t in time[sel]),
    )


@dataclass(frozen=True)
class GreenKubo:
    """Result of :func:`green_kubo_diffusion`.

    Attributes
    ----------
    D, D_err : float
        (1/d) * integral of the VACF up to t_max, and its block standard error
        [length^2/time]; with ``msd_fit``, the MSD slope this VACF implies over that
        fit's lags (see :func:`green_kubo_diffusion`).
    t_max : float
        Upper integration limit used [time].
    msd_window : tuple of float or None
        (t_min, t_max) of the MSD fit matched [time], or None for a plain integral.
    running_D : numpy.ndarray, shape (n_frames,)
        (1/d) * integral from 0 to each lag time, to check for a plateau.
    n_blocks : int
        Particle blocks behind D_err.
    sampling_interval : float
        Time between the velocity samples the VACF was computed from [time].
    first_lag_ratio : float
        C(sampling_interval) / C(0): how much of the VACF survives one sampling interval.
    resolution_error : float
        Richardson estimate |I(h) - I(2h)| / 3 of the trapezoid error of ``D``
        [length^2/time], from the same integral on every second sample.
    resolved : bool
        True when the sampling resolves the VACF (see :func:`green_kubo_diffusion`).
    """

    D: float
    D_err: float
    t_max: float
    running_D: np.ndarray
    n_blocks: int
    sampling_interval: float = float("nan")
    first_lag_ratio: float = float("nan")
    resolution_error: float = float("nan")
    resolved: bool = True
    msd_window: tuple = None


class UnresolvedVACFError(ValueError):
    """A Green-Kubo integral was asked of a VACF its sampling does not resolve."""


def _cumulative_trapezoid(y, dx):
    out = np.zeros_like(y)
    out[1:] = np.cumsum(0.5 * dx * (y[1:] + y[:-1]), axis=0)
    return out


# a VACF that loses more than half its value within one sampling interval has its
# initial decay between the samples: the trapezoid rule cannot integrate it
MIN_FIRST_LAG_RATIO = 0.5
# the discretisation error must be small next to D or next to D's statistical error
RESOLUTION_TOLERANCE = 0.02


def _msd_slope_from_vacf(c, dt, d, lag_times):
    """D of a least-squares line through the MSD that the VACF ``c`` implies, at ``lag_times``.

    MSD(t) = 2 d int_0^t D(s) ds with D(s) the running Green-Kubo integral, and a
    least-squares slope is a linear functional sum_k w_k MSD(t_k) of the fitted points.
    ``c`` may carry trailing (block) axes.
    """
    running = _cumulative_trapezoid(c, dt) / d
    area = _cumulative_trapezoid(running, dt)
    t = np.asarray(lag_times, dtype=np.float64)
    w = (t - t.mean()) / np.sum((t - t.mean()) ** 2)
    grid = np.arange(c.shape[0]) * dt
    at_lags = np.stack([np.interp(t, grid, col) for col in area.reshape(c.shape[0], -1).T], axis=-1)
    return (w @ at_lags).reshape(c.shape[1:])


def green_kubo_diffusion(vacf, t_max=None, require_resolved=False, msd_fit=None):
    """Green-Kubo diffusion coefficient D = (1/d) int_0^t_max <v(0).v(t)> dt.

    The integral is the trapezoid rule on the frame grid. The error is the block
    standard error of the same integral over particle blocks.

    The result says whether the sampling interval h resolves the VACF: it is
    ``resolved`` when C(h)/C(0) >= 0.5 (the initial decay is sampled) and the
    Richardson estimate of the trapezoid error, |I(h) - I(2h)| / 3, is at most
    2 % of |D| or half of D_err. A VACF sampled every 0.5 t0 in a dense liquid
    fails both (its structure lies below 0.5 t0) and gives a D several times too
    large; sample velocities every few MD steps instead (:class:`OnTheFlyVACF`).

    Parameters
    ----------
    vacf : VACF, OnTheFlyVACF or xarray.Dataset
        A computed VACF or its ``dataset``.
    t_max : float or None, optional
        Upper limit [time]; the largest lag <= t_max is used. Default None
        meaning half the longest lag. Choose it where ``running_D`` has a plateau.
    require_resolved : bool, optional
        Raise :class:`UnresolvedVACFError` (one line, naming the sampling
        interval) instead of returning an unresolved result. Default False.
    msd_fit : DiffusionFit or None, optional
        Match this MSD fit: D is then the slope that a least-squares line through the
        MSD implied by this VACF, MSD(t) = 2 d int_0^t (t - s) C(s) ds, has at the
        fit's lags, i.e. the Green-Kubo integral averaged over the fit window with
        the fit's weights. MSD and Green-Kubo then measure D on the same time scale,
        which matters where D(t) has no plateau (2D liquids have a t^-1 VACF tail,
        slow cages a negative one). The VACF must reach the fit's last lag; t_max is
        then that lag.

    Returns
    -------
    GreenKubo
    """
    ds = vacf.dataset if isinstance(vacf, (VACF, OnTheFlyVACF)) else vacf
    time = ds["time"].values
    if msd_fit is not None:
        if not msd_fit.lag_times or msd_fit.lag_times[-1] > time[-1] * (1 + 1e-9):
            raise ValueError(f"the VACF reaches {time[-1]:g}, short of the MSD fit window's end "
                             f"{msd_fit.t_max:g}: lengthen the VACF window")
        t_max = msd_fit.lag_times[-1]
    t_max = 0.5 * time[-1] if t_max is None else float(t_max)
    stop = int(np.searchsorted(time, t_max * (1 + 1e-12), side="right")) - 1
    if stop < 1:
        raise ValueError(f"t_max = {t_max} is shorter than one frame interval {ds.attrs['dt']}")
    d, dt = int(ds.attrs["dim"]), float(ds.attrs["dt"])
    c = ds["vacf"].values
    running = _cumulative_trapezoid(c, dt) / d
    blocks = _cumulative_trapezoid(ds["vacf_block"].values, dt)[stop] / d
    D, D_err = float(running[stop]), _block_error(blocks)
    if msd_fit is not None:
        D = float(_msd_slope_from_vacf(c, dt, d, msd_fit.lag_times))
        D_err = _block_error(_msd_slope_from_vacf(ds["vacf_block"].values, dt, d, msd_fit.lag_times))
    ratio = float(c[1] / c[0]) if c[0] != 0.0 else float("nan")
    even = stop - stop % 2
    if even >= 2:
        coarse = float(np.sum(0.5 * 2 * dt * (c[2:even + 1:2] + c[0:even - 1:2]))) / d
        resolution_error = abs(float(running[even]) - coarse) / 3.0
    else:
        resolution_error = float("inf")
    allowed = max(RESOLUTION_TOLERANCE * abs(D), 0.5 * D_err if np.isfinite(D_err) else 0.0)
    resolved = bool(ratio >= MIN_FIRST_LAG_RATIO and resolution_error <= allowed)
    if require_resolved and not resolved:
        raise UnresolvedVACFError(
            f"VACF sampled every {dt:.4g} t0 is not resolved (C(h)/C(0) = {ratio:.3g}, trapezoid error "
            f"~{resolution_error:.2g} against D = {D:.3g}): sample velocities more often for Green-Kubo"
        )
    return GreenKubo(D=D, D_err=D_err, t_max=float(time[stop]), running_D=running,
                     n_blocks=int(blocks.size), sampling_interval=dt, first_lag_ratio=ratio,
                     resolution_error=resolution_error, resolved=resolved,
                     msd_window=None if msd_fit is None else (float(msd_fit.t_min), float(msd_fit.t_max)))


@njit
def _accumulate_vacf(v, origins, origin_sample, n_active, sample, block_of, sums, counts):
    """Add v(origin) . v(now) of every active origin to its lag's block sums."""
    n_lags = sums.shape[0]
    n, d = v.shape
    for o in range(n_active):
        lag = sample - origin_sample[o]
        if lag < 0 or lag >= n_lags:
            continue
        for i in range(n):
            s = 0.0
            for a in range(d):
                s += origins[o, i, a] * v[i, a]
            sums[lag, block_of[i]] += s
        counts[lag] += 1


class OnTheFlyVACF:
    """Velocity autocorrelation accumulated during a run, at a fine sampling interval.

    Storing every velocity of a long run is not needed for the VACF: each new
    sample is correlated with the velocities stored at a few recent time origins
    (one every ``origin_every`` samples) and the products are summed per lag.
    Memory is (lags / origin_every) * N * d; the sampling interval is free.

    Use it as the callback of :meth:`simlib.Simulation.run`::

        acc = OnTheFlyVACF(sampling_interval=sim.method.dt, window=2.0)
        sim.run(20000, every=1, callback=acc)
        green_kubo_diffusion(acc, t_max=2.0)

    Parameters
    ----------
    sampling_interval : float
        Time between samples [time] (``every`` times the MD step).
    window : float
        Longest lag [time]; the VACF must have decayed well before it.
    origin_every : int, optional
        Samples between time origins. Default: a twentieth of the window in samples.
    n_blocks : int, optional
        Particle blocks for error bars. Default 10.

    Notes
    -----
    :attr:`dataset` has the layout of :attr:`VACF.dataset` (``vacf``, ``vacf_block``,
    ``time``; attrs ``dim``, ``dt`` = the sampling interval, ``n_blocks``,
    ``n_origins``), so :func:`green_kubo_diffusion` accepts it.
    """

    def __init__(self, sampling_interval, window, origin_every=None, n_blocks=10):
        self.sampling_interval = check_positive("sampling_interval", sampling_interval)
        window = check_positive("window", window)
        self.n_lags = int(np.floor(window / self.sampling_interval + 1e-9)) + 1
        if self.n_lags < 3:
            raise ValueError("window must span at least two sampling intervals")
        if origin_every is None:
            origin_every = max(1, self.n_lags // 20)
        self.origin_every = check_positive("origin_every", origin_every, integer=True)
        self._n_blocks = check_positive("n_blocks", n_blocks, integer=True)
        self._slots = -(-self.n_lags // self.origin_every) + 1
        self._sample = 0
        self._origins = None

    def __call__(self, sim):
        self.add(sim.state.velocities)

    def add(self, velocities):
        """Add one velocity sample (N, d) [length/time]."""
        v = np.ascontiguousarray(velocities, dtype=np.float64)
        if self._origins is None:
            n, d = v.shape
            self._n_blocks = min(self._n_blocks, n)
            self._block_of = (np.arange(n) * self._n_blocks // n).astype(np.int64)
            self._origins = np.zeros((self._slots, n, d))
            self._origin_sample = np.full(self._slots, -(10**12), dtype=np.int64)
            self._sums = np.zeros((self.n_lags, self._n_blocks))
            self._counts = np.zeros(self.n_lags, dtype=np.int64)
        elif v.shape != self._origins.shape[1:]:
            raise ValueError(f"velocities have shape {v.shape}, expected {self._origins.shape[1:]}")
        if self._sample % self.origin_every == 0:
            slot = (self._sample // self.origin_every) % self._slots
            self._origins[slot] = v
            self._origin_sample[slot] = self._sample
        _accumulate_vacf(v, self._origins, self._origin_sample, self._slots, self._sample,
                         self._block_of, self._sums, self._counts)
        self._sample += 1

    @property
    def n_samples(self):
        return self._sample

    def get_state(self):
        """Everything needed to continue exactly, as JSON-able lists (for checkpoints)."""
        if self._origins is None:
            return {"sample": 0}
        return {
            "sample": self._sample, "n_blocks": self._n_blocks, "shape": list(self._origins.shape),
            "origins": self._origins.ravel().tolist(), "origin_sample": self._origin_sample.tolist(),
            "sums": self._sums.ravel().tolist(), "counts": self._counts.tolist(),
        }

    def set_state(self, saved):
        """Continue from :meth:`get_state` (same sampling interval, window and origin spacing)."""
        self._sample = int(saved["sample"])
        if self._sample == 0:
            self._origins = None
            return
        shape = tuple(saved["shape"])
        if shape[0] != self._slots or len(saved["counts"]) != self.n_lags:
            raise ValueError("saved OnTheFlyVACF state belongs to a different window or origin spacing")
        n = shape[1]
        self._n_blocks = int(saved["n_blocks"])
        self._block_of = (np.arange(n) * self._n_blocks // n).astype(np.int64)
        self._origins = np.array(saved["origins"], dtype=np.float64).reshape(shape)
        self._origin_sample = np.array(saved["origin_sample"], dtype=np.int64)
        self._sums = np.array(saved["sums"], dtype=np.float64).reshape(self.n_lags, self._n_blocks)
        self._counts = np.array(saved["counts"], dtype=np.int64)

    @property
    def dataset(self):
        """The VACF so far as an :class:`xarray.Dataset` (layout of :attr:`VACF.dataset`)."""
        if self._origins is None or self._counts[-1] == 0:
            raise NotComputedError(
                "OnTheFlyVACF.dataset is not available yet: the run is shorter than the window"
            )
        n, d = self._origins.shape[1:]
        sizes = np.bincount(self._block_of, minlength=self._n_blocks)
        blocks = self._sums / (self._counts[:, None] * sizes[None, :])
        time = self.sampling_interval * np.arange(self.n_lags)
        return xr.Dataset(
            {
                "vacf": ("time", self._sums.sum(axis=1) / (self._counts * n), {"units": VACF._units}),
                "vacf_block": (("time", "block"), blocks, {"units": VACF._units}),
                "origins": ("time", self._counts.copy(), {"units": "1"}),
            },
            coords={"time": ("time", time, {"units": "time"}), "lag": ("time", np.arange(self.n_lags))},
            attrs={"dim": d, "dt": self.sampling_interval, "sampling_interval": self.sampling_interval,
                   "mode": "on-the-fly", "n_particles": n, "n_blocks": self._n_blocks,
                   "origin_every": self.origin_every},
        )

    @property
    def vacf(self):
        """Particle-averaged VACF [length^2/time^2], shape (n_lags,)."""
        return self.dataset["vacf"].values
