"""Verlet neighbour lists: exactly the O(N^2) answer, in both build paths and after rebuilds."""

import numpy as np
import pytest

import simlib
from simlib import Box, Potential
from simlib.configurations import polydisperse_diameters
from simlib.neighbours import NeighbourList, _build_all_pairs, build_list
from simlib.potentials import energy_forces_all_pairs, energy_forces_list


def edge_points(L, dim):
    """Particles exactly on the lower faces (x = 0) and a hair below the upper ones
    (x = L - 1e-12), paired so that they interact *through* the boundary."""
    top = L - 1e-12
    if dim == 2:
        pts = [[0.0, 0.4 * L], [top, 0.4 * L + 1.1], [0.3 * L, 0.0], [0.3 * L + 1.05, top],
               [0.0, 0.0], [top, 1.0]]
    else:
        pts = [[0.0, 0.4 * L, 0.3 * L], [top, 0.4 * L + 1.1, 0.3 * L],
               [0.3 * L, 0.0, 0.6 * L], [0.3 * L + 1.05, top, 0.6 * L],
               [0.8 * L, 0.3 * L, 0.0], [0.8 * L, 0.3 * L, top - 1.05],
               [0.0, 0.0, 0.0], [top, top, 1.0]]
    return np.array(pts)


def random_fill(n, L, dim, seed, fixed=None, min_dist=0.85):
    """``fixed`` points followed by random points, no pair closer than ``min_dist``."""
    gen = np.random.default_rng(seed)
    pts = [] if fixed is None else list(fixed)
    while len(pts) < n:
        trial = gen.random(dim) * L
        if pts:
            dr = np.asarray(pts) - trial
            dr -= L * np.rint(dr / L)
            if np.min(np.sum(dr**2, axis=1)) < min_dist**2:
                continue
        pts.append(trial)
    x = np.array(pts)
    assert np.all((x >= 0) & (x < L))
    r2 = brute_neighbours(x, Box.cube(L, dim), np.inf)[1]
    assert np.min(r2) >= (min_dist - 1e-9) ** 2
    return x


def brute_neighbours(x, box, r_list):
    dr = x[:, None, :] - x[None, :, :]
    dr = box.minimum_image(dr)
    r2 = np.sum(dr**2, axis=2)
    np.fill_diagonal(r2, np.inf)
    return r2 < r_list**2, r2


def list_forces(pot, x, diameters, box, nl):
    f = np.zeros_like(x)
    u, w = energy_forces_list(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut,
                              nl.neighbours, nl.counts, f)
    return u, w, f


def all_pairs_forces(pot, x, diameters, box):
    f = np.zeros_like(x)
    u, w = energy_forces_all_pairs(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, f)
    return u, w, f


def assert_same_physics(a, b):
    """(U, W, F) from the list and from all pairs: same pairs, summed in another order,
    so they agree to round-off, 1e-12 relative. A missed or doubled pair shifts U by its
    pair energy, > 1e-8 of the total even for a soft12 pair at 0.97 r_c."""
    (u1, w1, f1), (u2, w2, f2) = a, b
    assert u1 == pytest.approx(u2, rel=1e-12)
    assert w1 == pytest.approx(w2, rel=1e-12)
    np.testing.assert_allclose(f1, f2, rtol=1e-12, atol=1e-12 * np.max(np.abs(f2)))


def check_list_structure(nl, x, box):
    n = len(x)
    inside, r2 = brute_neighbours(x, box, nl.r_list)
    # ignore pairs within round-off of r_list, where either answer is right
    ambiguous = np.abs(r2 - nl.r_list**2) < 1e-9
    listed = np.zeros((n, n), dtype=bool)
    for i in range(n):
        row = nl.neighbours[i, : nl.counts[i]]
        assert np.all(np.diff(row) > 0), f"row {i} not strictly ascending: {row}"
        assert i not in row
        listed[i, row] = True
    assert np.all((listed == inside) | ambiguous)
    assert np.array_equal(listed, listed.T)  # j in list(i) iff i in list(j)
    assert nl.counts.max() <= nl.neighbours.shape[1]


CASES = [
    # kind, r_cut, skin, dim, L, n, uses_cells
    ("soft12", 3.0, 0.4, 2, 7.0, 30, False),
    ("soft12", 3.0, 0.4, 2, 25.0, 400, True),
    ("lj", 2.5, 0.3, 3, 6.0, 40, False),
    ("lj", 2.5, 0.3, 3, 11.5, 350, True),
    ("lj_smooth", 2.0, 0.5, 2, 7.4, 30, False),  # 7.4 / 2.5 = 2.96 cells: just below 3
    ("lj_smooth", 2.0, 0.5, 3, 7.5, 120, True),  # exactly 3 cells per side
]


@pytest.mark.parametrize("kind, r_cut, skin, dim, L, n, uses_cells", CASES)
def test_list_forces_equal_all_pairs_including_box_edges(kind, r_cut, skin, dim, L, n, uses_cells):
    box = Box.cube(L, dim)
    pot = Potential(kind, r_cut=r_cut)
    x = random_fill(n, L, dim, seed=n + dim, fixed=edge_points(L, dim))
    diameters = polydisperse_diameters(n, 0.15, seed=n)
    diameters[: len(edge_points(L, dim))] = 1.0
    nl = NeighbourList(r_cut, skin)
    assert nl.uses_cells(box) == uses_cells
    nl.build(x, np.zeros(x.shape, dtype=np.int64), box)
    check_list_structure(nl, x, box)
    ref = all_pairs_forces(pot, x, diameters, box)
    assert ref[0] != 0.0
    # the edge pairs interact through the boundary with |F| of order 1
    assert np.all(np.abs(ref[2][:2]).max(axis=1) > 1e-3)
    assert_same_physics(list_forces(pot, x, diameters, box, nl), ref)


@pytest.mark.parametrize("dim, L, n", [(2, 25.0, 400), (3, 11.5, 300)])
def test_cell_build_gives_the_same_list_as_all_pairs_build(dim, L, n):
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=7, fixed=edge_points(L, dim))
    r_list = 2.9
    cap = 200
    nb_cells, c_cells = np.zeros((n, cap), np.int32), np.zeros(n, np.int32)
    nb_pairs, c_pairs = np.zeros((n, cap), np.int32), np.zeros(n, np.int32)
    assert np.floor(L / r_list) >= 3  # build_list takes the cell path here
    build_list(x, box.lengths, r_list, nb_cells, c_cells)
    _build_all_pairs(x, box.lengths, r_list, nb_pairs, c_pairs)
    assert np.array_equal(c_cells, c_pairs)
    for i in range(n):
        assert np.array_equal(nb_cells[i, : c_cells[i]], nb_pairs[i, : c_pairs[i]])


@pytest.mark.parametrize("dim", [2, 3])
def test_a_half_list_starts_narrower_and_holds_a_liquid_with_random_indices(dim):
    # every row is read at every step, so a half list starts at 1.5 mean full rows (a
    # full one at 2); a liquid whose indices are random in space (rows of low index hold
    # nearly all their neighbours) still fits in the 2D course system and the 3D one
    L, n = (40.0, 1024) if dim == 2 else (11.0, 1000)
    box = Box.cube(L, dim)
    full, half = NeighbourList(2.5, 0.4), NeighbourList(2.5, 0.4, half=True)
    assert half.estimate_capacity(n, box) == pytest.approx(0.75 * full.estimate_capacity(n, box), abs=1)
    x = random_fill(n, L, dim, seed=9)
    half.build(x, np.zeros(x.shape, dtype=np.int64), box)
    assert half.capacity == half.estimate_capacity(n, box) > half.counts.max()


@pytest.mark.parametrize("dim", [2, 3])
def test_capacity_overflow_grows_the_list(dim):
    L = 12.0 if dim == 2 else 9.0
    box = Box.cube(L, dim)
    x = random_fill(100, L, dim, seed=3)
    nl = NeighbourList(2.5, 0.5, capacity=2)
    nl.build(x, np.zeros(x.shape, dtype=np.int64), box)
    assert nl.capacity > 2 and nl.neighbours.shape[1] == nl.capacity
    assert nl.counts.max() > 2  # would have been truncated at 2
    check_list_structure(nl, x, box)
    pot = Potential("lj", r_cut=2.5)
    d = np.ones(len(x))
    assert_same_physics(list_forces(pot, x, d, box, nl), all_pairs_forces(pot, x, d, box))


def test_needs_rebuild_after_half_skin_displacement():
    box = Box.cube(10.0, 2)
    x = random_fill(20, 10.0, 2, seed=1)
    x[3] = [9.95, 5.0]  # next to the upper x face
    img = np.zeros(x.shape, dtype=np.int64)
    nl = NeighbourList(2.5, 0.4)
    nl.build(x, img, box)
    assert not nl.needs_rebuild(x, img, box)
    moved = x.copy()
    moved[5, 0] += 0.199
    assert not nl.needs_rebuild(moved, img, box)
    moved[5, 0] += 0.002  # now 0.201 > skin / 2
    assert nl.needs_rebuild(moved, img, box)
    # crossing the box face is a small displacement, not a jump of L
    crossed = x.copy()
    crossed[3, 0] += 0.15
    crossed_img = img.copy()
    box.wrap(crossed, crossed_img)
    assert crossed[3, 0] < 1.0 and crossed_img[3, 0] == 1
    assert not nl.needs_rebuild(crossed, crossed_img, box)
    crossed[3, 0] += 0.06
    assert nl.needs_rebuild(crossed, crossed_img, box)


def test_forces_after_many_rebuilds_in_a_2d_langevin_run(soft_disks_equilibrated):
    state = soft_disks_equilibrated.copy()
    pot = Potential("soft12", r_cut=3.0)
    sim = simlib.Simulation(state, pot, simlib.Langevin(kT=0.9, dt=0.01))
    sim.run(500)
    assert state.list_builds > 20
    assert np.any(state.images != 0)
    ref = all_pairs_forces(pot, state.positions, state.diameters, state.box)
    assert_same_physics((sim.potential_energy, sim.virial, sim.forces), ref)


def test_forces_after_many_rebuilds_in_a_3d_polydisperse_verlet_run():
    state = simlib.initial_state(200, Box.cube(10.0, 3), seed=8, polydispersity=0.15, kT=1.5)
    pot = Potential("lj_smooth", r_cut=2.0)
    sim = simlib.Simulation(state, pot, simlib.Langevin(kT=1.5, dt=0.005))
    sim.run(300)
    sim = simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=0.004))
    sim.run(300)
    assert state.list_builds > 10
    ref = all_pairs_forces(pot, state.positions, state.diameters, state.box)
    assert_same_physics((sim.potential_energy, sim.virial, sim.forces), ref)


def test_overflow_during_a_run_grows_the_list():
    state = simlib.initial_state(64, Box.cube(12.0, 2), seed=3, kT=1.0)
    pot = Potential("soft12", r_cut=2.5)
    sim = simlib.Simulation(state, pot, simlib.Langevin(kT=2.0, dt=0.005))
    nl = sim.nlist
    # shrink the list to exactly fit the start: the first rebuild of the run overflows
    nl.capacity = int(nl.counts.max())
    nl.allocate(state.n, state.box)
    nl.build(state.positions, state.images, state.box)
    state.list_reference = nl.reference
    small = nl.capacity
    sim.run(2000)
    assert nl.capacity > small and nl.neighbours.shape[1] == nl.capacity
    ref = all_pairs_forces(pot, state.positions, state.diameters, state.box)
    assert_same_physics((sim.potential_energy, sim.virial, sim.forces), ref)


@pytest.mark.parametrize("r_int, skin, name", [(0.0, 0.4, "interaction"), (2.5, 0.0, "skin"),
                                               (2.5, -1.0, "skin")])
def test_bad_list_parameters(r_int, skin, name):
    with pytest.raises(ValueError, match=name):
        NeighbourList(r_int, skin)


@pytest.mark.parametrize("dim, L, n", [(2, 25.0, 400), (3, 11.5, 300)])
@pytest.mark.parametrize("spare", [-1, 0, 1, 50])
def test_serial_transposed_build_equals_parallel_row_build_at_every_capacity(dim, L, n, spare):
    # the serial build checks each pair once and transposes; the parallel one fills each
    # row from all its cells: same rows, same counts and the same largest count, also
    # when the capacity is one short, exact or one more than needed
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=11, fixed=edge_points(L, dim))
    big, c_rows = np.zeros((n, 300), np.int32), np.zeros(n, np.int32)
    needed = build_list(x, box.lengths, 2.9, big, c_rows, True)
    capacity = needed + spare
    nb, c_serial = np.zeros((n, capacity), np.int32), np.zeros(n, np.int32)
    assert build_list(x, box.lengths, 2.9, nb, c_serial, False) == needed
    assert np.array_equal(c_serial, c_rows)
    if needed <= capacity:
        for i in range(n):
            assert np.array_equal(nb[i, : c_serial[i]], big[i, : c_rows[i]])


@pytest.fixture
def two_threads():
    """numba on two threads (if it started with two) for the test; the count is restored
    after it."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize("kind, dim", [("lj", 2), ("soft12", 2), ("lj_smooth", 3), ("lj", 3)])
def test_half_list_forces_are_bitwise_the_full_list_forces(kind, dim, two_threads):
    # a full list sums both sides of each pair in a row; a half list evaluates each pair
    # once (Newton's third law), also on threads (each its chunk of rows, the crossings
    # first): the summation order makes all three the same bits
    L = 25.0 if dim == 2 else 11.5
    n = 400 if dim == 2 else 300
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=5, fixed=edge_points(L, dim))
    diameters = polydisperse_diameters(n, 0.15, seed=2)
    diameters[: len(edge_points(L, dim))] = 1.0
    pot = Potential(kind, r_cut=2.5)
    results = []
    for half, parallel in ((False, False), (True, False), (True, True)):
        nl = NeighbourList(2.5, 0.4, half=half)
        nl.build(x, np.zeros(x.shape, dtype=np.int64), box)
        f = np.full_like(x, np.nan)
        uw = energy_forces_list(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, nl.neighbours,
                                nl.counts, f, parallel, half)
        results.append((uw, f))
    for uw, f in results[1:]:
        assert uw == results[0][0] and np.array_equal(f, results[0][1])
    assert np.abs(results[0][1]).max() > 0.1


@pytest.mark.parametrize("dim, L, n", [(2, 25.0, 400), (3, 11.5, 300), (2, 8.0, 40)])
@pytest.mark.parametrize("spare", [-1, 0, 1, 50])
def test_half_build_is_the_upper_part_of_the_full_rows_at_every_capacity(dim, L, n, spare):
    # a half list keeps the neighbours above i of each full row (cells, and the all-pairs
    # build of a box too small for cells); a row one short of room is reported, never
    # silently cut
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=11, fixed=edge_points(L, dim))
    full, c_full = np.zeros((n, 300), np.int32), np.zeros(n, np.int32)
    build_list(x, box.lengths, 2.9, full, c_full)
    upper = [full[i, : c_full[i]][full[i, : c_full[i]] > i] for i in range(n)]
    needed = max(len(row) for row in upper)
    assert needed > 0
    capacity = needed + spare
    nb, counts = np.zeros((n, capacity), np.int32), np.zeros(n, np.int32)
    largest = build_list(x, box.lengths, 2.9, nb, counts, half=True)
    if spare < 0:
        assert largest > capacity
        return
    assert largest == needed
    for i in range(n):
        assert np.array_equal(nb[i, : counts[i]], upper[i])


@pytest.mark.parametrize("dim, L, n", [(2, 25.0, 400), (3, 11.5, 300)])
@pytest.mark.parametrize("spare", [-1, 0, 1])
def test_half_build_on_threads_equals_the_serial_one_at_every_capacity(dim, L, n, spare, two_threads):
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=12, fixed=edge_points(L, dim))
    big, c_serial = np.zeros((n, 300), np.int32), np.zeros(n, np.int32)
    needed = build_list(x, box.lengths, 2.9, big, c_serial, half=True)
    capacity = needed + spare
    nb, counts = np.zeros((n, capacity), np.int32), np.zeros(n, np.int32)
    assert build_list(x, box.lengths, 2.9, nb, counts, True, half=True) == needed
    assert np.array_equal(counts, c_serial)
    if spare >= 0:
        for i in range(n):
            assert np.array_equal(nb[i, : counts[i]], big[i, : counts[i]])


def _half_list(x, L, dim):
    nl = NeighbourList(2.5, 0.4, half=True)
    nl.build(x, np.zeros(x.shape, dtype=np.int64), Box.cube(L, dim))
    return nl


@pytest.mark.parametrize("chunks", [1, 2, 3, 7])
def test_chunk_index_lists_the_crossings_of_each_chunk_in_ascending_rows(chunks):
    from simlib.neighbours import chunk_index, empty_chunk_index

    n = 300
    x = random_fill(n, 22.0, 2, seed=8, fixed=edge_points(22.0, 2))
    nl = _half_list(x, 22.0, 2)
    first = chunk_index(nl.neighbours, nl.counts, chunks, *empty_chunk_index(2))
    # a second call with the same list reuses the arrays: they have room
    again = chunk_index(nl.neighbours, nl.counts, chunks, *first)
    assert all(a is b for a, b in zip(first, again))
    chunk_start, gather_start, crossing, gather, crossing_forces = again
    assert list(chunk_start) == [c * n // chunks for c in range(chunks + 1)]
    chunk_of = np.searchsorted(chunk_start, np.arange(n), side="right") - 1
    expected = [(i, j) for i in range(n) for j in nl.neighbours[i, : nl.counts[i]] if chunk_of[j] > chunk_of[i]]
    total = gather_start[-1]
    assert total == len(expected) and (total > 0) == (chunks > 1)
    if chunks == 2:
        # indices random in space: about half the pairs cross
        assert 0.4 < total / nl.counts.sum() < 0.6
    # the pair list and its forces with a quarter to spare
    assert total <= crossing.shape[0] <= 1.25 * total + 1 and crossing_forces.shape == (crossing.shape[0], 2)
    assert [tuple(pair) for pair in crossing[:total]] == expected
    for c in range(chunks):
        into = [tuple(crossing[p]) for p in gather[gather_start[c]:gather_start[c + 1]]]
        assert sorted(into) == sorted(pair for pair in expected if chunk_of[pair[1]] == c)
        for j in set(pair[1] for pair in into):
            rows = [i for i, partner in into if partner == j]
            assert rows == sorted(rows)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("order", ["random", "by_x"])
def test_any_chunking_gives_the_serial_forces_bit_for_bit(dim, order, two_threads):
    # every particle receives its lower pairs in ascending rows, whatever the chunks: the
    # crossings (many when indices are random in space, few when sorted by x) first
    from simlib.neighbours import chunk_index, empty_chunk_index
    from simlib.potentials import _ENERGY_FORCES

    L, n = (25.0, 400) if dim == 2 else (11.5, 300)
    x = random_fill(n, L, dim, seed=4, fixed=edge_points(L, dim))
    if order == "by_x":
        x = x[np.argsort(x[:, 0], kind="stable")].copy()
    diameters = polydisperse_diameters(n, 0.15, seed=3)
    nl = _half_list(x, L, dim)
    pot = Potential("lj", r_cut=2.5)
    serial, chunked = _ENERGY_FORCES[(dim == 3, False)], _ENERGY_FORCES[(dim == 3, True)]
    args = (x, diameters, Box.cube(L, dim).lengths, pot.code, pot.epsilon, pot.r_cut, nl.neighbours, nl.counts)

    def forces(kernel, index):
        f, u, w = np.full_like(x, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        totals = kernel(*args, f, u, w, True, False, *index)
        return f, u, w, np.array(totals)

    want = forces(serial, empty_chunk_index(dim))
    assert np.abs(want[0]).max() > 0.1
    if order == "by_x":
        # near in space, near in index: few pairs cross between two chunks
        assert chunk_index(nl.neighbours, nl.counts, 2, *empty_chunk_index(dim))[1][-1] < 0.2 * nl.counts.sum()
    index = empty_chunk_index(dim)
    for chunks in (1, 2, 3, 5, n - 1, n, n + 3):
        index = chunk_index(nl.neighbours, nl.counts, chunks, *index)
        for a, b in zip(forces(chunked, index), want):
            assert np.array_equal(a, b), chunks


def test_threads_sum_a_half_list_only_and_a_full_list_is_never_taken_for_half():
    x = random_fill(50, 10.0, 2, seed=1)
    nb, counts = np.zeros((50, 40), np.int32), np.zeros(50, np.int32)
    build_list(x, np.array([10.0, 10.0]), 2.9, nb, counts)
    pot = Potential("lj", r_cut=2.5)
    args = (x, np.ones(50), np.array([10.0, 10.0]), pot.code, pot.epsilon, pot.r_cut, nb, counts, np.zeros_like(x))
    with pytest.raises(ValueError, match="needs a half list"):
        energy_forces_list(*args, True, False)
    for parallel in (False, True):
        with pytest.raises(ValueError, match="the list is full"):
            energy_forces_list(*args, parallel, True)


@pytest.mark.parametrize("parallel", [False, True])
def test_run_dynamics_refuses_a_full_list(parallel):
    # dynamics sums each pair once from a half list; given a full list it would count
    # every pair twice, so it refuses
    state = simlib.initial_state(100, Box.cube(14.0, 2), seed=3, kT=1.0)
    nl = NeighbourList(2.5, 0.4)
    nl.build(state.positions, state.images, state.box)
    pot = Potential("lj", r_cut=2.5)
    f = np.zeros_like(state.positions)
    with pytest.raises(ValueError, match="needs a half neighbour list"):
        simlib.integrators.run_dynamics(
            0, state.positions, state.images, state.velocities, f, state.diameters, state.box.lengths,
            pot.code, pot.epsilon, pot.r_cut, 0.4, nl.neighbours, nl.counts, nl.reference, np.uint64(1), 0, 10,
            0.01, 1.0, 1.0, 1.0, 0.5, parallel=parallel)


@pytest.mark.parametrize("parallel", [False, True])
def test_run_dynamics_takes_a_table_without_columns(parallel):
    # two particles out of range: a list of capacity 0 holds every pair there is (none)
    state = simlib.initial_state(2, Box.cube(20.0, 2), seed=1, kT=1.0)
    nl = NeighbourList(2.5, 0.4, capacity=0, half=True)
    nl.build(state.positions, state.images, state.box)
    pot = Potential("lj", r_cut=2.5)
    f = np.zeros_like(state.positions)
    status = simlib.integrators.run_dynamics(
        0, state.positions, state.images, state.velocities, f, state.diameters, state.box.lengths,
        pot.code, pot.epsilon, pot.r_cut, 0.4, nl.neighbours, nl.counts, nl.reference, np.uint64(1), 0, 10,
        0.01, 1.0, 1.0, 1.0, 0.5, parallel=parallel)[0]
    assert status == simlib.integrators.OK


def test_a_list_grown_inside_a_run_gives_the_same_bits_as_a_roomy_one():
    # the dynamics kernel widens a full table itself and goes on (no chunk is run twice):
    # the trajectory is the one a list with room to spare gives
    def run(capacity):
        state = simlib.initial_state(400, Box.cube(25.0, 2), seed=5, kT=1.0)
        sim = simlib.Simulation(state, Potential("lj", r_cut=2.5), simlib.Langevin(kT=0.3, dt=0.01))
        nl = sim.nlist
        nl.capacity = int(nl.counts.max()) if capacity is None else capacity
        nl.allocate(state.n, state.box)
        nl.build(state.positions, state.images, state.box)
        state.list_reference = nl.reference
        start = nl.capacity
        sim.run(3000)
        return sim, state, start

    tight, st_tight, start = run(None)
    roomy, st_roomy, _ = run(200)
    # the list started exactly full: in this condensing liquid it had to grow
    assert tight.nlist.capacity > start and tight.nlist.neighbours.shape[1] == tight.nlist.capacity
    assert roomy.nlist.capacity == 200
    assert np.array_equal(st_tight.positions, st_roomy.positions)
    assert np.array_equal(st_tight.velocities, st_roomy.velocities)
    assert st_tight.list_builds == st_roomy.list_builds


@pytest.mark.parametrize("dim, parallel", [(2, False), (2, True), (3, False)])
def test_equal_diameters_skip_the_partners_diameter_with_the_same_bits(dim, parallel):
    # the kernels do not read a partner's diameter when all are equal: the general
    # expression 0.5 (a_i + a_j) gives the same bits, which the kernel run with the flag
    # off shows
    from simlib.neighbours import chunk_index, empty_chunk_index, keep_chunk_index
    from simlib.potentials import _ENERGY_FORCES

    L, n = (25.0, 400) if dim == 2 else (11.5, 300)
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=3, fixed=edge_points(L, dim))
    diameters = np.full(n, 1.07)
    pot = Potential("lj", r_cut=2.5)
    nl = NeighbourList(2.5, 0.4, half=True)
    nl.build(x, np.zeros(x.shape, dtype=np.int64), box)
    kernel = _ENERGY_FORCES[(dim == 3, parallel)]
    pairs = (chunk_index if parallel else keep_chunk_index)(nl.neighbours, nl.counts, 3, *empty_chunk_index(dim))
    results = []
    for monodisperse in (True, False):
        f, u, w = np.zeros_like(x), np.zeros(n), np.zeros(n)
        totals = kernel(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, nl.neighbours, nl.counts, f, u,
                        w, nl.half, monodisperse, *pairs)
        results.append((f, u, w, np.array(totals)))
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert np.abs(results[0][0]).max() > 0.1


@pytest.mark.parametrize("dim", [2, 3])
def test_equal_diameters_give_the_same_trial_energy_change_bits(dim):
    # Monte Carlo's trial energy change, with and without reading the partners' diameters
    from simlib.potentials import move_energy_change_2d, move_energy_change_3d

    L, n = (25.0, 400) if dim == 2 else (11.5, 300)
    box = Box.cube(L, dim)
    x = random_fill(n, L, dim, seed=4, fixed=edge_points(L, dim))
    diameters = np.full(n, 0.93)
    pot = Potential("lj", r_cut=2.5)
    nl = NeighbourList(2.5, 0.9)
    nl.build(x, np.zeros(x.shape, dtype=np.int64), box)
    gen = np.random.default_rng(1)
    changes = 0
    for i in range(0, n, 7):
        new = (x[i] + gen.uniform(-0.15, 0.15, dim)) % L
        args = (x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, nl.neighbours, nl.counts)
        if dim == 2:
            fast, general = (move_energy_change_2d(i, new[0], new[1], *args, m) for m in (True, False))
        else:
            fast, general = (move_energy_change_3d(i, new[0], new[1], new[2], *args, m) for m in (True, False))
        assert fast == general
        changes += fast != 0.0
    assert changes > 10
