"""Cell lists and Verlet neighbour lists with a skin.

A :class:`NeighbourList` stores, for every particle, all particles closer than
``r_list = r_interaction + skin`` at the last build: a *full* list stores each pair
twice, once per particle, a *half* list once, in the row of its lower index. Rows are
in ascending index order. It is rebuilt only
when the largest displacement since the last build exceeds ``skin / 2``, so
every pair within the interaction range is always listed.

Building uses a cell list (O(N)) when every box side holds at least three cells
of side ``>= r_list``; smaller boxes use an all-pairs minimum-image build, which is
exact for any box with sides ``>= 2 r_interaction``. The list has a fixed
capacity; a build that needs more sets ``overflow`` instead of writing past it,
and :meth:`NeighbourList.build` grows the storage and builds again.

The skin changes cost only: forces summed over the list do not depend on when
it was built (see :func:`simlib.potentials.energy_forces_list`).

Monte Carlo does not rebuild globally: each particle has its own list reference and a
particle that strays more than ``skin / 2`` from it is re-listed alone
(:func:`relist_particle`), so the cost per trial move does not grow with N.
"""

import numpy as np
from numba import prange

from ._kernels import empty, inlined, njit, specialised, variant, zeros
from .geometry import box_sides, min_image, separation


class NeighbourList:
    """Verlet list of radius ``r_interaction + skin``.

    Parameters
    ----------
    r_interaction : float
        Interaction range [length] (the potential's cut-off).
    skin : float
        Extra list radius [length], > 0.
    capacity : int, optional
        Neighbours stored per particle. Default: estimated from the density, 2 times
        the mean full row (1.5 times for a half list); grown automatically on overflow.
    half : bool, default False
        Store each pair once, in the row of its lower index (``j > i`` only). Force
        loops need no more (Newton's third law; on threads with :func:`chunk_index`);
        Monte Carlo needs the full rows. The capacity is a full row's: the row of a
        particle with a low index holds nearly all its neighbours.

    Attributes
    ----------
    neighbours : ndarray of int32, shape (N, capacity)
        ``neighbours[i, :counts[i]]`` are the neighbours of ``i`` (above ``i`` only in a
        half list), ascending.
    counts : ndarray of int32, shape (N,)
    reference : ndarray of float64, shape (N, d)
        Unwrapped positions at the last build.
    n_builds : int
        Number of builds since the count was last reset.
    """

    safety_factor = 2.0
    # A half row holds half a full row on average, but a row of a low index holds nearly
    # all its neighbours. Every row is read at every step, so room to spare costs
    # memory traffic (N = 10^6: 6-9 % of a two-thread step, 34 against 24 columns);
    # a row that needs more grows the table.
    half_safety_factor = 1.5

    def __init__(self, r_interaction, skin, capacity=None, half=False):
        if not r_interaction > 0:
            raise ValueError(f"neighbour list: interaction range must be positive, got {r_interaction}")
        if not skin > 0:
            raise ValueError(f"neighbour list: skin must be positive, got {skin}")
        self.r_interaction = float(r_interaction)
        self.skin = float(skin)
        self.capacity = None if capacity is None else int(capacity)
        self.half = bool(half)
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
        factor = self.half_safety_factor if self.half else self.safety_factor
        return int(min(n - 1, max(8, np.ceil(factor * density * shell)))) or 1

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
            needed = build_list(positions, box.lengths, self.r_list, self.neighbours, self.counts, half=self.half)
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


def is_half_list(neighbours, counts):
    """Whether a list with ascending rows is a half list (no row lists an index below
    its own). A list without pairs counts as both."""
    if neighbours.shape[1] == 0:
        return True
    first = neighbours[:, 0][counts > 0]
    return not np.any(first < np.flatnonzero(counts > 0))


@inlined
def _cell_grid(box, r_list, n):
    """Cells per side for a list of radius ``r_list`` (int64 array), and whether the box
    is large enough (at least three cells per side) to use them."""
    d = box.size
    ncell = empty(d, np.int64)
    use_cells = True
    # dilute systems: cap at about 2 cells per particle so the cell tables stay O(N)
    max_per_side = np.int64((2.0 * n) ** (1.0 / d))
    if max_per_side < 3:
        max_per_side = 3
    for k in range(d):
        ncell[k] = np.int64(np.floor(box[k] / r_list))
        if ncell[k] > max_per_side:
            ncell[k] = max_per_side
        if ncell[k] < 3:
            use_cells = False
    return ncell, use_cells


def build_list(x, box, r_list, neighbours, counts, parallel=False, half=False):
    """Fill ``neighbours``/``counts`` for wrapped positions ``x``; return the largest count.

    If the returned count exceeds ``neighbours.shape[1]`` the list is incomplete
    (overflow) and must be rebuilt with at least that capacity (the serial full build
    returns a lower bound when even a row's upper part does not fit). With ``parallel``
    the rows are filled and sorted on numba's threads (each particle writes only its own
    row); serially each pair's distance is checked once and the rows are completed by
    transposition. Both give the same list, so it is the same for any thread count.
    With ``half`` each row keeps only its neighbours above ``i``: the upper part of the
    full row (on threads too, each particle filling its own row).
    """
    three_d = x.shape[1] == 3
    if half or parallel:
        return _BUILD[(three_d, bool(parallel), bool(half))](x, box, r_list, neighbours, counts)
    largest = _BUILD[(three_d, False, True)](x, box, r_list, neighbours, counts)
    if largest > neighbours.shape[1]:
        return largest
    return _add_lower_parts(neighbours, counts)


# Set per specialisation (end of this module): the kernel that fills the rows from the
# cells, whether rows keep only their neighbours above i, and whether the kernel is 3D.
CELL_ROWS = None
UPPER_ONLY = False
THREE_D = False


def _build_list_with(x, box, r_list, neighbours, counts):
    n = x.shape[0]
    ncell, use_cells = _cell_grid(box, r_list, n)
    if use_cells:
        cell_start, cell_members, cell_index = sort_into_cells(x, box, ncell)
        return CELL_ROWS(x, box, r_list, ncell, cell_start, cell_members, cell_index, neighbours, counts)
    _build_all_pairs(x, box, r_list, neighbours, counts, UPPER_ONLY)
    return _largest(counts)


@inlined
def _largest(counts):
    largest = 0
    for i in range(counts.shape[0]):
        if counts[i] > largest:
            largest = counts[i]
    return largest


@njit(inline="always")
def _insertion_sort_row(table, i, m):
    for a in range(1, m):
        value = table[i, a]
        b = a - 1
        while b >= 0 and table[i, b] > value:
            table[i, b + 1] = table[i, b]
            b -= 1
        table[i, b + 1] = value


@njit(inline="always")
def _build_all_pairs(x, box, r_list, neighbours, counts, upper_only=False):
    n, d = x.shape
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    for i in range(n):
        count = 0
        for j in range(i + 1 if upper_only else 0, n):
            if j == i:
                continue
            r2 = 0.0
            for k in range(d):
                dk = min_image(x[i, k] - x[j, k], box[k], 0.5 * box[k])
                r2 += dk * dk
            if r2 < r2_list:
                if count < capacity:
                    neighbours[i, count] = j
                count += 1
        counts[i] = count
        if count <= capacity:
            _insertion_sort_row(neighbours, i, count)


@njit(inline="always")
def cell_of(x, i, box, ncell):
    """Flattened cell index of particle ``i`` (x-fastest)."""
    d = x.shape[1]
    # int64, not literals: a literal 0 would compile the kernels taking the index once more
    index = np.int64(0)
    stride = np.int64(1)
    for k in range(d):
        c = np.int64(x[i, k] / box[k] * ncell[k])
        if c >= ncell[k]:
            c = ncell[k] - 1
        elif c < 0:
            c = 0
        index += c * stride
        stride *= ncell[k]
    return index


@njit(inline="always")
def sort_into_cells(x, box, ncell):
    """Counting sort of particles into cells: ``(cell_start, cell_members)``.

    Members of cell ``c`` are ``cell_members[cell_start[c]:cell_start[c + 1]]``,
    in ascending particle index.
    """
    n = x.shape[0]
    total = 1
    for k in range(ncell.size):
        total *= ncell[k]
    cell_index = empty(n, np.int64)
    cell_start = zeros(total + 1, np.int64)
    for i in range(n):
        c = cell_of(x, i, box, ncell)
        cell_index[i] = c
        cell_start[c + 1] += 1
    for c in range(total):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:-1].copy()
    cell_members = empty(n, np.int64)
    for i in range(n):
        c = cell_index[i]
        cell_members[fill[c]] = i
        fill[c] += 1
    return cell_start, cell_members, cell_index


@inlined
def _around(c, m, nx, ny, nz):
    """The ``m``-th of the 3^d cells around cell ``c`` (itself included); ``nz = 0`` in 2D.

    Scalar arguments (an array argument would cost reference counting on every call);
    periodic wrapping by comparison, as an integer division by a run-time cell count
    costs tens of cycles."""
    cx, cy, cz = _cell_coordinates(c, nx, ny)
    return _around_cell(cx, cy, cz, m, nx, ny, nz)


@inlined
def _cell_coordinates(c, nx, ny):
    """Grid position ``(cx, cy, cz)`` of the flattened cell index ``c`` (x fastest)."""
    return c % nx, (c // nx) % ny, c // (nx * ny)


@inlined
def _stencil(ncell, three_d):
    """``(3^d, nx, ny, nz)``: cells around a cell and the grid shape (``nz = 0`` in 2D)."""
    return (27 if three_d else 9), ncell[0], ncell[1], (ncell[2] if three_d else 0)


@inlined
def _around_cell(cx, cy, cz, m, nx, ny, nz):
    """:func:`_around` for the cell at grid position ``(cx, cy, cz)``."""
    xc = cx + m % 3 - 1
    if xc < 0:
        xc += nx
    elif xc >= nx:
        xc -= nx
    yc = cy + (m // 3) % 3 - 1
    if yc < 0:
        yc += ny
    elif yc >= ny:
        yc -= ny
    if nz > 0:
        zc = cz + m // 9 - 1
        if zc < 0:
            zc += nz
        elif zc >= nz:
            zc -= nz
        return xc + nx * (yc + ny * zc)
    return xc + nx * yc


def _cell_rows(x, box, r_list, ncell, cell_start, cell_members, cell_index, neighbours, counts):
    """Fill and sort every row from the 3^d cells around its particle. Particles are
    taken in cell order, which keeps the positions read by neighbours in cache. The
    distance check is written out in the loop (a called helper taking arrays costs
    reference counting); the row sort is inlined."""
    n = x.shape[0]
    three_d = THREE_D
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    width, nx, ny, nz = _stencil(ncell, three_d)
    lx, ly, lz, hx, hy, hz = box_sides(box, three_d)
    for mi in prange(n):
        i = cell_members[mi]
        xi, yi = x[i, 0], x[i, 1]
        zi = x[i, 2] if three_d else 0.0
        cx, cy, cz = _cell_coordinates(cell_index[i], nx, ny)
        count = 0
        for a in range(width):
            nc = _around_cell(cx, cy, cz, a, nx, ny, nz)
            for m in range(cell_start[nc], cell_start[nc + 1]):
                j = cell_members[m]
                _, _, _, r2 = separation(xi - x[j, 0], yi - x[j, 1], zi - (x[j, 2] if three_d else 0.0),
                                         lx, ly, lz, hx, hy, hz, three_d)
                if r2 < r2_list and j != i:
                    if count < capacity:
                        neighbours[i, count] = j
                    count += 1
        counts[i] = count
        if count <= capacity:
            _insertion_sort_row(neighbours, i, count)
    return _largest(counts)


@njit
def _add_lower_parts(neighbours, counts):
    """A half list (the upper parts of the rows, as the half build fills them)
    completed to the full list by transposition, each pair's distance having been
    checked once. Row ``j``'s lower part is the ``i < j`` whose upper part holds ``j``,
    written in ascending ``i``, hence sorted: the rows :func:`_cell_rows` fills. Returns
    the largest count; when it exceeds the capacity, ``counts`` are the full rows' and
    the table is incomplete. A kernel of its own, apart from the build: numba would
    optimise the build's code once more inside a kernel calling it.
    """
    n = counts.shape[0]
    capacity = neighbours.shape[1]
    upper = counts.copy()
    lower = zeros(n, np.int32)
    for i in range(n):
        for k in range(upper[i]):
            lower[neighbours[i, k]] += 1
    largest = 0
    for i in range(n):
        counts[i] = lower[i] + upper[i]
        if counts[i] > largest:
            largest = counts[i]
    if largest > capacity:
        return largest
    for i in range(n):
        # move the upper part right, past the room for the lower part (from its end: the
        # two ranges may overlap)
        for k in range(upper[i] - 1, -1, -1):
            neighbours[i, lower[i] + k] = neighbours[i, k]
    fill = lower
    for i in range(n):
        fill[i] = 0
    for i in range(n):
        for k in range(counts[i] - upper[i], counts[i]):
            j = neighbours[i, k]
            neighbours[j, fill[j]] = i
            fill[j] += 1
    return largest


def _cell_rows_upper(x, box, r_list, ncell, cell_start, cell_members, cell_index, neighbours, counts):
    """The upper parts of :func:`_cell_rows`'s rows (the neighbours above ``i``, sorted):
    a half list, each pair's distance checked once. Each particle writes only its own
    row, so the loop runs on threads too. Returns the largest count; rows are
    incomplete when it exceeds the capacity."""
    n = x.shape[0]
    three_d = THREE_D
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    width, nx, ny, nz = _stencil(ncell, three_d)
    lx, ly, lz, hx, hy, hz = box_sides(box, three_d)
    for mi in prange(n):
        i = cell_members[mi]
        xi, yi = x[i, 0], x[i, 1]
        zi = x[i, 2] if three_d else 0.0
        cx, cy, cz = _cell_coordinates(cell_index[i], nx, ny)
        count = 0
        for a in range(width):
            nc = _around_cell(cx, cy, cz, a, nx, ny, nz)
            # members are ascending: walk down while they are above i
            m = cell_start[nc + 1] - 1
            first = cell_start[nc]
            while m >= first:
                j = cell_members[m]
                if j <= i:
                    break
                m -= 1
                _, _, _, r2 = separation(xi - x[j, 0], yi - x[j, 1], zi - (x[j, 2] if three_d else 0.0),
                                         lx, ly, lz, hx, hy, hz, three_d)
                # stored whenever there is room (kept only if counted): the only branch
                # is one that is always taken until a row overflows
                if count < capacity:
                    neighbours[i, count] = j
                count += r2 < r2_list
        counts[i] = count
        if count <= capacity:
            _insertion_sort_row(neighbours, i, count)
    return _largest(counts)




@njit
def chunk_index(neighbours, counts, chunks, chunk_start, gather_start, crossing, gather, crossing_forces):
    """What threads need to sum a half list's pair forces, each pair evaluated once, with
    the serial loop's bits.

    The particles are cut into ``chunks`` contiguous chunks (``chunk_start``), one per
    thread. A thread runs the serial loop (Newton's third law) over its chunk, except for the
    pairs whose upper partner lies in a later chunk: the *crossings*, ``crossing[p] =
    (i, j)`` in list order. Their forces are evaluated first, into ``crossing_forces``,
    and each chunk starts its particles from them: ``gather[gather_start[c]:
    gather_start[c + 1]]`` are the crossings into chunk ``c``, in ascending ``i`` for each
    partner. A particle so receives its lower pairs' forces in ascending ``i``, as in the
    serial loop. Particles near in space are near in index (the lattice start, the cell
    order), so crossings are few.

    Takes the arrays of the previous call (or :func:`empty_chunk_index`'s) and returns
    ``(chunk_start, gather_start, crossing, gather, crossing_forces)``: the same arrays
    when they have room (a list is rebuilt every few steps), new ones with a quarter to
    spare if not. Any number of chunks gives the serial bits.
    """
    n = counts.shape[0]
    chunks = n if chunks > n else chunks
    chunks = 1 if chunks < 1 else chunks
    if chunk_start.shape[0] != chunks + 1:
        chunk_start = empty(chunks + 1, np.int64)
        gather_start = empty(chunks + 1, np.int64)
    for c in range(chunks + 1):
        chunk_start[c] = (c * n) // chunks
    # crossings per chunk of rows (in parallel below), then where each chunk's go
    found = zeros(chunks + 1, np.int64)
    _count_crossings(neighbours, counts, chunk_start, found)
    for c in range(chunks):
        found[c + 1] += found[c]
    total = found[chunks]
    if crossing.shape[0] < total:
        room = total + total // 4 + 1
        crossing = empty((room, 2), np.int64)
        gather = empty(room, np.int64)
        crossing_forces = empty((room, crossing_forces.shape[1]), np.float64)
    _list_crossings(neighbours, counts, chunk_start, found, crossing)
    # a stable counting sort by the partner's chunk keeps each partner's crossings in
    # ascending i
    for c in range(chunks + 1):
        gather_start[c] = 0
    for p in range(total):
        gather_start[_chunk_of(crossing[p, 1], chunk_start) + 1] += 1
    for c in range(chunks):
        gather_start[c + 1] += gather_start[c]
    fill = gather_start[:-1].copy()
    for p in range(total):
        c = _chunk_of(crossing[p, 1], chunk_start)
        gather[fill[c]] = p
        fill[c] += 1
    return chunk_start, gather_start, crossing, gather, crossing_forces


@njit(inline="always")
def _chunk_of(j, chunk_start):
    return np.searchsorted(chunk_start, j, side="right") - 1


@njit(inline="always")
def _first_crossing(neighbours, i, count, end):
    """Position in the sorted row ``i`` of its first neighbour at or above ``end``."""
    k = count
    while k > 0 and neighbours[i, k - 1] >= end:
        k -= 1
    return k


@njit(parallel=True)
def _count_crossings(neighbours, counts, chunk_start, found):
    for c in prange(chunk_start.shape[0] - 1):
        end = chunk_start[c + 1]
        tally = 0
        for i in range(chunk_start[c], end):
            tally += counts[i] - _first_crossing(neighbours, i, counts[i], end)
        found[c + 1] = tally


@njit(parallel=True)
def _list_crossings(neighbours, counts, chunk_start, found, crossing):
    for c in prange(chunk_start.shape[0] - 1):
        end = chunk_start[c + 1]
        p = found[c]
        for i in range(chunk_start[c], end):
            for k in range(_first_crossing(neighbours, i, counts[i], end), counts[i]):
                crossing[p, 0] = i
                crossing[p, 1] = neighbours[i, k]
                p += 1


def empty_chunk_index(dim):
    """:func:`chunk_index`'s arrays, empty: what a serial loop uses, and what the first
    call of :func:`chunk_index` takes (numpy arrays, made before a kernel runs)."""
    return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64),
            np.zeros(0, dtype=np.int64), np.empty((0, dim)))


@njit(inline="always")
def keep_chunk_index(neighbours, counts, chunks, chunk_start, gather_start, crossing, gather, crossing_forces):
    """:func:`chunk_index` of the serial kernel: it runs one chunk and reads none of the
    arrays, so they stay as they are."""
    return chunk_start, gather_start, crossing, gather, crossing_forces


# -- single-particle re-listing (Monte Carlo) -------------------------------------------
#
# Monte Carlo moves one particle at a time, so a global rebuild because one particle
# went far costs O(N) for an O(1) change. Instead each particle keeps its own list
# reference, and the list holds exactly the pairs whose *references* are closer than
# r_list. A particle within skin / 2 of its reference then has every partner within
# r_cut listed, whatever the others did. Re-listing particle i moves its reference to
# its current position and edits the rows of its old and new neighbours in place
# (sorted insert / remove), so the list stays the same set a global build from the
# references gives, sorted. The references are what a checkpoint stores.


@inlined
def reference_cells(wref, box, ncell):
    """Doubly linked cell lists ``(head, next, prev, cell)`` of the positions ``wref``."""
    n = wref.shape[0]
    total = 1
    for k in range(ncell.size):
        total *= ncell[k]
    head = empty(total, np.int64)
    for c in range(total):
        head[c] = -1
    nxt = empty(n, np.int64)
    prv = empty(n, np.int64)
    cell = empty(n, np.int64)
    for i in range(n):
        nxt[i] = -1
        prv[i] = -1
    for i in range(n):
        c = cell_of(wref, i, box, ncell)
        cell[i] = c
        _cell_push(i, c, head, nxt, prv)
    return head, nxt, prv, cell


@inlined
def _cell_push(i, c, head, nxt, prv):
    first = head[c]
    nxt[i] = first
    prv[i] = -1
    if first >= 0:
        prv[first] = i
    head[c] = i


@inlined
def _cell_pop(i, c, head, nxt, prv):
    if prv[i] >= 0:
        nxt[prv[i]] = nxt[i]
    else:
        head[c] = nxt[i]
    if nxt[i] >= 0:
        prv[nxt[i]] = prv[i]


@inlined
def _row_remove(table, counts, j, value):
    m = counts[j]
    a = 0
    while a < m and table[j, a] != value:
        a += 1
    for b in range(a, m - 1):
        table[j, b] = table[j, b + 1]
    if a < m:
        counts[j] = m - 1


@inlined
def _row_insert(table, counts, j, value):
    m = counts[j]
    b = m - 1
    while b >= 0 and table[j, b] > value:
        table[j, b + 1] = table[j, b]
        b -= 1
    table[j, b + 1] = value
    counts[j] = m + 1


@njit
def relist_particle(i, wref, box, r_list, ncell, use_cells, head, nxt, prv, cell,
                    neighbours, counts, buffer):
    """Re-list particle ``i`` after its wrapped reference ``wref[i]`` changed.

    Updates the reference cells, row ``i`` and the rows of every particle entering or
    leaving it. Returns 0, or the capacity needed when a row would overflow (the
    list is then inconsistent and must be rebuilt with more capacity).
    """
    n, d = wref.shape
    capacity = neighbours.shape[1]
    r2_list = r_list * r_list
    lx, ly, lz, hx, hy, hz = box_sides(box, d == 3)
    xi, yi = wref[i, 0], wref[i, 1]
    zi = wref[i, 2] if d == 3 else 0.0
    count = 0
    if use_cells:
        c = cell_of(wref, i, box, ncell)
        if c != cell[i]:
            _cell_pop(i, cell[i], head, nxt, prv)
            _cell_push(i, c, head, nxt, prv)
            cell[i] = c
        width = 27 if d == 3 else 9
        for a in range(width):
            j = head[_around(c, a, ncell[0], ncell[1], ncell[2] if d == 3 else 0)]
            while j >= 0:
                dx = min_image(xi - wref[j, 0], lx, hx)
                dy = min_image(yi - wref[j, 1], ly, hy)
                r2 = dx * dx + dy * dy
                if d == 3:
                    dz = min_image(zi - wref[j, 2], lz, hz)
                    r2 += dz * dz
                if r2 < r2_list and j != i:
                    if count < capacity:
                        buffer[count] = j
                    count += 1
                j = nxt[j]
    else:
        for j in range(n):
            dx = min_image(xi - wref[j, 0], lx, hx)
            dy = min_image(yi - wref[j, 1], ly, hy)
            r2 = dx * dx + dy * dy
            if d == 3:
                dz = min_image(zi - wref[j, 2], lz, hz)
                r2 += dz * dz
            if r2 < r2_list and j != i:
                if count < capacity:
                    buffer[count] = j
                count += 1
    if count > capacity:
        return count
    # sort the new row, then walk old and new rows together: partners only in the
    # old row lose i, partners only in the new row gain it
    for a in range(1, count):
        value = buffer[a]
        b = a - 1
        while b >= 0 and buffer[b] > value:
            buffer[b + 1] = buffer[b]
            b -= 1
        buffer[b + 1] = value
    m_old = counts[i]
    p = 0
    q = 0
    while p < m_old or q < count:
        j_old = neighbours[i, p] if p < m_old else n
        j_new = buffer[q] if q < count else n
        if j_old == j_new:
            p += 1
            q += 1
        elif j_old < j_new:
            _row_remove(neighbours, counts, j_old, i)
            p += 1
        else:
            if counts[j_new] >= capacity:
                return capacity + 1
            _row_insert(neighbours, counts, j_new, i)
            q += 1
    for a in range(count):
        neighbours[i, a] = buffer[a]
    counts[i] = count
    return 0


def closest_scaled_pair(x, diameters, box, neighbours, counts, rows_at_once=65536):
    """The listed pair with the smallest ``r / a_ij``: returns ``(i, j, r / a_ij)``, the
    first in list order if several tie, and ``(-1, -1, inf)`` for an empty list. Plain
    numpy, ``rows_at_once`` rows at a time (it runs once per simulation; a kernel would
    cost more to compile than it saves)."""
    n, d = x.shape
    best_i, best_j, best = -1, -1, np.inf
    for first in range(0, n, rows_at_once):
        rows = np.arange(first, min(n, first + rows_at_once))
        width = int(counts[rows].max(initial=0))
        if width == 0:
            continue
        partners = neighbours[rows, :width].astype(np.int64)
        listed = np.arange(width) < counts[rows, None]
        partners[~listed] = rows[np.nonzero(~listed)[0]]
        r2 = np.zeros(partners.shape)
        for k in range(d):
            dk = x[rows, k][:, None] - x[partners, k]
            half = 0.5 * box[k]
            dk = np.where(dk > half, dk - box[k], np.where(dk < -half, dk + box[k], dk))
            r2 += dk * dk
        a_ij = 0.5 * (diameters[rows][:, None] + diameters[partners])
        ratio2 = np.where(listed, r2 / (a_ij * a_ij), np.inf)
        at = int(np.argmin(ratio2))
        row, column = divmod(at, width)
        if ratio2[row, column] < best:
            best_i, best_j, best = int(rows[row]), int(partners[row, column]), float(ratio2[row, column])
    return best_i, best_j, float(np.sqrt(best))


# The builders: each compiles only when first used (a parallel kernel takes seconds to compile).
_BUILD = {
    (three_d, parallel, half): specialised(
        _build_list_with, variant(three_d, parallel, "_half" if half else ""),
        parallel=parallel, UPPER_ONLY=half, THREE_D=three_d,
        CELL_ROWS=specialised(_cell_rows_upper if half else _cell_rows,
                              variant(three_d, parallel), parallel=parallel,
                              inline="always", THREE_D=three_d),
    )
    for three_d in (False, True)
    # the serial full list is the half list completed by _add_lower_parts
    for parallel, half in ((True, False), (False, True), (True, True))
}
