"""Langevin (course Euler step, BAOAB) and velocity-Verlet integrators.

Each integrator is a small frozen dataclass of parameters (HOOMD-style: physical
inputs without a natural default are required) plus one cached numba kernel,
:func:`run_dynamics`, that advances many steps without returning to Python. The
kernel also keeps the neighbour list valid and stops with a status code on a
numerical blow-up.

Langevin equation (course, zeta = friction, m = mass):
``m dv/dt = -zeta v + F + F_B`` with ``<F_B(t) F_B(t')> = 2 kT zeta delta(t - t')``.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit

from .geometry import wrap_coordinate
from .neighbours import build_list
from .potentials import energy_forces_list
from .rng import STREAM_LANGEVIN, normal_pair

EULER = 0
BAOAB = 1
VERLET = 2
SCHEMES = {"euler": EULER, "baoab": BAOAB}

# status codes returned by the kernels
OK = 0
LIST_OVERFLOW = 1
NON_FINITE = 2
TOO_FAST = 3


def _check_positive(owner, **values):
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"{owner}.{name} must be a number, got {value!r}")
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{owner}.{name} must be > 0, got {value}")


@dataclass(frozen=True)
class Langevin:
    """Langevin thermostat.

    Parameters
    ----------
    kT : float
        Bath temperature [energy]. Required.
    dt : float, default 0.01
        Time step [time].
    friction : float, default 1.0
        Friction coefficient zeta [mass/time].
    scheme : {"euler", "baoab"}, default "euler"
        ``"euler"`` is the course's semi-implicit step
        ``v += ((-zeta v + F) dt + sqrt(2 zeta kT dt) R) / m;  x += v dt``
        (reproduces the course's numbers). ``"baoab"`` is the Leimkuhler-Matthews
        splitting (kick, drift, exact Ornstein-Uhlenbeck, drift, kick), whose
        configurational sampling error is much smaller at large ``dt``.
    """

    kT: float
    dt: float = 0.01
    friction: float = 1.0
    scheme: str = "euler"

    def __post_init__(self):
        _check_positive("langevin", kT=self.kT, dt=self.dt, friction=self.friction)
        if self.scheme not in SCHEMES:
            raise ValueError(f"langevin.scheme must be one of {sorted(SCHEMES)}, got {self.scheme!r}")

    @property
    def code(self):
        return SCHEMES[self.scheme]


@dataclass(frozen=True)
class VelocityVerlet:
    """Newton's equations (NVE) with velocity Verlet.

    Parameters
    ----------
    dt : float, default 0.001
        Time step [time].
    """

    dt: float = 0.001

    def __post_init__(self):
        _check_positive("nve", dt=self.dt)

    kT = 0.0
    friction = 0.0
    code = VERLET


@njit(cache=True)
def run_dynamics(
    scheme, x, images, v, f, diameters, box, kind, eps, r_cut, skin,
    neighbours, counts, reference, seed, step0, n_steps, dt, kT, friction, mass, max_move,
):
    """Advance ``n_steps`` steps in place.

    On entry ``f`` holds the forces at ``x`` and ``neighbours`` is valid for
    ``reference``. Returns ``(status, steps_done, U, W, builds, info)``: on
    ``LIST_OVERFLOW`` ``info`` is the capacity needed, on ``TOO_FAST`` the particle
    that moved more than ``max_move`` in one step, on ``NON_FINITE`` -1. Arrays are
    left mid-step when the status is not ``OK``; the caller restores a snapshot.
    """
    n, d = x.shape
    three_d = d == 3
    half_skin2 = 0.25 * skin * skin
    max_move2 = max_move * max_move
    inv_mass = 1.0 / mass
    noise_euler = np.sqrt(2.0 * friction * kT * dt)
    c1 = np.exp(-friction * dt * inv_mass)
    c2 = np.sqrt((1.0 - c1 * c1) * kT * inv_mass)
    r_list = r_cut + skin
    u_total = 0.0
    virial = 0.0
    builds = 0
    g = np.empty(4)
    for s in range(n_steps):
        step = np.uint64(step0 + s)
        rebuild = False
        for i in range(n):
            if scheme != VERLET:
                # counter (step, 2 i + call): the noise of particle i at a step never depends on N
                g[0], g[1] = normal_pair(seed, STREAM_LANGEVIN, step, np.uint64(2 * i))
                if three_d:
                    g[2], g[3] = normal_pair(seed, STREAM_LANGEVIN, step, np.uint64(2 * i + 1))
            move2 = 0.0
            disp2 = 0.0
            for k in range(d):
                if scheme == EULER:
                    v[i, k] += ((-friction * v[i, k] + f[i, k]) * dt + noise_euler * g[k]) * inv_mass
                    dx = v[i, k] * dt
                elif scheme == BAOAB:
                    v[i, k] += 0.5 * dt * f[i, k] * inv_mass
                    dx = 0.5 * dt * v[i, k]
                    v[i, k] = c1 * v[i, k] + c2 * g[k]
                    dx += 0.5 * dt * v[i, k]
                else:
                    v[i, k] += 0.5 * dt * f[i, k] * inv_mass
                    dx = v[i, k] * dt
                move2 += dx * dx
                xk, shift = wrap_coordinate(x[i, k] + dx, box[k])
                images[i, k] += shift
                x[i, k] = xk
                delta = xk + images[i, k] * box[k] - reference[i, k]
                disp2 += delta * delta
            if not (move2 <= max_move2):
                return TOO_FAST, s, u_total, virial, builds, i
            if disp2 > half_skin2:
                rebuild = True
        if rebuild:
            needed = build_list(x, box, r_list, neighbours, counts)
            if needed > neighbours.shape[1]:
                return LIST_OVERFLOW, s, u_total, virial, builds, needed
            for i in range(n):
                for k in range(d):
                    reference[i, k] = x[i, k] + images[i, k] * box[k]
            builds += 1
        u_total, virial = energy_forces_list(x, diameters, box, kind, eps, r_cut, neighbours, counts, f)
        if not np.isfinite(u_total):
            return NON_FINITE, s, u_total, virial, builds, -1
        if scheme != EULER:
            for i in range(n):
                for k in range(d):
                    v[i, k] += 0.5 * dt * f[i, k] * inv_mass
    return OK, n_steps, u_total, virial, builds, 0

