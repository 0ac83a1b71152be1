"""The microstate of a simulation and the observables computed from it."""

from dataclasses import dataclass, field, replace

import numpy as np

from .geometry import Box
from .rng import check_seed


@dataclass
class State:
    """Everything that defines a running simulation, including its random stream.

    Random numbers are a pure function of ``(seed, step)`` (see :mod:`simlib.rng`),
    so ``seed`` and ``step`` are the whole RNG state.

    Attributes
    ----------
    positions : ndarray, shape (N, d), float64
        Wrapped into ``[0, L)`` [length].
    velocities : ndarray, shape (N, d), float64
        [length/time].
    images : ndarray, shape (N, d), int64
        Box crossings, so ``positions + images * L`` is the unwrapped position.
    diameters : ndarray, shape (N,), float64
        Particle diameters ``a_i`` [length].
    box : Box
    seed : int
        Seed of every random number the run draws.
    mass : float
        Particle mass [mass] (all particles).
    step : int
        Steps (MD) or sweeps (MC) done so far, summed over all stages.
    time : float
        Simulated time [time], summed over all stages.
    dt, step_origin, time_origin : float, int, float
        The current stage's time step and where it started, so that
        ``time = time_origin + (step - step_origin) * dt`` exactly, however the
        run was split into chunks or restarts.
    list_reference : ndarray, shape (N, d), or None
        Unwrapped positions at the last neighbour-list build, per particle (Monte
        Carlo re-lists particles one at a time); restarts rebuild the same list.
    list_builds : int
        Neighbour-list builds so far in this stage (Monte Carlo: single-particle
        re-lists, see :func:`simlib.neighbours.relist_particle`).
    mc_trials, mc_accepted : int
        Metropolis trial moves and accepted moves so far in this stage.
    """

    positions: np.ndarray
    velocities: np.ndarray
    images: np.ndarray
    diameters: np.ndarray
    box: Box
    seed: int
    mass: float = 1.0
    step: int = 0
    time: float = 0.0
    dt: float = 0.0
    step_origin: int = 0
    time_origin: float = 0.0
    list_reference: np.ndarray = field(default=None, repr=False)
    list_builds: int = 0
    mc_trials: int = 0
    mc_accepted: int = 0

    def __post_init__(self):
        self.seed = check_seed(self.seed)
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float64)
        n, d = self.positions.shape
        if d != self.box.dim:
            raise ValueError(f"state: positions have {d} columns but the box is {self.box.dim}D")
        if n < 2:
            raise ValueError(f"state: need at least 2 particles, got {n}")
        self.velocities = np.ascontiguousarray(self.velocities, dtype=np.float64)
        self.images = np.ascontiguousarray(self.images, dtype=np.int64)
        self.diameters = np.ascontiguousarray(self.diameters, dtype=np.float64)
        for name in ("velocities", "images"):
            if getattr(self, name).shape != (n, d):
                raise ValueError(f"state: {name} must have shape {(n, d)}, got {getattr(self, name).shape}")
        if self.diameters.shape != (n,):
            raise ValueError(f"state: diameters must have shape {(n,)}, got {self.diameters.shape}")
        if not np.all(self.diameters > 0):
            raise ValueError("state: every diameter must be positive")
        if not self.mass > 0:
            raise ValueError(f"state: mass must be positive, got {self.mass}")
        if self.list_reference is not None:
            self.list_reference = np.ascontiguousarray(self.list_reference, dtype=np.float64)
        wrap_into_box(self)

    @property
    def n(self):
        return self.positions.shape[0]

    @property
    def dim(self):
        return self.positions.shape[1]

    @property
    def density(self):
        """Number density N / V [1/length^d]."""
        return self.n / self.box.volume

    def unwrapped_positions(self):
        return self.box.unwrap(self.positions, self.images)

    def copy(self):
        """A deep copy (arrays copied)."""
        arrays = {
            name: None if getattr(self, name) is None else getattr(self, name).copy()
            for name in ("positions", "velocities", "images", "diameters", "list_reference")
        }
        return replace(self, **arrays)

    def begin_stage(self, dt):
        """Start a new stage with time step ``dt`` [time] (0 for Monte Carlo).

        Sets the stage's time origin and resets the list-build and acceptance counters.
        """
        self.dt = float(dt)
        self.step_origin = self.step
        self.time_origin = self.time
        self.list_builds = 0
        self.mc_trials = 0
        self.mc_accepted = 0


# -- argument checks at the public entry points (plain Python, outside the kernels) --------
def check_real(name, value, positive=False, allow_none=False):
    """``value`` as a float, or ValueError naming ``name`` (strings, bools, NaN and inf refused)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or (positive and not value > 0):
        raise ValueError(f"{name} must be a {'positive ' if positive else ''}finite number, got {value!r}")
    return value


def check_finite_array(name, array):
    """ValueError naming ``name`` and the first bad particle if ``array`` holds NaN or inf."""
    bad = ~np.isfinite(array)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise ValueError(f"state.{name}: {int(bad.any(axis=-1).sum()) if bad.ndim > 1 else int(bad.sum())} "
                         f"particle(s) not finite, first particle {i} ({array[i].tolist()})")


def wrap_into_box(state):
    """Wrap ``state.positions`` into [0, L) in place, recording the crossings in ``state.images``.

    Kernels assume wrapped positions (a cell index is clamped, a minimum image is one
    shift); a configuration in the centred convention [-L/2, L/2) would otherwise give
    wrong forces without an error. Unwrapped positions are unchanged (to rounding).
    """
    check_finite_array("positions", state.positions)
    check_finite_array("velocities", state.velocities)
    x, lengths = state.positions, state.box.lengths
    if np.any(x < 0.0) or np.any(x >= lengths):
        state.box.wrap(x, state.images)


def kinetic_energy(velocities, mass=1.0):
    """Total kinetic energy ``sum m v^2 / 2`` [energy]."""
    return 0.5 * mass * float(np.sum(velocities * velocities))


def kinetic_temperature(velocities, mass=1.0):
    """``2 K / (d N)`` [energy]: equals T by equipartition (no momentum constraint removed)."""
    n, d = velocities.shape
    return 2.0 * kinetic_energy(velocities, mass) / (d * n)


def total_momentum(velocities, mass=1.0):
    """``sum m v`` [mass length/time], shape (d,)."""
    return mass * velocities.sum(axis=0)


def pressure(kinetic, virial, volume, dim, tail=0.0):
    """Virial pressure ``(2K + W) / (d V) + P_tail`` [energy/length^d]."""
    return (2.0 * kinetic + virial) / (dim * volume) + tail
