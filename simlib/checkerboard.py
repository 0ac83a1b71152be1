"""Checkerboard Metropolis Monte Carlo: the cells of one colour move in parallel.

The box is cut into a grid of cells at least one interaction range wide, with an
even number of cells (at least four) per side, and the cells are coloured like a
checkerboard (``2^d`` colours: the parity of each cell coordinate). Two cells of
one colour are at least one cell apart, so while only particles of one colour move,
and only within their own cell, no two moving particles interact: the cells of that
colour are independent and run side by side on numba's threads.

One sweep (the model is the massively-parallel hard-particle Monte Carlo of
Anderson et al., J. Comput. Phys. 254, 27 (2013), and HOOMD-blue's HPMC):

1. the grid is shifted by a random offset, uniform in one cell, and the order of the
   colours is a random permutation, both drawn afresh each sweep;
2. particles are sorted into the shifted cells (in index order within a cell);
3. for each colour in turn, each of its cells makes as many trial moves as it holds
   particles: a particle of the cell picked uniformly, displaced by
   ``move_size * U(-1, 1)`` per coordinate, accepted with probability
   ``min(1, exp(-dU / kT))``; a trial position outside the particle's cell is
   rejected (it counts as a trial, as in HPMC).

Each cell's Metropolis chain is symmetric and restricted to a region that does not
depend on the state (the grid is drawn before the particles are looked at), so it
satisfies detailed balance; a random colour order makes the sweep as a whole
reversible, and the random offset lets particles cross every cell boundary.

Random numbers: the offset and the colour order come from counter ``(sweep, 2^63 + k)``,
trial ``t`` of cell ``c`` from ``(sweep, c 2^32 + 4 t + k)``, of stream
:data:`simlib.rng.STREAM_CHECKERBOARD`. A cell's trials depend only on the cell, not
on which thread runs it, so the result is the same bits for any number of threads.
"""

import numpy as np
from numba import prange

from ._kernels import empty, njit, specialised, variant, zeros
from .geometry import min_image, wrap_coordinate
from .potentials import HARD, pair_term, power_law_coefficients
from .rng import STREAM_CHECKERBOARD, threefry2x64, to_unit_open

# fewest cells per side: an even number, and each cell's 3^d block of cells distinct
MIN_CELLS_PER_SIDE = 4


def checkerboard_grid(box_lengths, interaction_range, n):
    """Cells per side (int64 array) for ``n`` particles: an even count whose cells are at
    least ``interaction_range`` wide, at most about ``(2 n)^(1/d)`` per side (so a dilute
    system keeps O(N) cells; wider cells are always allowed). Raises ValueError if a
    side holds fewer than four."""
    lengths = np.asarray(box_lengths, dtype=np.float64)
    most = max(MIN_CELLS_PER_SIDE, int((2.0 * n) ** (1.0 / lengths.size)))
    cells = np.minimum(np.floor(lengths / interaction_range).astype(np.int64), most) // 2 * 2
    # floor(L / r) can round up: the cells must really be r wide
    cells = np.where(lengths / np.maximum(cells, 1) < interaction_range, cells - 2, cells)
    if np.any(cells < MIN_CELLS_PER_SIDE):
        raise ValueError(
            f"metropolis.checkerboard needs every box side >= {MIN_CELLS_PER_SIDE} interaction ranges "
            f"({MIN_CELLS_PER_SIDE * interaction_range:.4g}); the smallest side is {float(np.min(lengths)):.4g}"
        )
    return cells


def run_checkerboard(x, images, diameters, box, kind, eps, r_cut, cells, seed, sweep0, n_sweeps, move_size, kT,
                     parallel):
    """Advance ``n_sweeps`` checkerboard sweeps in place; return ``(accepted, left_cell,
    energy, virial)``: the accepted trials, the trials rejected for leaving their cell, and
    the pair energy and virial ``sum_{i<j} r_ij . F_ij`` at the end (0 if ``n_sweeps`` is 0).

    ``r_cut`` is the energy's cut-off (for hard particles, the largest diameter);
    ``cells`` comes from :func:`checkerboard_grid`.
    """
    cells = np.asarray(cells, dtype=np.int64)
    if cells.shape != (x.shape[1],) or np.any(cells < MIN_CELLS_PER_SIDE) or np.any(cells % 2) \
            or np.any(np.asarray(box) / cells < r_cut):
        raise ValueError(f"checkerboard cells {cells.tolist()} do not fit box {list(box)} and range {r_cut}: "
                         "use checkerboard_grid")
    three_d = x.shape[1] == 3
    kernel = _KERNELS[(three_d, bool(parallel))]
    return kernel(x, images, diameters, box, kind, eps, r_cut, cells, seed, sweep0, n_sweeps, move_size, kT)


# Set per specialisation (end of this module): whether the kernel is the 3D one, and its
# cell-trials function.
THREE_D = False
CELL_TRIALS = None
CELL_ENERGIES = None
# first counter word of the per-sweep draws (offset, colour order), above every cell's
SWEEP_COUNTER = np.uint64(1 << 63)


def _run_checkerboard_with(x, images, diameters, box, kind, eps, r_cut, cells, seed, sweep0, n_sweeps,
                           move_size, kT):
    n, d = x.shape
    three_d = THREE_D
    nx, ny = cells[0], cells[1]
    nz = cells[2] if three_d else 1
    n_cells = nx * ny * nz
    n_colours = 8 if three_d else 4
    per_colour = n_cells // n_colours
    width = empty(d, np.float64)
    for k in range(d):
        width[k] = box[k] / cells[k]
    key0 = np.uint64(seed)
    key1 = np.uint64(STREAM_CHECKERBOARD)
    cell_of = empty(n, np.int64)
    cell_start = zeros(n_cells + 1, np.int64)
    fill = empty(n_cells, np.int64)
    order = empty(n, np.int64)
    sorted_x = empty((n, 3), np.float64)
    sorted_a = empty(n, np.float64)
    # image shifts of the sweep's accepted moves, in sorted order (added to ``images`` at
    # the end of the sweep: a write per accepted move to a random row of ``images`` would
    # miss the cache at large N and share cache lines between threads)
    shifts = zeros((n, 3), np.int64)
    accepted_in = zeros(n_cells, np.int64)
    left_in = zeros(n_cells, np.int64)
    offset = zeros(3, np.float64)
    colours = empty(n_colours, np.int64)
    for s in range(n_sweeps):
        sweep = np.uint64(sweep0 + s)
        # 1. grid offset and colour order
        w0, w1 = threefry2x64(sweep, SWEEP_COUNTER, key0, key1)
        offset[0] = to_unit_open(w0) * width[0]
        offset[1] = to_unit_open(w1) * width[1]
        if three_d:
            w2, _ = threefry2x64(sweep, SWEEP_COUNTER + np.uint64(1), key0, key1)
            offset[2] = to_unit_open(w2) * width[2]
        for c in range(n_colours):
            colours[c] = c
        # Fisher-Yates with one uniform per swap
        for c in range(n_colours - 1, 0, -1):
            wa, _ = threefry2x64(sweep, SWEEP_COUNTER + np.uint64(2 + c), key0, key1)
            r = min(np.int64(to_unit_open(wa) * (c + 1)), c)
            colours[c], colours[r] = colours[r], colours[c]
        # 2. particles into the shifted cells, in index order within a cell
        for c in range(n_cells + 1):
            cell_start[c] = 0
        for i in range(n):
            cx = _cell_coordinate(x[i, 0], offset[0], width[0], nx)
            cy = _cell_coordinate(x[i, 1], offset[1], width[1], ny)
            cz = _cell_coordinate(x[i, 2], offset[2], width[2], nz) if three_d else 0
            c = cx + nx * (cy + ny * cz)
            cell_of[i] = c
            cell_start[c + 1] += 1
        for c in range(n_cells):
            cell_start[c + 1] += cell_start[c]
            fill[c] = cell_start[c]
        for i in range(n):
            p = fill[cell_of[i]]
            fill[cell_of[i]] = p + 1
            order[p] = i
            sorted_x[p, 0] = x[i, 0]
            sorted_x[p, 1] = x[i, 1]
            sorted_x[p, 2] = x[i, 2] if three_d else 0.0
            sorted_a[p] = diameters[i]
            shifts[p, 0] = 0
            shifts[p, 1] = 0
            shifts[p, 2] = 0
        # 3. the colours in turn; the cells of one colour side by side
        for colour_rank in range(n_colours):
            colour = colours[colour_rank]
            bx, by, bz = colour & 1, (colour >> 1) & 1, (colour >> 2) & 1
            for q in prange(per_colour):
                q = np.int64(q)  # prange's index is unsigned; keep the cell arithmetic signed
                hx = q % (nx // 2)
                rest = q // (nx // 2)
                hy = rest % (ny // 2)
                hz = rest // (ny // 2)
                cell = (2 * hx + bx) + nx * ((2 * hy + by) + ny * (2 * hz + bz))
                cell_accepted, cell_left = CELL_TRIALS(
                    cell, 2 * hx + bx, 2 * hy + by, 2 * hz + bz, sorted_x, sorted_a, shifts, cell_start,
                    box, cells, width, offset, kind, eps, r_cut, move_size, kT, sweep, key0, key1,
                )
                accepted_in[cell] += cell_accepted
                left_in[cell] += cell_left
        for p in range(n):
            i = order[p]
            x[i, 0] = sorted_x[p, 0]
            x[i, 1] = sorted_x[p, 1]
            images[i, 0] += shifts[p, 0]
            images[i, 1] += shifts[p, 1]
            if three_d:
                x[i, 2] = sorted_x[p, 2]
                images[i, 2] += shifts[p, 2]
    # 4. energy and virial at the end, from the last sweep's cells (its particles have
    # stayed in them): per particle, then summed in sorted order (any thread count)
    u_part = zeros(n, np.float64)
    w_part = zeros(n, np.float64)
    if n_sweeps > 0:
        for e in prange(n_cells):
            e = np.int64(e)
            CELL_ENERGIES(e, e % nx, (e // nx) % ny, e // (nx * ny), sorted_x, sorted_a, cell_start, box, cells,
                          kind, eps, r_cut, u_part, w_part)
    energy = 0.0
    virial = 0.0
    for p in range(n):
        energy += u_part[p]
        virial += w_part[p]
    accepted = 0
    left = 0
    for c in range(n_cells):
        accepted += accepted_in[c]
        left += left_in[c]
    return accepted, left, energy, virial


@njit(inline="always")
def _cell_coordinate(xk, offset, width, cells):
    """Index along one axis of the shifted cell holding wrapped coordinate ``xk``."""
    c = np.int64(np.floor((xk - offset) / width))
    if c < 0:
        c += cells
    if c >= cells:  # round-off at the top of the box
        c -= cells
    return c


def _cell_trials(c, cx, cy, cz, sorted_x, sorted_a, shifts, cell_start, box, cells, width, offset, kind,
                 eps, r_cut, move_size, kT, sweep, key0, key1):
    """The trial moves of cell ``c`` (coordinates ``cx, cy, cz``); returns (accepted, left)."""
    three_d = THREE_D
    start = cell_start[c]
    members = cell_start[c + 1] - start
    nx, ny = cells[0], cells[1]
    nz = cells[2] if three_d else 1
    lx, ly = box[0], box[1]
    lz = box[2] if three_d else 1.0
    beta = 1.0 / kT
    # Cells 0 .. n-2 along an axis are contiguous in space (cell n-1 straddles the box
    # edge); a block inside them, in a box of at least six cells, has every separation
    # below half the box, where the minimum image is the plain difference (same bits).
    direct = (1 <= cx <= nx - 3) and (1 <= cy <= ny - 3) and nx >= 6 and ny >= 6
    if three_d:
        direct = direct and (1 <= cz <= nz - 3) and nz >= 6
    accepted = 0
    left = 0
    base = np.uint64(c) << np.uint64(32)
    for t in range(members):
        w0, w1 = threefry2x64(sweep, base + np.uint64(4 * t), key0, key1)
        w2, w3 = threefry2x64(sweep, base + np.uint64(4 * t + 1), key0, key1)
        u_pick, u_accept = to_unit_open(w0), to_unit_open(w1)
        p = start + min(np.int64(u_pick * members), members - 1)
        px, sx = wrap_coordinate(sorted_x[p, 0] + move_size * (2.0 * to_unit_open(w2) - 1.0), lx)
        py, sy = wrap_coordinate(sorted_x[p, 1] + move_size * (2.0 * to_unit_open(w3) - 1.0), ly)
        pz, sz = 0.0, np.int64(0)
        if three_d:
            w4, _ = threefry2x64(sweep, base + np.uint64(4 * t + 2), key0, key1)
            pz, sz = wrap_coordinate(sorted_x[p, 2] + move_size * (2.0 * to_unit_open(w4) - 1.0), lz)
        if (_cell_coordinate(px, offset[0], width[0], nx) != cx
                or _cell_coordinate(py, offset[1], width[1], ny) != cy
                or (three_d and _cell_coordinate(pz, offset[2], width[2], nz) != cz)):
            left += 1
            continue
        u_new, u_old, _ = _block_energy(p, px, py, pz, sorted_x, sorted_a, cell_start, cx, cy, cz, cells, box,
                                        direct, kind, eps, r_cut)
        delta_u = u_new - u_old
        if delta_u <= 0.0 or u_accept < np.exp(-beta * delta_u):
            sorted_x[p, 0] = px
            sorted_x[p, 1] = py
            shifts[p, 0] += sx
            shifts[p, 1] += sy
            if three_d:
                sorted_x[p, 2] = pz
                shifts[p, 2] += sz
            accepted += 1
    return accepted, left


def _cell_energies(c, cx, cy, cz, sorted_x, sorted_a, cell_start, box, cells, kind, eps, r_cut, u_part, w_part):
    """Half the pair energy and virial of each particle of cell ``c`` with its block, into
    ``u_part`` and ``w_part`` (sorted order)."""
    three_d = THREE_D
    nx, ny = cells[0], cells[1]
    nz = cells[2] if three_d else 1
    direct = (1 <= cx <= nx - 3) and (1 <= cy <= ny - 3) and nx >= 6 and ny >= 6
    if three_d:
        direct = direct and (1 <= cz <= nz - 3) and nz >= 6
    for p in range(cell_start[c], cell_start[c + 1]):
        _, u, w = _block_energy(p, sorted_x[p, 0], sorted_x[p, 1], sorted_x[p, 2], sorted_x, sorted_a, cell_start,
                                cx, cy, cz, cells, box, direct, kind, eps, r_cut)
        u_part[p] = 0.5 * u
        w_part[p] = 0.5 * w


@njit(inline="always")
def _wrapped(c, cells):
    if c < 0:
        return c + cells
    if c >= cells:
        return c - cells
    return c


def _block_energy(p, px, py, pz, sorted_x, sorted_a, cell_start, cx, cy, cz, cells, box, direct, kind, eps,
                         r_cut):
    """``(u_new, u_old, w_old)``: the pair energy of sorted particle ``p`` of cell
    ``(cx, cy, cz)`` with the particles of the 3^d cells around it at trial position
    ``(px, py, pz)`` (inf on a hard-particle overlap) and at its position, and the pair
    virial ``sum r . F`` at its position."""
    three_d = THREE_D
    nx, ny = cells[0], cells[1]
    nz = cells[2] if three_d else 1
    lx, ly = box[0], box[1]
    lz = box[2] if three_d else 1.0
    hlx, hly, hlz = 0.5 * lx, 0.5 * ly, 0.5 * lz
    rc2 = r_cut * r_cut
    coefficients = power_law_coefficients(kind, eps, r_cut)
    ox, oy, oz = sorted_x[p, 0], sorted_x[p, 1], sorted_x[p, 2]
    ai = sorted_a[p]
    u_old = 0.0
    u_new = 0.0
    w_old = 0.0
    for dz in range(-1 if three_d else 0, 2 if three_d else 1):
        bz = _wrapped(cz + dz, nz)
        for dy in range(-1, 2):
            row = nx * (_wrapped(cy + dy, ny) + ny * bz)
            # the row's three cells along x are one run of sorted positions, or two
            # where the row wraps around the box (cells n-1 | 0, 1 or n-2, n-1 | 0)
            if cx == 0:
                first0, first1, second0, second1 = row + nx - 1, row + nx, row, row + 2
            elif cx == nx - 1:
                first0, first1, second0, second1 = row + nx - 2, row + nx, row, row + 1
            else:
                first0, first1, second0, second1 = row + cx - 1, row + cx + 2, row, row
            for run in range(2):
                q0 = cell_start[first0] if run == 0 else cell_start[second0]
                q1 = cell_start[first1] if run == 0 else cell_start[second1]
                for q in range(q0, q1):
                    if q == p:
                        continue
                    xj, yj, zj = sorted_x[q, 0], sorted_x[q, 1], sorted_x[q, 2]
                    a_ij = 0.5 * (ai + sorted_a[q])
                    if direct:
                        ex, ey, ez = px - xj, py - yj, pz - zj
                    else:
                        ex, ey, ez = min_image(px - xj, lx, hlx), min_image(py - yj, ly, hly), min_image(pz - zj, lz, hlz)
                    r2_new = ex * ex + ey * ey
                    if three_d:
                        r2_new += ez * ez
                    if kind == HARD:
                        if r2_new < a_ij * a_ij:
                            return np.inf, 0.0, 0.0
                        continue
                    if direct:
                        ex, ey, ez = ox - xj, oy - yj, oz - zj
                    else:
                        ex, ey, ez = min_image(ox - xj, lx, hlx), min_image(oy - yj, ly, hly), min_image(oz - zj, lz, hlz)
                    r2_old = ex * ex + ey * ey
                    if three_d:
                        r2_old += ez * ez
                    if r2_new < rc2:
                        u, _ = pair_term(kind, r2_new, a_ij, eps, r_cut, coefficients)
                        u_new += u
                    if r2_old < rc2:
                        u, fr = pair_term(kind, r2_old, a_ij, eps, r_cut, coefficients)
                        u_old += u
                        w_old += fr * r2_old
    return u_new, u_old, w_old


_block_energy_2d = specialised(_block_energy, "_2d", inline="always", THREE_D=False)
_block_energy_3d = specialised(_block_energy, "_3d", inline="always", THREE_D=True)
_cell_trials_2d = specialised(_cell_trials, "_2d", THREE_D=False, _block_energy=_block_energy_2d)
_cell_trials_3d = specialised(_cell_trials, "_3d", THREE_D=True, _block_energy=_block_energy_3d)
_cell_energies_2d = specialised(_cell_energies, "_2d", THREE_D=False, _block_energy=_block_energy_2d)
_cell_energies_3d = specialised(_cell_energies, "_3d", THREE_D=True, _block_energy=_block_energy_3d)
# keyed by (three_d, parallel); each compiles only when first used
_KERNELS = {
    (three_d, parallel): specialised(
        _run_checkerboard_with, variant(three_d, parallel), parallel=parallel,
        THREE_D=three_d, CELL_TRIALS=_cell_trials_3d if three_d else _cell_trials_2d,
        CELL_ENERGIES=_cell_energies_3d if three_d else _cell_energies_2d,
    )
    for three_d in (False, True)
    for parallel in (False, True)
}
