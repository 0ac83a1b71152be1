"""Cell lists and Verlet neighbour lists with a skin.

A :class:`NeighbourList` stores, for every particle, all particles closer than
``r_list = r_interaction + skin`` at the last build (a *full* list: each pair is
stored twice, once per particle, in ascending index order). It is rebuilt only
when the largest displacement since the last build exceeds ``skin / 2``, so
every pair within the interaction range is always listed.

Building uses a cell list (O(N)) when every box side holds at least three cells
of side ``>= r_list``; smaller boxes use an all-pairs minimum-image build, which is
exact for any box with sides ``>= 2 r_interaction``. The list has a fixed
capacity; a build that needs more sets ``overflow`` instead of writing past it,
and :meth:`NeighbourList.build` grows the storage and builds again.

The skin changes cost only: forces summed over the list do not depend on when
it was built (see :func:`simlib.potentials.energy_forces_list`).
"""

import numpy as np
from numba import njit

from .geometry import min_image


class NeighbourList:
    """Verlet list of radius ``r_interaction + skin``.

    Parameters
    ----------
    r_interaction : float
        Interaction range [length] (the potential's cut-off).
    skin : float
        Extra list radius [length], > 0.
    capacity : int, optional
        Neighbours stored per particle. Default: estimated from the density with a
        safety factor of 2 (grown automatically on overflow).

    Attributes
    ----------
    neighbours : ndarray of int32, shape (N, capacity)
        ``neighbours[i, :counts[i]]`` are the neighbours of ``i``, ascending.
    counts : ndarray of int32, shape (N,)
    reference : ndarray of float64, shape (N, d)
        Unwrapped positions at the last build.
    n_builds : int
        Number of builds since the count was last reset.
    """

    safety_factor = 2.0

    def __init__(self, r_interaction, skin, capacity=None):
        if not r_interaction > 0:
            raise ValueError(f"neighbour list: interaction range must be positive, got {r_interaction}")
        if not skin > 0:
            raise ValueError(f"neighbour list: skin must be positive, got {skin}")
        self.r_interaction = float(r_interaction)
        self.skin = float(skin)
        self.capacity = None if capacity is None else int(capacity)
        self.neighbours = None
        self.counts = None
        self.reference = None
        self.n_builds = 0

    @property
    def r_list(self):
        return self.r_interaction + self.skin

    def estimate_capacity(self, n, box):
        density = n / box.volume
        if box.dim == 2:
            shell = np.pi * self.r_list**2
        else:
            shell = 4.0 / 3.0 * np.pi * self.r_list**3
        return int(min(n - 1, max(8, np.ceil(self.safety_factor * density * shell)))) or 1

    def allocate(self, n, box):
        """Allocate storage for ``n`` particles (separate from building)."""
        if self.capacity is None:
            self.capacity = self.estimate_capacity(n, box)
        self.neighbours = np.zeros((n, self.capacity), dtype=np.int32)
        self.counts = np.zeros(n, dtype=np.int32)

    def uses_cells(self, box):
        return bool(np.all(np.floor(box.lengths / self.r_list) >= 3))

    def build(self, positions, images, box):
        """Build the list from wrapped ``positions`` (N, d), growing capacity if needed."""
        n = positions.shape[0]
        if self.neighbours is None or self.neighbours.shape != (n, self.capacity):
            self.allocate(n, box)
        while True:
            needed = build_list(positions, box.lengths, self.r_list, self.neighbours, self.counts)
            if needed <= self.capacity:
                break
            self.capacity = int(np.ceil(1.25 * needed))
            self.allocate(n, box)
        self.reference = box.unwrap(positions, images)
        self.n_builds += 1

    def needs_rebuild(self, positions, images, box):
        if self.reference is None:
            return True
        disp = box.unwrap(positions, images) - self.reference
        return float(np.max(np.sum(disp**2, axis=1))) > (0.5 * self.skin) ** 2


@njit(cache=True)
def build_list(x, box, r_list, neighbours, counts):
    """Fill ``neighbours``/``counts`` for wrapped positions ``x``; return the largest count.

    If the returned count exceeds ``neighbours.shape[1]`` the list is incomplete
    (overflow) and must be rebuilt with more capacity.
    """
    n, d = x.shape
    ncell = np.empty(d, dtype=np.int64)
    use_cells = True
    # dilute systems: cap at about 2 cells per particle so the cell tables stay O(N)
    max_per_side = max(3, int((2.0 * n) ** (1.0 / d)))
    for k in range(d):
        ncell[k] = min(int(np.floor(box[k] / r_list)), max_per_side)
        if ncell[k] < 3:
            use_cells = False
    if use_cells:
        largest = _build_cells(x, box, r_list, ncell, neighbours, counts)
    else:
        largest = _build_all_pairs(x, box, r_list, neighbours, counts)
    if largest <= neighbours.shape[1]:
        for i in range(n):
            _insertion_sort(neighbours[i], counts[i])
    return largest


@njit(cache=True)
def _insertion_sort(row, m):
    for a in range(1, m):
        value = row[a]
        b = a - 1
        while b >= 0 and row[b] > value:
            row[b + 1] = row[b]
            b -= 1
        row[b + 1] = value


@njit(cache=True)
def _build_all_pairs(x, box, r_list, neighbours, counts):
    n, d = x.shape
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    counts[:] = 0
    largest = 0
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            r2 = 0.0
            for k in range(d):
                dk = min_image(x[i, k] - x[j, k], box[k], 0.5 * box[k])
                r2 += dk * dk
            if r2 < r2_list:
                c = counts[i]
                if c < capacity:
                    neighbours[i, c] = j
                counts[i] = c + 1
        if counts[i] > largest:
            largest = counts[i]
    return largest


@njit(cache=True)
def cell_of(x, i, box, ncell):
    """Flattened cell index of particle ``i`` (x-fastest)."""
    d = x.shape[1]
    index = 0
    stride = 1
    for k in range(d):
        c = int(x[i, k] / box[k] * ncell[k])
        if c >= ncell[k]:
            c = ncell[k] - 1
        elif c < 0:
            c = 0
        index += c * stride
        stride *= ncell[k]
    return index


@njit(cache=True)
def sort_into_cells(x, box, ncell):
    """Counting sort of particles into cells: ``(cell_start, cell_members)``.

    Members of cell ``c`` are ``cell_members[cell_start[c]:cell_start[c + 1]]``,
    in ascending particle index.
    """
    n = x.shape[0]
    total = 1
    for k in range(ncell.size):
        total *= ncell[k]
    cell_index = np.empty(n, dtype=np.int64)
    cell_start = np.zeros(total + 1, dtype=np.int64)
    for i in range(n):
        c = cell_of(x, i, box, ncell)
        cell_index[i] = c
        cell_start[c + 1] += 1
    for c in range(total):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:-1].copy()
    cell_members = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = cell_index[i]
        cell_members[fill[c]] = i
        fill[c] += 1
    return cell_start, cell_members, cell_index


@njit(cache=True)
def _neighbour_cells(ncell):
    """For every cell, the 3^d cells around it (itself included), shape (n_cells, 3^d)."""
    d = ncell.size
    nx, ny = ncell[0], ncell[1]
    nz = ncell[2] if d == 3 else 1
    width = 27 if d == 3 else 9
    table = np.empty((nx * ny * nz, width), dtype=np.int64)
    for cz in range(nz):
        for cy in range(ny):
            for cx in range(nx):
                c = cx + nx * (cy + ny * cz)
                m = 0
                for oz in range(3 if d == 3 else 1):
                    zc = (cz + oz - 1 + nz) % nz if d == 3 else 0
                    for oy in range(3):
                        yc = (cy + oy - 1 + ny) % ny
                        for ox in range(3):
                            xc = (cx + ox - 1 + nx) % nx
                            table[c, m] = xc + nx * (yc + ny * zc)
                            m += 1
    return table


@njit(cache=True)
def _build_cells(x, box, r_list, ncell, neighbours, counts):
    n, d = x.shape
    three_d = d == 3
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    cell_start, cell_members, _ = sort_into_cells(x, box, ncell)
    around = _neighbour_cells(ncell)
    lx, ly = box[0], box[1]
    hx, hy = 0.5 * lx, 0.5 * ly
    lz = box[2] if three_d else 1.0
    hz = 0.5 * lz
    largest = 0
    for c in range(around.shape[0]):
        for mi in range(cell_start[c], cell_start[c + 1]):
            i = cell_members[mi]
            xi, yi = x[i, 0], x[i, 1]
            zi = x[i, 2] if three_d else 0.0
            count = 0
            for a in range(around.shape[1]):
                nc = around[c, a]
                for m in range(cell_start[nc], cell_start[nc + 1]):
                    j = cell_members[m]
                    dx = min_image(xi - x[j, 0], lx, hx)
                    dy = min_image(yi - x[j, 1], ly, hy)
                    r2 = dx * dx + dy * dy
                    if three_d:
                        dz = min_image(zi - x[j, 2], lz, hz)
                        r2 += dz * dz
                    if r2 < r2_list and j != i:
                        if count < capacity:
                            neighbours[i, count] = j
                        count += 1
            counts[i] = count
            if count > largest:
                largest = count
    return largest


@njit(cache=True)
def closest_scaled_pair(x, diameters, box, neighbours, counts):
    """The listed pair with the smallest ``r / a_ij``: returns ``(i, j, r / a_ij)``."""
    n, d = x.shape
    best_i, best_j, best = -1, -1, np.inf
    for i in range(n):
        for jj in range(counts[i]):
            j = neighbours[i, jj]
            r2 = 0.0
            for k in range(d):
                dk = min_image(x[i, k] - x[j, k], box[k], 0.5 * box[k])
                r2 += dk * dk
            a_ij = 0.5 * (diameters[i] + diameters[j])
            ratio2 = r2 / (a_ij * a_ij)
            if ratio2 < best:
                best_i, best_j, best = i, j, ratio2
    return best_i, best_j, np.sqrt(best)
