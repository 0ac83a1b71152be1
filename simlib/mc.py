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
from numba import njit

from .geometry import wrap_coordinate
from .integrators import LIST_OVERFLOW, OK, _check_positive
from .neighbours import build_list
from .potentials import move_energy_change
from .rng import STREAM_METROPOLIS, uniform_pair


@dataclass(frozen=True)
class Metropolis:
    """Metropolis displacement moves.

    Parameters
    ----------
    kT : float
        Temperature [energy]. Required (ignored for hard particles, must still be > 0).
    move_size : float, default 0.15
        Largest displacement per coordinate, Delta r [length] (course: 0.15).
    """

    kT: float
    move_size: float = 0.15

    def __post_init__(self):
        _check_positive("metropolis", kT=self.kT, move_size=self.move_size)

    dt = 0.0


@njit(cache=True)
def run_metropolis(
    x, images, diameters, box, kind, eps, r_cut, skin, neighbours, counts, reference,
    seed, sweep0, n_sweeps, move_size, kT,
):
    """Advance ``n_sweeps`` sweeps in place.

    Returns ``(status, sweeps_done, accepted, builds, info)``; on
    ``LIST_OVERFLOW`` ``info`` is the capacity needed. The list stays valid because
    it is rebuilt before any trial position lies more than ``skin / 2`` from the
    particle's position at the last build, and ``move_size * sqrt(d) < skin / 2``.
    """
    n, d = x.shape
    half_skin2 = 0.25 * skin * skin
    r_list = r_cut + skin
    beta = 1.0 / kT
    trial = np.empty(d)
    trial_images = np.empty(d, dtype=np.int64)
    draws = np.empty(6)
    accepted = 0
    builds = 0
    for s in range(n_sweeps):
        sweep = np.uint64(sweep0 + s)
        for t in range(n):
            for c in range((d + 3) // 2):
                draws[2 * c], draws[2 * c + 1] = uniform_pair(
                    seed, STREAM_METROPOLIS, sweep, np.uint64(4 * t + c)
                )
            i = int(draws[0] * n)
            if i >= n:
                i = n - 1
            disp2 = 0.0
            for k in range(d):
                xk = x[i, k] + move_size * (2.0 * draws[2 + k] - 1.0)
                delta = xk + images[i, k] * box[k] - reference[i, k]
                disp2 += delta * delta
                trial[k], shift = wrap_coordinate(xk, box[k])
                trial_images[k] = images[i, k] + shift
            if disp2 > half_skin2:
                needed = build_list(x, box, r_list, neighbours, counts)
                if needed > neighbours.shape[1]:
                    return LIST_OVERFLOW, s, accepted, builds, needed
                for m in range(n):
                    for k in range(d):
                        reference[m, k] = x[m, k] + images[m, k] * box[k]
                builds += 1
            delta_u = move_energy_change(i, trial, x, diameters, box, kind, eps, r_cut, neighbours, counts)
            # hard particles: delta_u is 0 or inf, so this is "accept iff no overlap"
            accept = delta_u <= 0.0 or draws[1] < np.exp(-beta * delta_u)
            if accept:
                for k in range(d):
                    x[i, k] = trial[k]
                    images[i, k] = trial_images[k]
                accepted += 1
    return OK, n_sweeps, accepted, builds, 0


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
