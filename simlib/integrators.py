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

import numba
import numpy as np
from numba import prange

from ._kernels import empty, inlined, specialised, variant, zeros
from .geometry import wrap_coordinate
from .neighbours import _BUILD, chunk_index, empty_chunk_index, is_half_list, keep_chunk_index
from .potentials import _ENERGY_FORCES, _all_equal
from .rng import STREAM_LANGEVIN, threefry2x64, ziggurat_normal

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
    limit : float or None, default None
        Largest displacement of a particle in one step [length], as LAMMPS's
        ``fix nve/limit``: a particle that would move further moves ``limit`` along
        its step, and its velocity is scaled by the same factor. For violent starts
        (a hot quench from a lattice, where at large N some pair always comes close
        enough for one Euler step to blow up). A run where the limit never acts is
        bit-identical to one without it; the number of limited particle-steps is
        :attr:`simlib.Simulation.limited`. None: no limit (the course's integrator).
    """

    kT: float
    dt: float = 0.01
    friction: float = 1.0
    scheme: str = "euler"
    limit: float = None

    def __post_init__(self):
        _check_positive("langevin", kT=self.kT, dt=self.dt, friction=self.friction)
        if self.scheme not in SCHEMES:
            raise ValueError(f"langevin.scheme must be one of {sorted(SCHEMES)}, got {self.scheme!r}")
        if self.limit is not None:
            _check_positive("langevin", limit=self.limit)

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
    limit = None
    code = VERLET


def run_dynamics(
    scheme, x, images, v, f, diameters, box, kind, eps, r_cut, skin,
    neighbours, counts, reference, seed, step0, n_steps, dt, kT, friction, mass, max_move,
    limit=np.inf, parallel=False,
):
    """Advance ``n_steps`` steps in place (on numba's threads if ``parallel``).

    On entry ``f`` holds the forces at ``x`` and ``neighbours`` is a half list valid for
    ``reference`` (each pair is evaluated once, on one thread or several). A
    displacement longer than ``limit`` is shortened to it (see :class:`Langevin`).
    Returns ``(status, steps_done, U, W, builds, limited, info, neighbours)``:
    ``limited`` the number of particle-steps shortened; on
    ``TOO_FAST`` ``info`` is the particle that moved more than ``max_move`` in one step
    (the lowest index if several did), on ``NON_FINITE`` -1; ``neighbours`` the list's
    table, a new, wider one if a build needed more room than the old one had (the run
    goes on instead of starting the chunk again). Arrays are left mid-step when the
    status is not ``OK``; the caller restores a snapshot.

    Every loop over particles can run in parallel (``prange``) and touches only its own
    particle; the decisions that need all particles (rebuild, blow-up) are taken from
    per-particle flags scanned in index order, so the result never depends on the
    number of threads.
    """
    if not is_half_list(neighbours, counts):
        raise ValueError("run_dynamics: needs a half neighbour list (a full one would count every pair twice)")
    kernel = _RUN_DYNAMICS[(x.shape[1] == 3, bool(parallel))]
    return kernel(scheme, x, images, v, f, diameters, box, kind, eps, r_cut, skin, neighbours, counts,
                  reference, seed, step0, n_steps, dt, kT, friction, mass, max_move, limit,
                  numba.get_num_threads() if parallel else 1, *empty_chunk_index(x.shape[1]))


# Set per specialisation (end of this module): the particle update, list build, chunk index
# and force kernels, serial or parallel, of the dimension; and whether it is 3D.
MOVE = BUILD = CHUNK_INDEX = ENERGY_FORCES = NOISE = None
THREE_D = False


def _run_dynamics_with(
    scheme, x, images, v, f, diameters, box, kind, eps, r_cut, skin,
    neighbours, counts, reference, seed, step0, n_steps, dt, kT, friction, mass, max_move, limit, threads,
    chunk_start, gather_start, crossing, gather, crossing_forces,
):
    n, d = x.shape
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
    limit2 = limit * limit
    limited = 0
    flags = zeros(n, np.uint8)
    # plain bools, not literals: a literal argument would compile the kernel it is passed
    # to once more for each value (and apart from the one the Python callers use)
    yes, no = np.bool_(True), np.bool_(False)
    noisy = scheme != VERLET
    words = empty((3 if d == 3 else 2, n if noisy else 0), np.uint64)
    noise = zeros((n if noisy else 0, d), np.float64)
    u_part = empty(n, np.float64)
    w_part = empty(n, np.float64)
    monodisperse = _all_equal(diameters)
    chunk_start, gather_start, crossing, gather, crossing_forces = CHUNK_INDEX(
        neighbours, counts, threads, chunk_start, gather_start, crossing, gather, crossing_forces)
    for s in range(n_steps):
        step = np.uint64(step0 + s)
        if noisy:
            NOISE(seed, step, words, noise)
        MOVE(scheme, x, images, v, f, box, reference, noise, dt, friction, inv_mass, noise_euler, c1, c2,
             half_skin2, max_move2, limit2, flags, no)
        rebuild = False
        for i in range(n):
            flag = flags[i]
            if flag & _FLAG_TOO_FAST:
                return TOO_FAST, s, u_total, virial, builds, limited, i, neighbours
            if flag & _FLAG_FAR:
                rebuild = True
            if flag & _FLAG_LIMITED:
                limited += 1
        if rebuild:
            needed = BUILD(x, box, r_list, neighbours, counts)
            while needed > neighbours.shape[1]:
                neighbours = empty((n, np.int64(np.ceil(1.25 * needed))), np.int32)
                needed = BUILD(x, box, r_list, neighbours, counts)
            _set_reference(x, images, box, reference)
            chunk_start, gather_start, crossing, gather, crossing_forces = CHUNK_INDEX(
                neighbours, counts, threads, chunk_start, gather_start, crossing, gather, crossing_forces)
            builds += 1
        u_total, virial = ENERGY_FORCES(x, diameters, box, kind, eps, r_cut, neighbours, counts, f, u_part, w_part,
                                        yes, monodisperse, chunk_start, gather_start, crossing, gather,
                                        crossing_forces)
        if not np.isfinite(u_total):
            return NON_FINITE, s, u_total, virial, builds, limited, -1, neighbours
        if scheme != EULER:
            MOVE(scheme, x, images, v, f, box, reference, noise, dt, friction, inv_mass, noise_euler, c1, c2,
                 half_skin2, max_move2, limit2, flags, yes)
    return OK, n_steps, u_total, virial, builds, limited, 0, neighbours


# per-particle flags of a step (bits)
_FLAG_FAR = 1  # moved more than skin / 2 from the list reference
_FLAG_TOO_FAST = 2  # moved more than max_move in one step (or not finite)
_FLAG_LIMITED = 4  # the step was shortened to the displacement limit


def _langevin_noise(seed, step, words, noise):
    """The step's standard normals, ``noise[i]`` from counter ``(step, 2 i)`` (and
    ``(step, 2 i + 1)`` for a third component), as :func:`simlib.rng.normal_pair` gives
    them. The Threefry words are drawn in a loop of their own, which the compiler
    vectorises (a third of the cost of drawing them one particle at a time)."""
    n = noise.shape[0]
    three_d = THREE_D
    key0 = np.uint64(seed)
    key1 = np.uint64(STREAM_LANGEVIN)
    for i in prange(n):
        w0, w1 = threefry2x64(step, np.uint64(2 * i), key0, key1)
        words[0, i] = w0
        words[1, i] = w1
        if three_d:
            w2, _ = threefry2x64(step, np.uint64(2 * i + 1), key0, key1)
            words[2, i] = w2
    for i in prange(n):
        noise[i, 0] = ziggurat_normal(words[0, i], seed, STREAM_LANGEVIN, step, np.uint64(2 * i), 0)
        noise[i, 1] = ziggurat_normal(words[1, i], seed, STREAM_LANGEVIN, step, np.uint64(2 * i), 1)
        if three_d:
            noise[i, 2] = ziggurat_normal(words[2, i], seed, STREAM_LANGEVIN, step, np.uint64(2 * i + 1), 0)


def _move_loop(scheme, x, images, v, f, box, reference, noise, dt, friction, inv_mass,
               noise_euler, c1, c2, half_skin2, max_move2, limit2, flags, kick_only):
    """One step's update of every particle, or (``kick_only``) the closing half kick of
    BAOAB and velocity Verlet. The body is written out in the loop: a helper taking
    arrays would cost reference counting on every particle."""
    n = x.shape[0]
    three_d = THREE_D
    d = 3 if three_d else 2
    for i in prange(n):
        if kick_only:
            for k in range(d):
                v[i, k] += 0.5 * dt * f[i, k] * inv_mass
            continue
        g0 = 0.0
        g1 = 0.0
        g2 = 0.0
        if scheme != VERLET:
            g0 = noise[i, 0]
            g1 = noise[i, 1]
            if three_d:
                g2 = noise[i, 2]
        v0, dx0 = _velocity_and_drift(scheme, v[i, 0], f[i, 0], g0, dt, friction, inv_mass, noise_euler, c1, c2)
        v1, dx1 = _velocity_and_drift(scheme, v[i, 1], f[i, 1], g1, dt, friction, inv_mass, noise_euler, c1, c2)
        v2 = 0.0
        dx2 = 0.0
        if three_d:
            v2, dx2 = _velocity_and_drift(scheme, v[i, 2], f[i, 2], g2, dt, friction, inv_mass, noise_euler, c1, c2)
        move2 = dx0 * dx0 + dx1 * dx1 + dx2 * dx2
        flag = 0
        if move2 > limit2:
            shorten = np.sqrt(limit2 / move2)
            v0 *= shorten
            v1 *= shorten
            v2 *= shorten
            dx0 *= shorten
            dx1 *= shorten
            dx2 *= shorten
            move2 = dx0 * dx0 + dx1 * dx1 + dx2 * dx2
            flag = _FLAG_LIMITED
        disp2 = 0.0
        for k in range(d):
            vk = v0 if k == 0 else (v1 if k == 1 else v2)
            dx = dx0 if k == 0 else (dx1 if k == 1 else dx2)
            v[i, k] = vk
            xk, shift = wrap_coordinate(x[i, k] + dx, box[k])
            images[i, k] += shift
            x[i, k] = xk
            delta = xk + images[i, k] * box[k] - reference[i, k]
            disp2 += delta * delta
        if disp2 > half_skin2:
            flag |= _FLAG_FAR
        if not (move2 <= max_move2):
            flag |= _FLAG_TOO_FAST
        flags[i] = flag


@inlined
def _velocity_and_drift(scheme, vk, fk, gk, dt, friction, inv_mass, noise_euler, c1, c2):
    """One velocity component's update and the position change it gives."""
    if scheme == EULER:
        vk += ((-friction * vk + fk) * dt + noise_euler * gk) * inv_mass
        return vk, vk * dt
    if scheme == BAOAB:
        vk += 0.5 * dt * fk * inv_mass
        dx = 0.5 * dt * vk
        vk = c1 * vk + c2 * gk
        dx += 0.5 * dt * vk
        return vk, dx
    vk += 0.5 * dt * fk * inv_mass
    return vk, vk * dt


@inlined
def _set_reference(x, images, box, reference):
    n, d = x.shape
    for i in range(n):
        for k in range(d):
            reference[i, k] = x[i, k] + images[i, k] * box[k]


# the step's noise and particle update, by dimension, serial or on threads; keyed by
# (three_d, parallel)
_NOISE = {
    (three_d, parallel): specialised(_langevin_noise, variant(three_d, parallel), parallel=parallel, THREE_D=three_d)
    for three_d in (False, True)
    for parallel in (False, True)
}
_MOVE = {
    (three_d, parallel): specialised(_move_loop, variant(three_d, parallel), parallel=parallel, THREE_D=three_d)
    for three_d in (False, True)
    for parallel in (False, True)
}

# keyed by (three_d, parallel); each compiles only when first used
_RUN_DYNAMICS = {
    (three_d, parallel): specialised(
        _run_dynamics_with, variant(three_d, parallel),
        MOVE=_MOVE[(three_d, parallel)],
        BUILD=_BUILD[(three_d, parallel, True)],
        CHUNK_INDEX=chunk_index if parallel else keep_chunk_index,
        ENERGY_FORCES=_ENERGY_FORCES[(three_d, parallel)],
        NOISE=_NOISE[(three_d, parallel)],
    )
    for three_d in (False, True)
    for parallel in (False, True)
}
