"""Pair potentials with per-pair diameters ``a_ij = (a_i + a_j) / 2``.

Three families, as in jax-md: the bare pair function of distance
(:func:`pair_energy_force`), a whole-system O(N^2) minimum-image version
(:func:`energy_forces_all_pairs`, the reference used by the tests and by tiny boxes)
and a neighbour-list version (:func:`energy_forces_list`, used by the integrators).

Units: reduced LJ units ([length] = particle diameter a, [energy] = eps).

The cut-off ``r_cut`` is an absolute length [length]; it is *not* scaled by ``a_ij``.
This is the course's convention (``#define cut 3.0`` in md.cpp). The energy shift
uses ``a_ij`` so that every pair energy is exactly continuous at ``r_cut``.

Kinds
-----
``soft12``   ``U = eps (a/r)^12 - eps (a/r_c)^12`` for ``r < r_c`` (course: r_c = 3.0).
``lj``       ``U = 4 eps [(a/r)^12 - (a/r)^6] + C``, ``C`` such that ``U(r_c) = 0``
             (``shift=True``, the default) or ``C = 0`` (``shift=False``: truncated and
             unshifted, the course's md.cpp/mc.cpp convention and that of the LJ-fluid
             literature's tail-corrected data). The minimum is at ``r = 2^(1/6) a``.
``lj_smooth`` force-shifted LJ, ``U = U0(r) - U0(r_c) - U0'(r_c) (r - r_c)``: energy
             and force both vanish at ``r_c`` (course final exam: r_c = 2.0).
``hard``     hard disks / spheres: infinite energy when ``r < a_ij``, else zero.
             Monte Carlo only.
``ideal``    no interaction at all (free particles; exact checks of the integrators).
"""

from dataclasses import dataclass
from math import comb

import numba
import numpy as np
from numba import prange

from ._kernels import empty, inlined, njit, specialised, variant
from .geometry import box_sides, min_image, separation
from .neighbours import chunk_index, empty_chunk_index, is_half_list

SOFT12 = 0
LJ = 1
LJ_SMOOTH = 2
HARD = 3
IDEAL = 4
LJ_UNSHIFTED = 5  # kernel code of ``Potential("lj", shift=False)``; not a kind of its own

KINDS = {"soft12": SOFT12, "lj": LJ, "lj_smooth": LJ_SMOOTH, "hard": HARD, "ideal": IDEAL}


def _check_numbers(potential):
    """ValueError naming the argument for a string, bool, NaN or inf ``r_cut``/``epsilon``."""
    for name in ("r_cut", "epsilon"):
        value = getattr(potential, name)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"potential.{name} must be a number, got {value!r}")


@dataclass(frozen=True)
class Potential:
    """A pair potential.

    Parameters
    ----------
    kind : {"soft12", "lj", "lj_smooth", "hard", "ideal"}
        Functional form (see the module docstring).
    r_cut : float
        Absolute cut-off distance [length]. Ignored for ``hard`` (the interaction
        range is the largest diameter).
    epsilon : float, default 1.0
        Energy scale [energy].
    tail_correction : bool, default False
        Add the analytic long-range correction of U and P beyond ``r_cut`` (``lj``
        in 3D only), as LAMMPS ``pair_modify tail yes``: it corrects for the
        truncated (unshifted) tail; the shift inside ``r_cut`` is not undone.
        With ``shift=False`` this is the standard tail correction of the
        truncated LJ fluid.
    shift : bool, default True
        ``lj`` only: shift the pair energy to zero at ``r_cut``. ``False`` keeps the
        truncated, unshifted potential (a jump of ``-U_LJ(r_cut)`` at the cut-off),
        valid for Monte Carlo and Langevin; NVE refuses it because energy is not
        conserved across the jump.
    """

    kind: str
    r_cut: float = 2.5
    epsilon: float = 1.0
    tail_correction: bool = False
    shift: bool = True

    def __post_init__(self):
        _check_numbers(self)
        if self.kind not in KINDS:
            raise ValueError(f"potential.kind: unknown kind {self.kind!r}; choose one of {sorted(KINDS)}")
        if not (np.isfinite(self.r_cut) and self.r_cut > 0):
            raise ValueError(f"potential.r_cut must be positive, got {self.r_cut}")
        if not (np.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"potential.epsilon must be positive, got {self.epsilon}")
        if self.tail_correction and self.kind != "lj":
            raise ValueError("potential.tail_correction is only defined for kind 'lj'")
        if not isinstance(self.shift, (bool, np.bool_)):
            raise ValueError(f"potential.shift must be true or false, got {self.shift!r}")
        if not self.shift and self.kind != "lj":
            raise ValueError("potential.shift=False is only defined for kind 'lj'")

    @property
    def code(self):
        if self.kind == "lj" and not self.shift:
            return LJ_UNSHIFTED
        return KINDS[self.kind]

    def interaction_range(self, diameters):
        """Largest distance at which two particles interact [length]."""
        if self.kind == "hard":
            return float(np.max(diameters))
        return float(self.r_cut)

    def pair(self, r, a_ij=1.0):
        """Pair energy [energy] and force magnitude ``-dU/dr`` [energy/length] at ``r``."""
        r = np.asarray(r, dtype=np.float64)
        a = np.broadcast_to(np.asarray(a_ij, dtype=np.float64), r.shape)
        u = np.empty(r.shape)
        f = np.empty(r.shape)
        for idx in np.ndindex(r.shape):
            ui, fri = pair_energy_force(self.code, r[idx] ** 2, a[idx], self.epsilon, self.r_cut)
            u[idx], f[idx] = ui, fri * r[idx]
        return u, f

    def tail(self, diameters, density, dim):
        """Tail corrections ``(U_tail / N [energy], P_tail [energy/length^dim])``."""
        if not self.tail_correction:
            return 0.0, 0.0
        if dim != 3:
            raise ValueError("potential.tail_correction is only implemented in 3D")
        a12 = pair_moment(diameters, 12)
        a6 = pair_moment(diameters, 6)
        rc = self.r_cut
        u_tail = 8.0 * np.pi * density * self.epsilon * (a12 / (9.0 * rc**9) - a6 / (3.0 * rc**3))
        p_tail = (16.0 / 3.0) * np.pi * density**2 * self.epsilon * (
            (2.0 / 3.0) * a12 / rc**9 - a6 / rc**3
        )
        return float(u_tail), float(p_tail)


def pair_moment(diameters, n):
    """Mean of ``a_ij^n`` over all ordered pairs, from single-particle moments (exact)."""
    a = np.asarray(diameters, dtype=np.float64)
    moments = [np.mean(a**k) for k in range(n + 1)]
    return sum(comb(n, k) * moments[k] * moments[n - k] for k in range(n + 1)) / 2.0**n


@inlined
def power_law_coefficients(kind, eps, r_cut):
    """Coefficients of the power-law kinds (soft12, lj, unshifted lj), computed once per
    kernel call: ``U = A12 (a/r)^12 + A6 (a/r)^6 - a^6 (S12 a^6 + S6)`` with the shift
    terms ``S`` making ``U(r_cut) = 0`` (zero for unshifted LJ), and
    ``-dU/dr / r = (12 A12 (a/r)^12 + 6 A6 (a/r)^6) / r^2``.

    Returns ``(power_law, A12, A6, S12, S6)``; ``power_law`` is False for the other kinds.
    """
    inv_c6 = 1.0 / (r_cut * r_cut * r_cut * r_cut * r_cut * r_cut)
    if kind == SOFT12:
        return True, eps, 0.0, eps * inv_c6 * inv_c6, 0.0
    if kind == LJ:
        return True, 4.0 * eps, -4.0 * eps, 4.0 * eps * inv_c6 * inv_c6, -4.0 * eps * inv_c6
    if kind == LJ_UNSHIFTED:
        return True, 4.0 * eps, -4.0 * eps, 0.0, 0.0
    return False, 0.0, 0.0, 0.0, 0.0


@inlined
def pair_term(kind, r2, a_ij, eps, r_cut, coefficients):
    """Pair energy and ``-dU/dr / r`` for squared distance ``r2 < r_cut^2``.

    ``coefficients`` come from :func:`power_law_coefficients`, computed once outside the
    pair loop: the common kinds then take one branch-free path (one division per pair).
    Returning the force divided by ``r`` lets callers form the force vector as
    ``fr * dr`` and the pair virial as ``fr * r2`` without a square root.
    """
    power_law, a12, a6, s12_shift, s6_shift = coefficients
    if power_law:
        inv_r2 = 1.0 / r2
        a2 = a_ij * a_ij
        s2 = a2 * inv_r2
        s6 = s2 * s2 * s2
        s12 = s6 * s6
        a2_cubed = a2 * a2 * a2
        u = a12 * s12 + a6 * s6 - a2_cubed * (s12_shift * a2_cubed + s6_shift)
        return u, (12.0 * a12 * s12 + 6.0 * a6 * s6) * inv_r2
    if kind == IDEAL:
        return 0.0, 0.0
    if kind == HARD:
        if r2 < a_ij * a_ij:
            return np.inf, 0.0
        return 0.0, 0.0
    # LJ_SMOOTH: subtract the value and the slope of the plain LJ at r_cut
    inv_r2 = 1.0 / r2
    a2 = a_ij * a_ij
    s2 = a2 * inv_r2
    s6 = s2 * s2 * s2
    s12 = s6 * s6
    c2 = a2 / (r_cut * r_cut)
    c6 = c2 * c2 * c2
    c12 = c6 * c6
    u_c = 4.0 * eps * (c12 - c6)
    du_c = -24.0 * eps * (2.0 * c12 - c6) / r_cut
    r = np.sqrt(r2)
    u = 4.0 * eps * (s12 - s6) - u_c - du_c * (r - r_cut)
    return u, (24.0 * eps * (2.0 * s12 - s6) / r + du_c) / r


@njit(forceinline=True)
def pair_energy_force(kind, r2, a_ij, eps, r_cut):
    """Pair energy and ``-dU/dr / r`` for squared distance ``r2`` (inside or outside r_cut).

    The same arithmetic as the kernels' :func:`pair_term` (so every code path gives the
    same bits); a hard-particle pair has no cut-off.
    """
    if kind != HARD and r2 >= r_cut * r_cut:
        return 0.0, 0.0
    return pair_term(kind, r2, a_ij, eps, r_cut, power_law_coefficients(kind, eps, r_cut))


@njit
def energy_forces_all_pairs(x, diameters, box, kind, eps, r_cut, forces):
    """O(N^2) minimum-image reference: fills ``forces`` (N, d), returns (U, W).

    ``W = sum_{i<j} r_ij . F_ij`` is the pair virial [energy]. Requires every box
    side ``>= 2 r_cut`` so that at most one image of a pair interacts.
    """
    n, d = x.shape
    half_box = 0.5 * box
    forces[:, :] = 0.0
    u_total = 0.0
    virial = 0.0
    dr = empty(d, np.float64)
    for i in range(n):
        for j in range(i + 1, n):
            r2 = 0.0
            for k in range(d):
                dr[k] = min_image(x[i, k] - x[j, k], box[k], half_box[k])
                r2 += dr[k] * dr[k]
            u, fr = pair_energy_force(kind, r2, 0.5 * (diameters[i] + diameters[j]), eps, r_cut)
            if u != 0.0 or fr != 0.0:
                u_total += u
                virial += fr * r2
                for k in range(d):
                    forces[i, k] += fr * dr[k]
                    forces[j, k] -= fr * dr[k]
    return u_total, virial


def energy_forces_list(x, diameters, box, kind, eps, r_cut, neighbours, counts, forces, parallel=False,
                       half=False):
    """Energies and forces from a neighbour list with sorted rows: a full list (every pair
    appears twice) or, with ``half``, a half list (``j > i`` only); ``parallel`` (numba's
    threads) needs a half list.

    The force on particle ``i`` is ``F_lower + F_upper``: the pair forces from its
    neighbours ``j < i`` and from those ``j > i``, each summed in ascending ``j``. The
    serial kernel evaluates each pair once (``j > i``) and applies Newton's third law.
    The parallel one runs the serial loop on each thread's chunk of particles; a pair
    whose partner lies in a later chunk is evaluated first and starts the partner's
    force, in ascending ``i`` (:func:`simlib.neighbours.chunk_index`). Per-particle
    energies and virials of the upper pairs are reduced in index order, so every thread
    count gives the serial result. The result is a deterministic function of the
    positions alone: it does not depend on when the list was built, nor on whether it is
    half or full. Returns ``(U, W)`` as :func:`energy_forces_all_pairs`.
    """
    if parallel and not half:
        raise ValueError("energy_forces_list: the parallel kernel needs a half list (half=True)")
    if half and not is_half_list(neighbours, counts):
        raise ValueError("energy_forces_list: half=True, but the list is full (every pair would count twice)")
    kernel = _ENERGY_FORCES[(x.shape[1] == 3, bool(parallel))]
    chunks = empty_chunk_index(x.shape[1])
    if parallel:
        chunks = chunk_index(neighbours, counts, numba.get_num_threads(), *chunks)
    n = x.shape[0]
    # exact equality, as the kernels' _all_equal tests it
    monodisperse = bool(n == 0 or (diameters == diameters[0]).all())
    return kernel(x, diameters, box, kind, eps, r_cut, neighbours, counts, forces, np.empty(n), np.empty(n),
                  bool(half), monodisperse, *chunks)


@inlined
def _all_equal(values):
    """Whether every entry equals the first: then the pair loops need not read the
    partner's diameter (``0.5 * (a + a) == a`` exactly, so the bits are the same)."""
    for i in range(1, values.shape[0]):
        if values[i] != values[0]:
            return False
    return True


@njit(inline="always")
def first_above(neighbours, i, count):
    """Position in the sorted row ``i`` of its first neighbour with index above ``i``:
    the number of entries below ``i``, counted without branches (vectorised)."""
    below = 0
    for k in range(count):
        below += neighbours[i, k] < i
    return below


# Set per specialisation (see the end of this module): whether the kernel is the 3D one,
# and whether it runs chunks on threads.
THREE_D = False
CHUNKED = False


def _energy_forces_with(x, diameters, box, kind, eps, r_cut, neighbours, counts, forces, u_part, w_part,
                        half, monodisperse, chunk_start, gather_start, crossing, gather, crossing_forces):
    """Fill ``forces`` from a neighbour list (see :func:`energy_forces_list`) and return
    ``(U, W)``, the per-particle parts ``u_part`` and ``w_part`` (scratch, length N)
    summed in index order. ``monodisperse``: all diameters are equal (see
    :func:`_all_equal`)."""
    # each chunk of particles (one per thread; one in all for the serial kernel) runs the
    # loop of Newton's third law; the pairs whose partner lies in a later chunk
    # (crossings, see chunk_index) are evaluated first and start their partners' forces.
    # The bodies are written out, not in a helper taking arrays: a helper's array
    # arguments cost reference counting (atomic increments) on every particle
    n, d = x.shape
    three_d = THREE_D
    lx, ly, lz, hx, hy, hz = box_sides(box, three_d)
    rc2 = r_cut * r_cut
    coefficients = power_law_coefficients(kind, eps, r_cut)
    # the serial kernel: one chunk of all particles, no crossings, known at compile time
    chunks = chunk_start.shape[0] - 1 if CHUNKED else 1
    for p in prange(gather_start[chunks] if CHUNKED else 0):
        i = crossing[p, 0]
        j = crossing[p, 1]
        dx, dy, dz, r2 = separation(x[i, 0] - x[j, 0], x[i, 1] - x[j, 1],
                                    (x[i, 2] - x[j, 2]) if three_d else 0.0, lx, ly, lz, hx, hy, hz, three_d)
        gx = 0.0
        gy = 0.0
        gz = 0.0
        if r2 < rc2:
            a_ij = diameters[i] if monodisperse else 0.5 * (diameters[i] + diameters[j])
            _, fr = pair_term(kind, r2, a_ij, eps, r_cut, coefficients)
            gx = fr * dx
            gy = fr * dy
            gz = fr * dz
        # stored beyond the cut-off too (as zero): x - 0.0 is x, so the gather needs no test
        crossing_forces[p, 0] = gx
        crossing_forces[p, 1] = gy
        if three_d:
            crossing_forces[p, 2] = gz
    for c in prange(chunks):
        start = chunk_start[c] if CHUNKED else 0
        end = chunk_start[c + 1] if CHUNKED else n
        for i in range(start, end):
            for k in range(d):
                forces[i, k] = 0.0
        # the crossings into this chunk, ascending i for each partner: the serial loop's
        # forces[j] -= f_ij of the rows before the chunk
        for q in range(gather_start[c] if CHUNKED else 0, gather_start[c + 1] if CHUNKED else 0):
            p = gather[q]
            j = crossing[p, 1]
            forces[j, 0] -= crossing_forces[p, 0]
            forces[j, 1] -= crossing_forces[p, 1]
            if three_d:
                forces[j, 2] -= crossing_forces[p, 2]
        for i in range(start, end):
            xi, yi = x[i, 0], x[i, 1]
            zi = x[i, 2] if three_d else 0.0
            ai = diameters[i]
            fx = 0.0
            fy = 0.0
            fz = 0.0
            ui = 0.0
            wi = 0.0
            count = counts[i]
            for jj in range(0 if half else first_above(neighbours, i, count), count):
                j = neighbours[i, jj]
                dx, dy, dz, r2 = separation(xi - x[j, 0], yi - x[j, 1], zi - (x[j, 2] if three_d else 0.0),
                                            lx, ly, lz, hx, hy, hz, three_d)
                if r2 < rc2:
                    # a partner's diameter is a second scattered load per pair: skipped
                    # when all are equal
                    a_ij = ai if monodisperse else 0.5 * (ai + diameters[j])
                    u, fr = pair_term(kind, r2, a_ij, eps, r_cut, coefficients)
                    ui += u
                    wi += fr * r2
                    fx += fr * dx
                    fy += fr * dy
                    if three_d:
                        fz += fr * dz
                    # a crossing's partner has its force already (evaluated again here for
                    # this row's sums: the same arithmetic, the same bits); one chunk has
                    # no crossings, and the serial kernel no test
                    if not CHUNKED or j < end:
                        forces[j, 0] -= fr * dx
                        forces[j, 1] -= fr * dy
                        if three_d:
                            forces[j, 2] -= fr * dz
            # forces[i] holds the complete lower sum: every j < i has been visited
            forces[i, 0] += fx
            forces[i, 1] += fy
            if three_d:
                forces[i, 2] += fz
            u_part[i] = ui
            w_part[i] = wi
    u_total = 0.0
    virial = 0.0
    for i in range(n):
        u_total += u_part[i]
        virial += w_part[i]
    return u_total, virial


@njit
def particle_energy(i, xi, x, diameters, box, kind, eps, r_cut, neighbours, counts):
    """Interaction energy of particle ``i`` placed at the wrapped position ``xi`` (d,).

    Sums over the listed neighbours of ``i``; returns ``inf`` on a hard-particle overlap.
    """
    d = x.shape[1]
    zi = xi[2] if d == 3 else 0.0
    return _site_energy(i, xi[0], xi[1], zi, x, diameters, box, kind, eps, r_cut, neighbours, counts)


@njit
def _site_energy(i, px, py, pz, x, diameters, box, kind, eps, r_cut, neighbours, counts):
    three_d = x.shape[1] == 3
    lx, ly = box[0], box[1]
    hx, hy = 0.5 * lx, 0.5 * ly
    lz = box[2] if three_d else 1.0
    hz = 0.5 * lz
    ai = diameters[i]
    u_total = 0.0
    for jj in range(counts[i]):
        j = neighbours[i, jj]
        dx = min_image(px - x[j, 0], lx, hx)
        dy = min_image(py - x[j, 1], ly, hy)
        r2 = dx * dx + dy * dy
        if three_d:
            dz = min_image(pz - x[j, 2], lz, hz)
            r2 += dz * dz
        u, _ = pair_energy_force(kind, r2, 0.5 * (ai + diameters[j]), eps, r_cut)
        u_total += u
    return u_total


@njit
def move_energy_change(i, new, x, diameters, box, kind, eps, r_cut, neighbours, counts):
    """``U(i at new) - U(i at x[i])`` over the listed neighbours of ``i``, in one pass.

    Returns ``inf`` as soon as the new position overlaps a hard particle.
    """
    if x.shape[1] == 3:
        return move_energy_change_3d(
            i, new[0], new[1], new[2], x, diameters, box, kind, eps, r_cut, neighbours, counts, False
        )
    return move_energy_change_2d(i, new[0], new[1], x, diameters, box, kind, eps, r_cut, neighbours, counts, False)


@njit(inline="always")
def move_energy_change_2d(i, nx, ny, x, diameters, box, kind, eps, r_cut, neighbours, counts, monodisperse):
    """:func:`move_energy_change` in 2D with the trial position as scalars; with
    ``monodisperse`` (all diameters equal) the partners' diameters are not read."""
    lx, ly = box[0], box[1]
    hx, hy = 0.5 * lx, 0.5 * ly
    rc2 = r_cut * r_cut
    coefficients = power_law_coefficients(kind, eps, r_cut)
    ai = diameters[i]
    ox, oy = x[i, 0], x[i, 1]
    u_old = 0.0
    u_new = 0.0
    for jj in range(counts[i]):
        j = neighbours[i, jj]
        xj, yj = x[j, 0], x[j, 1]
        a_ij = ai if monodisperse else 0.5 * (ai + diameters[j])
        dx = min_image(nx - xj, lx, hx)
        dy = min_image(ny - yj, ly, hy)
        r2_new = dx * dx + dy * dy
        if kind == HARD:
            if r2_new < a_ij * a_ij:
                return np.inf
            continue
        dx = min_image(ox - xj, lx, hx)
        dy = min_image(oy - yj, ly, hy)
        r2_old = dx * dx + dy * dy
        if r2_new < rc2:
            u, _ = pair_term(kind, r2_new, a_ij, eps, r_cut, coefficients)
            u_new += u
        if r2_old < rc2:
            u, _ = pair_term(kind, r2_old, a_ij, eps, r_cut, coefficients)
            u_old += u
    return u_new - u_old


@njit(inline="always")
def move_energy_change_3d(i, nx, ny, nz, x, diameters, box, kind, eps, r_cut, neighbours, counts, monodisperse):
    """:func:`move_energy_change` in 3D with the trial position as scalars (see the 2D one)."""
    lx, ly, lz = box[0], box[1], box[2]
    hx, hy, hz = 0.5 * lx, 0.5 * ly, 0.5 * lz
    rc2 = r_cut * r_cut
    coefficients = power_law_coefficients(kind, eps, r_cut)
    ai = diameters[i]
    ox, oy, oz = x[i, 0], x[i, 1], x[i, 2]
    u_old = 0.0
    u_new = 0.0
    for jj in range(counts[i]):
        j = neighbours[i, jj]
        xj, yj, zj = x[j, 0], x[j, 1], x[j, 2]
        a_ij = ai if monodisperse else 0.5 * (ai + diameters[j])
        dx = min_image(nx - xj, lx, hx)
        dy = min_image(ny - yj, ly, hy)
        dz = min_image(nz - zj, lz, hz)
        r2_new = dx * dx + dy * dy
        r2_new += dz * dz
        if kind == HARD:
            if r2_new < a_ij * a_ij:
                return np.inf
            continue
        dx = min_image(ox - xj, lx, hx)
        dy = min_image(oy - yj, ly, hy)
        dz = min_image(oz - zj, lz, hz)
        r2_old = dx * dx + dy * dy
        r2_old += dz * dz
        if r2_new < rc2:
            u, _ = pair_term(kind, r2_new, a_ij, eps, r_cut, coefficients)
            u_new += u
        if r2_old < rc2:
            u, _ = pair_term(kind, r2_old, a_ij, eps, r_cut, coefficients)
            u_old += u
    return u_new - u_old


# The force kernels, specialised by dimension (a 3D branch taken on every pair costs
# about a fifth of the 2D kernel's time) and by thread use (the parallel ones run on
# numba's threads); keyed by (three_d, parallel), each compiled only when first used.
_ENERGY_FORCES = {
    (three_d, parallel): specialised(_energy_forces_with, variant(three_d, parallel), parallel=parallel,
                                     THREE_D=three_d, CHUNKED=parallel)
    for three_d in (False, True)
    for parallel in (False, True)
}
