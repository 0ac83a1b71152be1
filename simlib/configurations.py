"""Initial configurations: the course's square lattice, random placement, diameters, velocities."""

import numpy as np

from .geometry import Box
from .rng import (
    STREAM_DIAMETERS,
    STREAM_PLACEMENT,
    STREAM_VELOCITIES,
    check_seed,
    normal_array,
    uniform_array,
)
from .state import State, check_real


def lattice_positions(n, box):
    """The course's lattice: ``int(n^(1/d)) + 1`` sites per row, filled row by row.

    Site ``(i, j[, k])`` sits at ``(i L_x / n_side, j L_y / n_side[, k L_z / n_side])``,
    x running fastest, exactly as ``ini_coord_square`` in the course's md.cpp.

    Returns ndarray (n, d) [length].
    """
    d = box.dim
    n_side = int(round(n ** (1.0 / d)))
    if n_side**d > n:
        n_side -= 1
    n_side += 1
    index = np.arange(n)
    cols = [(index // n_side**k) % n_side for k in range(d)]
    return np.stack([cols[k] * (box.lengths[k] / n_side) for k in range(d)], axis=1)


def lattice_spacing(n, box):
    d = box.dim
    n_side = int(round(n ** (1.0 / d)))
    if n_side**d > n:
        n_side -= 1
    return float(np.min(box.lengths)) / (n_side + 1)


def polydisperse_diameters(n, polydispersity, seed):
    """``a_i = 1 + p * gaussian`` [length] from the seed (p = 0 gives all ones)."""
    if polydispersity < 0:
        raise ValueError(f"polydispersity must be >= 0, got {polydispersity}")
    if polydispersity == 0:
        return np.ones(n)
    diameters = 1.0 + polydispersity * normal_array(n, seed, STREAM_DIAMETERS)
    if np.any(diameters <= 0.05):
        raise ValueError(f"polydispersity {polydispersity} gives non-positive diameters for this seed")
    return diameters


def maxwell_boltzmann_velocities(n, dim, kT, seed, mass=1.0):
    """Gaussian velocities at temperature ``kT`` [energy] with zero total momentum."""
    v = np.sqrt(kT / mass) * normal_array((n, dim), seed, STREAM_VELOCITIES)
    return v - v.mean(axis=0)


def random_positions(box, diameters, seed, max_attempts=1000):
    """Random sequential placement with no two particles closer than ``a_ij``.

    Raises ValueError if a particle cannot be placed in ``max_attempts`` tries
    (density too high for random placement; use the lattice instead).
    """
    n, d = diameters.size, box.dim
    a_max = float(np.max(diameters))
    ncell = np.maximum(np.floor(box.lengths / a_max).astype(np.int64), 1)
    grid = {}
    x = np.empty((n, d))
    counter = 0
    for i in range(n):
        for attempt in range(max_attempts):
            trial = uniform_array(d, seed, STREAM_PLACEMENT, counter) * box.lengths
            counter += 1
            cell = tuple((trial / box.lengths * ncell).astype(np.int64) % ncell)
            ok = True
            for offset in np.ndindex(*(3,) * d):
                neighbour_cell = tuple((np.array(cell) + np.array(offset) - 1) % ncell)
                for j in grid.get(neighbour_cell, ()):
                    dr = box.minimum_image(trial - x[j])
                    if dr @ dr < (0.5 * (diameters[i] + diameters[j])) ** 2:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                x[i] = trial
                grid.setdefault(cell, []).append(i)
                break
        else:
            raise ValueError(
                f"random placement failed at particle {i} of {n} after {max_attempts} attempts: "
                "density too high for random placement"
            )
    return x


def initial_state(
    n,
    box,
    seed,
    polydispersity=0.0,
    arrangement="lattice",
    kT=None,
    mass=1.0,
):
    """A ready-to-run :class:`State`.

    Parameters
    ----------
    n : int
        Number of particles (>= 2).
    box : Box
    seed : int
        Seed for diameters, placement and velocities (and every later stage).
    polydispersity : float, default 0.0
        Relative width ``p`` of the Gaussian diameter distribution.
    arrangement : {"lattice", "random"}, default "lattice"
    kT : float or None, default None
        If given, Maxwell-Boltzmann velocities at this temperature [energy];
        otherwise zero velocities (the course's start).
    mass : float, default 1.0
    """
    seed = check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    n = int(n)
    if not isinstance(box, Box):
        raise TypeError("box must be a simlib.Box")
    polydispersity = check_real("polydispersity", polydispersity)
    mass = check_real("mass", mass, positive=True)
    kT = check_real("kT", kT, positive=True, allow_none=True)
    diameters = polydisperse_diameters(n, polydispersity, seed)
    if arrangement == "lattice":
        spacing = lattice_spacing(n, box)
        if spacing < 1.0:
            raise ValueError(
                f"density too high: lattice spacing {spacing:.4g} < 1 particle diameter "
                f"(N={n}, box {box.lengths.tolist()})"
            )
        positions = lattice_positions(n, box)
    elif arrangement == "random":
        positions = random_positions(box, diameters, seed)
    else:
        raise ValueError(f"arrangement must be 'lattice' or 'random', got {arrangement!r}")
    if kT is None:
        velocities = np.zeros((n, box.dim))
    else:
        velocities = maxwell_boltzmann_velocities(n, box.dim, kT, seed, mass)
    images = np.zeros((n, box.dim), dtype=np.int64)
    box.wrap(positions, images)
    return State(positions, velocities, images, diameters, box, seed=seed, mass=mass)
