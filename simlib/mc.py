"""Metropolis Monte Carlo with single-particle displacement moves, and a move-size tuner.

One trial move picks a particle uniformly at random, displaces every coordinate
by ``move_size * U(-1, 1)`` and accepts with probability ``min(1, exp(-dU / kT))``;
for hard particles a move is accepted if and only if it creates no overlap. One
sweep is N trial moves. The energy change is computed locally through the
neighbour list. Random numbers come from counter ``(sweep, 4 t + k)`` for trial
``t`` of a sweep (see :mod:`simlib.rng`).
"""

from dataclasses import dataclass

import numpy as np

from ._kernels import empty, prefetch, prefetch_at, specialised
from .geometry import wrap_coordinate
from .integrators import LIST_OVERFLOW, OK, _check_positive
from .neighbours import _cell_grid, reference_cells, relist_particle
from .potentials import _all_equal, move_energy_change_2d, move_energy_change_3d
from .rng import STREAM_METROPOLIS, threefry2x64, to_unit_open


@dataclass(frozen=True)
class Metropolis:
    """Metropolis displacement moves.

    Parameters
    ----------
    kT : float
        Temperature [energy]. Required (ignored for hard particles, must still be > 0).
    move_size : float, default 0.15
        Largest displacement per coordinate, Delta r [length] (course: 0.15).
    checkerboard : bool, default False
        Sweep by checkerboard colours of a randomly shifted cell grid
        (:mod:`simlib.checkerboard`): the cells of one colour run on numba's threads,
        with the same bits for any thread count. A trial leaving its cell is rejected,
        so the acceptance is lower than the serial move's at the same ``move_size``.
        False: the course's serial sweep of N random trials.
    """

    kT: float
    move_size: float = 0.15
    checkerboard: bool = False

    def __post_init__(self):
        _check_positive("metropolis", kT=self.kT, move_size=self.move_size)
        if not isinstance(self.checkerboard, (bool, np.bool_)):
            raise ValueError(f"metropolis.checkerboard must be true or false, got {self.checkerboard!r}")
        object.__setattr__(self, "checkerboard", bool(self.checkerboard))  # a plain bool in saved metadata

    dt = 0.0


def run_metropolis(
    x, images, diameters, box, kind, eps, r_cut, skin, neighbours, counts, reference,
    seed, sweep0, n_sweeps, move_size, kT,
):
    """Advance ``n_sweeps`` sweeps in place.

    Returns ``(status, sweeps_done, accepted, relists, info)``; on ``LIST_OVERFLOW``
    ``info`` is the capacity needed. The list stays valid because a particle whose
    trial position lies more than ``skin / 2`` from its list reference is first
    re-listed at its current position (:func:`simlib.neighbours.relist_particle`),
    and ``move_size * sqrt(d) < skin / 2``. Which particles are re-listed, and when,
    changes cost only: the energy change sums the listed partners within ``r_cut``
    in ascending index order, the same for any valid list.
    """
    kernel = _run_metropolis_3d if x.shape[1] == 3 else _run_metropolis_2d
    return kernel(x, images, diameters, box, kind, eps, r_cut, skin, neighbours, counts, reference,
                  seed, sweep0, n_sweeps, move_size, kT)


# Set per specialisation (end of this module): whether the kernel is the 3D one.
THREE_D = False
# Trials whose random numbers are drawn together, in a loop the compiler vectorises; the
# particles of the trials LOOKAHEAD ahead have their rows prefetched, those half as far
# ahead their partners' coordinates (a random particle is rarely in cache at large N).
CHUNK = 256
LOOKAHEAD = 8


def _run_metropolis_with(
    x, images, diameters, box, kind, eps, r_cut, skin, neighbours, counts, reference,
    seed, sweep0, n_sweeps, move_size, kT,
):
    n, d = x.shape
    three_d = THREE_D
    half_skin2 = 0.25 * skin * skin
    r_list = r_cut + skin
    beta = 1.0 / kT
    monodisperse = _all_equal(diameters)
    lx, ly = box[0], box[1]
    lz = box[2] if three_d else 1.0
    wref = empty((n, d), np.float64)
    for m in range(n):
        for k in range(d):
            wref[m, k], _ = wrap_coordinate(reference[m, k], box[k])
    ncell, use_cells = _cell_grid(box, r_list, n)
    if use_cells:
        head, nxt, prv, cell = reference_cells(wref, box, ncell)
    else:
        head = empty(0, np.int64)
        nxt, prv, cell = head, head, head
    buffer = empty(neighbours.shape[1], neighbours.dtype)
    capacity = neighbours.shape[1]
    accepted = 0
    relists = 0
    draws = empty((5, CHUNK), np.float64)
    picks = empty(CHUNK, np.int64)
    key0 = np.uint64(seed)
    key1 = np.uint64(STREAM_METROPOLIS)
    for s in range(n_sweeps):
        sweep = np.uint64(sweep0 + s)
        for first in range(0, n, CHUNK):
            m = CHUNK if n - first > CHUNK else n - first
            # trial t's numbers: uniform_pair(seed, STREAM_METROPOLIS, sweep, 4 t + k)
            for k in range(m):
                t = first + k
                w0, w1 = threefry2x64(sweep, np.uint64(4 * t), key0, key1)
                w2, w3 = threefry2x64(sweep, np.uint64(4 * t + 1), key0, key1)
                draws[0, k] = to_unit_open(w0)
                draws[1, k] = to_unit_open(w1)
                draws[2, k] = to_unit_open(w2)
                draws[3, k] = to_unit_open(w3)
                if three_d:
                    w4, _ = threefry2x64(sweep, np.uint64(4 * t + 2), key0, key1)
                    draws[4, k] = to_unit_open(w4)
                else:
                    draws[4, k] = 0.5
                pick = np.int64(draws[0, k] * n)
                picks[k] = pick if pick < n - 1 else n - 1
            for k in range(m):
                if k + LOOKAHEAD < m:
                    ahead = picks[k + LOOKAHEAD]
                    for jj in range(0, capacity, 16):  # 16 int32 a 64-byte line
                        prefetch_at(neighbours, ahead, jj)
                    prefetch(counts, ahead)
                    prefetch(x, ahead)
                    prefetch(images, ahead)
                    prefetch(reference, ahead)
                if k + LOOKAHEAD // 2 < m:
                    ahead = picks[k + LOOKAHEAD // 2]
                    for jj in range(counts[ahead]):
                        j = neighbours[ahead, jj]
                        prefetch(x, j)
                        if not monodisperse:
                            prefetch(diameters, j)
                u1, u2, u3, u4 = draws[1, k], draws[2, k], draws[3, k], draws[4, k]
                i = picks[k]
                xi, yi = x[i, 0], x[i, 1]
                zi = x[i, 2] if three_d else 0.0
                # each coordinate as in the course: x + dr U(-1, 1), then wrapped
                px = xi + move_size * (2.0 * u2 - 1.0)
                py = yi + move_size * (2.0 * u3 - 1.0)
                delta = px + images[i, 0] * lx - reference[i, 0]
                disp2 = delta * delta
                delta = py + images[i, 1] * ly - reference[i, 1]
                disp2 += delta * delta
                px, sx = wrap_coordinate(px, lx)
                py, sy = wrap_coordinate(py, ly)
                pz, sz = 0.0, np.int64(0)
                if three_d:
                    pz = zi + move_size * (2.0 * u4 - 1.0)
                    delta = pz + images[i, 2] * lz - reference[i, 2]
                    disp2 += delta * delta
                    pz, sz = wrap_coordinate(pz, lz)
                if disp2 > half_skin2:
                    for c in range(d):
                        reference[i, c] = x[i, c] + images[i, c] * box[c]
                        wref[i, c] = x[i, c]
                    needed = relist_particle(
                        i, wref, box, r_list, ncell, use_cells, head, nxt, prv, cell, neighbours, counts, buffer
                    )
                    if needed > 0:
                        return LIST_OVERFLOW, s, accepted, relists, needed
                    relists += 1
                if three_d:
                    delta_u = move_energy_change_3d(
                        i, px, py, pz, x, diameters, box, kind, eps, r_cut, neighbours, counts, monodisperse
                    )
                else:
                    delta_u = move_energy_change_2d(i, px, py, x, diameters, box, kind, eps, r_cut, neighbours,
                                                    counts, monodisperse)
                # hard particles: delta_u is 0 or inf, so this is "accept iff no overlap"
                if delta_u <= 0.0 or u1 < np.exp(-beta * delta_u):
                    x[i, 0] = px
                    x[i, 1] = py
                    images[i, 0] += sx
                    images[i, 1] += sy
                    if three_d:
                        x[i, 2] = pz
                        images[i, 2] += sz
                    accepted += 1
    return OK, n_sweeps, accepted, relists, 0


@dataclass
class MoveSizeTuner:
    """Adjust ``move_size`` toward a target acceptance (equilibration only).

    Modelled on HOOMD's ``hpmc.tune.MoveSize``: acceptance is measured over the
    sweeps since the last update, and the move size is scaled by
    ``(gamma + a / target) / (gamma + 1)``, clipped to ``[min_move, max_move]``.

    Parameters
    ----------
    target : float, default 0.5
        Target acceptance in (0, 1).
    max_move : float or None, default None
        Largest move size [length]; None means the largest the neighbour-list skin allows.
    tol : float, default 0.01
        ``tuned`` becomes True when ``|a - target| / target < tol``.
    gamma : float, default 1.0
        Damping; larger is slower and steadier.
    min_move : float, default 1e-4
        Floor of the move size [length].
    """

    target: float = 0.5
    max_move: float = None
    tol: float = 0.01
    gamma: float = 1.0
    min_move: float = 1e-4
    tuned: bool = False

    def __post_init__(self):
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"tuner.target must be in (0, 1), got {self.target}")
        if self.max_move is not None:
            _check_positive("tuner", max_move=self.max_move)
        _check_positive("tuner", tol=self.tol, gamma=self.gamma, min_move=self.min_move)

    def update(self, move_size, trials, accepted, limit):
        """Return the new move size given the trials and acceptances since the last update."""
        if trials == 0:
            return move_size
        acceptance = accepted / trials
        self.tuned = abs(acceptance - self.target) / self.target < self.tol
        if self.tuned:
            return move_size
        scaled = move_size * (self.gamma + acceptance / self.target) / (self.gamma + 1.0)
        upper = limit if self.max_move is None else min(limit, self.max_move)
        return float(np.clip(scaled, self.min_move, upper))


# one kernel per dimension, each compiled when first used (the 2D one inlines only the
# 2D energy change)
_run_metropolis_2d = specialised(_run_metropolis_with, "_2d", THREE_D=False)
_run_metropolis_3d = specialised(_run_metropolis_with, "_3d", THREE_D=True)
