"""Checkerboard Metropolis: Boltzmann sampling, agreement with the serial sweep, the cell
constraint, hard particles, refusals. Thread-count independence is in test_threads."""

import numpy as np
import pytest
from scipy import stats

import simlib
from simlib import Box, Metropolis, Potential, Simulation, State
from simlib.checkerboard import checkerboard_grid, run_checkerboard
from simlib.potentials import energy_forces_all_pairs

from test_mc import histogram_p_value, min_gap, pair_distance_cdf

LJ = Potential("lj", r_cut=2.5)


def test_grid_is_even_at_least_four_and_at_least_one_range_wide():
    big = 10**6
    cells = checkerboard_grid([40.0, 10.0], 2.5, big)
    assert cells.tolist() == [16, 4]
    assert checkerboard_grid([12.4], 2.5, big).tolist() == [4]  # 4.96 -> 4 cells of 3.1
    assert checkerboard_grid([37.5], 2.5, big).tolist() == [14]  # 15 cells would be odd
    # a dilute system keeps O(N) cells: wider cells, never narrower
    assert checkerboard_grid([1000.0] * 3, 2.5, 1000).tolist() == [12] * 3
    # L / r a hair below a whole number, where L / r rounds up to 18: the cells must still
    # be r wide (16 of them, not 18)
    side = np.nextafter(18 * 3.3, 0.0)
    assert np.floor(side / 3.3) == 18 and side / 18 < 3.3
    assert checkerboard_grid([side], 3.3, big).tolist() == [16]
    with pytest.raises(ValueError, match="checkerboard needs every box side >= 4 interaction ranges"):
        checkerboard_grid([9.9, 40.0], 2.5, big)
    with pytest.raises(ValueError, match="do not fit box"):
        run_checkerboard(np.zeros((4, 2)), np.zeros((4, 2), np.int64), np.ones(4), np.array([10.0, 10.0]), 1,
                         1.0, 2.5, np.array([6, 6]), np.uint64(1), 0, 1, 0.1, 1.0, False)


def test_simulation_refuses_small_box_and_large_moves():
    state = simlib.initial_state(64, Box.cube(9.0, 2), seed=1)
    with pytest.raises(ValueError, match="checkerboard needs every box side"):
        Simulation(state, LJ, Metropolis(kT=1.0, checkerboard=True))
    state = simlib.initial_state(256, Box.cube(20.0, 2), seed=1)  # 8 cells of 2.5
    with pytest.raises(ValueError, match="half the cell width = 1.25"):
        Simulation(state, LJ, Metropolis(kT=1.0, move_size=1.3, checkerboard=True))
    with pytest.raises(ValueError, match="checkerboard must be true or false"):
        Metropolis(kT=1.0, checkerboard="yes")
    assert type(Metropolis(kT=1.0, checkerboard=np.bool_(True)).checkerboard) is bool


@pytest.mark.parametrize("dim, L", [(2, 10.0), (2, 15.0), (3, 10.0)])
def test_two_particle_distance_follows_boltzmann(dim, L):
    """The exact pair-distance distribution of test_mc, sampled by checkerboard sweeps in a
    box of four cells per side (two particles often share a cell or sit in neighbours), and
    of six (where blocks away from the box edge skip the minimum image)."""
    kT = 0.5
    box = Box.cube(L, dim)
    x = np.full((2, dim), 1.0)
    x[1, 0] += 1.5
    cells = checkerboard_grid(box.lengths, LJ.r_cut, 10**6)
    images = np.zeros((2, dim), np.int64)
    # the kernel itself, 25 sweeps (50 trials) between samples: the distance within r_c,
    # which the bins resolve, decorrelates within a few such intervals
    r = np.empty(30_000)
    for k in range(-8, r.size):
        run_checkerboard(x, images, np.ones(2), box.lengths, LJ.code, LJ.epsilon, LJ.r_cut, cells,
                         np.uint64(3), 25 * (k + 8), 25, 1.2, kT, False)
        if k >= 0:
            dr = box.minimum_image(x[0] - x[1])
            r[k] = np.sqrt(dr @ dr)
    grid, cdf, _ = pair_distance_cdf(dim, kT, L, LJ)
    inner = np.interp(np.linspace(0.0, cdf[-1], 11)[1:-1], cdf, grid)
    edges = np.r_[0.0, inner, LJ.r_cut]
    counts = np.r_[np.histogram(r, edges)[0], np.sum(r >= LJ.r_cut)]
    assert counts[:-1].min() > 150  # every bin inside r_c well populated

    def p_value(temperature):
        return histogram_p_value(counts, edges, dim, temperature, L)

    # seeded; p > 1e-3 fails a correct sampler with probability 1e-3
    assert p_value(kT) > 1e-3
    # power: a 25 % error in the temperature is firmly rejected
    assert p_value(0.75 * kT) < 1e-6
    assert p_value(1.25 * kT) < 1e-6


def block_mean(values, blocks=20):
    """Mean and its standard error from ``blocks`` consecutive block means."""
    b = np.asarray(values)[: len(values) // blocks * blocks].reshape(blocks, -1).mean(axis=1)
    return b.mean(), b.std(ddof=1) / np.sqrt(blocks)


def rdf(positions, box, r_max=3.0, bins=30):
    """Pair-distance histogram (each pair once) for r < r_max."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(positions, boxsize=box.lengths).query_pairs(r_max, output_type="ndarray")
    dr = box.minimum_image(positions[pairs[:, 0]] - positions[pairs[:, 1]])
    r = np.sqrt(np.sum(dr**2, axis=1))
    return np.histogram(r, bins=bins, range=(0.0, r_max))[0].astype(float)


@pytest.fixture(scope="module")
def serial_and_checkerboard():
    """The course's LJ liquid (rho = 0.64, supercritical T = 1.0, N = 400) sampled by both
    sweeps from one equilibrated start: U/N and g(r) every 20 sweeps over 6000 sweeps."""
    n = 400
    box = Box.cube(np.sqrt(n / 0.64), 2)  # 25: ten cells of 2.5
    start = simlib.initial_state(n, box, seed=7)
    Simulation(start, LJ, Metropolis(kT=1.0, move_size=0.15)).run(1500)  # melted and relaxed
    out = {}
    for checkerboard in (False, True):
        state = start.copy()
        sim = Simulation(state, LJ, Metropolis(kT=1.0, move_size=0.15, checkerboard=checkerboard))
        u, g = [], []

        def record(s):
            u.append(s.potential_energy / n)
            g.append(rdf(s.state.positions, box))

        sim.run(6000, every=20, callback=record)
        out[checkerboard] = (np.array(u), np.array(g), sim)
    return out


def test_agrees_with_serial_on_energy_and_rdf(serial_and_checkerboard):
    (u_s, g_s, _), (u_c, g_c, _) = serial_and_checkerboard[False], serial_and_checkerboard[True]
    (mean_s, err_s), (mean_c, err_c) = block_mean(u_s), block_mean(u_c)
    sigma = np.hypot(err_s, err_c)
    assert 0 < sigma < 0.01
    assert abs(mean_s - mean_c) < 4 * sigma, (mean_s, mean_c, sigma)
    # g(r) histogram bins (r < 3, bin 0.1): each within 4.5 sigma, and their chi2 (the bins
    # are correlated, so the chi2 law is approximate: measured p = 0.1-0.6 over seeds)
    z = []
    for k in range(g_s.shape[1]):
        (ms, es), (mc, ec) = block_mean(g_s[:, k]), block_mean(g_c[:, k])
        if ms > 0 and mc > 0:
            z.append((ms - mc) / np.hypot(es, ec))
    z = np.array(z)
    assert len(z) > 15
    assert np.max(np.abs(z)) < 4.5, z
    assert stats.chi2.sf(np.sum(z**2), len(z)) > 1e-4


def test_acceptance_is_the_serial_one_less_the_trials_that_leave_their_cell(serial_and_checkerboard):
    """A trial stays in its cell with probability (1 - dr / 2w)^d for a particle uniform in
    the cell; those that stay are accepted about as often as serial trials."""
    serial, checkerboard = serial_and_checkerboard[False][2].state, serial_and_checkerboard[True][2].state
    stay = (1.0 - 0.15 / (2 * 2.5)) ** 2
    measured = checkerboard.mc_accepted / checkerboard.mc_trials
    assert measured == pytest.approx(stay * serial.mc_accepted / serial.mc_trials, abs=0.01)


def test_energy_is_the_all_pairs_energy_and_particles_stay_wrapped(serial_and_checkerboard):
    u_c, _, sim = serial_and_checkerboard[True]
    st = sim.state
    forces = np.zeros_like(st.positions)
    u_all, w_all = energy_forces_all_pairs(st.positions, st.diameters, st.box.lengths, LJ.code, LJ.epsilon,
                                           LJ.r_cut, forces)
    # the kernel's own sum over its cells
    assert sim.potential_energy == pytest.approx(u_all, rel=1e-12)
    assert sim.virial == pytest.approx(w_all, rel=1e-12)
    assert np.all((st.positions >= 0) & (st.positions < st.box.lengths))
    # the moves happened: acceptance near the serial one less the cell-leaving trials
    acceptance = st.mc_accepted / st.mc_trials
    assert st.mc_trials == 6000 * st.n
    assert 0.3 < acceptance < 0.9


@pytest.fixture
def two_threads():
    """The parallel kernel on two threads (where numba has them), for the tests below."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    yield
    numba.set_num_threads(before)


def test_trials_that_leave_the_cell_are_the_expected_fraction(two_threads):
    """A trial leaves its cell when a uniform step of half-width dr crosses the cell's side:
    per axis the chance is dr / (2 w) for a particle uniform in the cell. Ideal particles
    (no energy) are uniform, so the measured fraction must match 1 - (1 - dr/2w)^d."""
    n, L, dr = 4000, 50.0, 0.5
    x = np.random.default_rng(2).uniform(0.0, L, (n, 2))
    start = x.copy()
    images = np.zeros((n, 2), np.int64)
    box = np.array([L, L])
    cells = checkerboard_grid(box, 2.5, n)  # 20 cells of 2.5
    accepted, left, _, _ = run_checkerboard(x, images, np.ones(n), box, simlib.potentials.IDEAL, 1.0, 2.5, cells,
                                      np.uint64(1), 0, 50, dr, 1.0, parallel=True)
    trials = 50 * n
    expected = 1.0 - (1.0 - dr / (2 * 2.5)) ** 2
    sigma = np.sqrt(expected * (1 - expected) / trials)
    assert abs(left / trials - expected) < 5 * sigma
    assert accepted + left == trials  # every ideal move inside its cell is accepted
    # image bookkeeping: unwrapped displacements are sums of steps of size <= dr (a wrong
    # image is off by L = 50). Mean square: accepted steps x d x <step^2>, where a uniform
    # step kept in its cell has <step^2> = dr^2/3 (1 - 3 dr/4w) / (1 - dr/2w) per axis
    moved = x + images * L - start
    assert np.max(np.abs(moved)) < 10.0
    w = 2.5
    step2 = dr**2 / 3 * (1 - 3 * dr / (4 * w)) / (1 - dr / (2 * w))
    assert np.sum(moved**2) / n == pytest.approx(accepted / n * 2 * step2, rel=0.06)


@pytest.mark.parametrize("dim, n, packing", [(2, 300, 0.40), (3, 300, 0.25)])
def test_hard_particles_never_overlap(dim, n, packing, two_threads):
    unit = np.pi / 4 if dim == 2 else np.pi / 6
    side = (n * unit / packing) ** (1.0 / dim)
    state = simlib.initial_state(n, Box.cube(side, dim), seed=5, polydispersity=0.1, arrangement="random")
    start = state.unwrapped_positions()
    sim = Simulation(state, Potential("hard"), Metropolis(kT=1.0, move_size=0.2, checkerboard=True))
    gaps = []
    sim.run(300, every=1, callback=lambda s: gaps.append(min_gap(s.state)))  # every sweep
    assert min(gaps) >= 0.0, min(gaps)
    assert min(gaps) < 0.01
    msd = np.mean(np.sum((state.unwrapped_positions() - start) ** 2, axis=1))
    assert msd > 1.0


def test_restart_is_bit_identical_and_seed_matters():
    n = 400
    state = simlib.initial_state(n, Box.cube(25.0, 2), seed=9)
    whole = state.copy()
    Simulation(whole, LJ, Metropolis(kT=0.8, checkerboard=True)).run(60)
    half = state.copy()
    Simulation(half, LJ, Metropolis(kT=0.8, checkerboard=True)).run(25)
    Simulation(half, LJ, Metropolis(kT=0.8, checkerboard=True), resume=True).run(35)
    assert np.array_equal(whole.positions, half.positions)
    assert np.array_equal(whole.images, half.images)
    assert whole.mc_accepted == half.mc_accepted
    other = state.copy()
    other.seed = 10
    Simulation(other, LJ, Metropolis(kT=0.8, checkerboard=True)).run(60)
    assert not np.array_equal(whole.positions, other.positions)


@pytest.mark.parametrize("dim, n, L", [(2, 100, 15.0), (3, 110, 15.0)])
def test_kernel_follows_the_documented_sweep_bitwise(dim, n, L):
    """A plain-Python checkerboard sweep, written from the module's documentation (offset
    and colour order from counter (sweep, 2^63 + k), cells of the shifted grid holding their
    particles in index order, trial t of cell c from (sweep, c 2^32 + 4 t + k), a trial
    leaving its cell rejected), gives the kernel's positions, images and acceptances bit
    for bit. Six cells per side: blocks inside the box and blocks across its edge. The
    energy change here sums every other particle (the kernel: its block), which decides
    each trial alike."""
    from simlib.geometry import min_image, wrap_coordinate
    from simlib.potentials import pair_term, power_law_coefficients

    # the helpers' Python source: the kernels inline them and compile no Python entry
    min_image, wrap_coordinate = min_image.py_func, wrap_coordinate.py_func
    pair_term, power_law_coefficients = pair_term.py_func, power_law_coefficients.py_func
    from simlib.rng import STREAM_CHECKERBOARD, uniform_pair

    kT, move, seed = 0.9, 0.2, 4
    state = simlib.initial_state(n, Box.cube(L, dim), seed=seed, polydispersity=0.1)
    Simulation(state, LJ, Metropolis(kT=2.0)).run(20)  # off the lattice
    x, images, a = state.positions.copy(), state.images.copy(), state.diameters
    cells = checkerboard_grid(state.box.lengths, LJ.r_cut, n)
    assert cells.tolist() == [6] * dim
    width = L / 6
    coefficients = power_law_coefficients(LJ.code, LJ.epsilon, LJ.r_cut)
    high = 1 << 63

    def energy(i, p):
        u = 0.0
        for j in range(n):
            if j != i:
                dr = [min_image(p[k] - x[j, k], L, L / 2) for k in range(dim)]
                r2 = sum(c * c for c in dr)
                if r2 < LJ.r_cut**2:
                    u += pair_term(LJ.code, r2, 0.5 * (a[i] + a[j]), LJ.epsilon, LJ.r_cut, coefficients)[0]
        return u

    def draw(sweep, counter):
        return uniform_pair(seed, STREAM_CHECKERBOARD, np.uint64(sweep), np.uint64(counter))

    def coordinate(value, offset):
        c = int(np.floor((value - offset) / width))
        return c + 6 if c < 0 else (c - 6 if c >= 6 else c)

    accepted = 0
    first_sweep = 20
    for sweep in range(first_sweep, first_sweep + 3):
        u = draw(sweep, high)
        offset = [u[0] * width, u[1] * width]
        if dim == 3:
            offset.append(draw(sweep, high + 1)[0] * width)
        colours = list(range(2**dim))
        for c in range(len(colours) - 1, 0, -1):
            r = min(int(draw(sweep, high + 2 + c)[0] * (c + 1)), c)
            colours[c], colours[r] = colours[r], colours[c]
        members = {}
        for i in range(n):
            members.setdefault(tuple(coordinate(x[i, k], offset[k]) for k in range(dim)), []).append(i)
        for colour in colours:
            parity = [(colour >> k) & 1 for k in range(dim)]
            for where, inside in members.items():
                if [c % 2 for c in where] != parity:
                    continue
                cell = where[0] + 6 * where[1] + (36 * where[2] if dim == 3 else 0)
                for t in range(len(inside)):
                    u0, u1 = draw(sweep, (cell << 32) + 4 * t)
                    u2, u3 = draw(sweep, (cell << 32) + 4 * t + 1)
                    steps = [u2, u3]
                    if dim == 3:
                        steps.append(draw(sweep, (cell << 32) + 4 * t + 2)[0])
                    i = inside[min(int(u0 * len(inside)), len(inside) - 1)]
                    new, shift = zip(*(wrap_coordinate(x[i, k] + move * (2.0 * steps[k] - 1.0), L)
                                       for k in range(dim)))
                    if tuple(coordinate(new[k], offset[k]) for k in range(dim)) != where:
                        continue
                    delta_u = energy(i, new) - energy(i, x[i])
                    if delta_u <= 0.0 or u1 < np.exp(-delta_u / kT):
                        x[i] = new
                        images[i] += shift
                        accepted += 1
    accepted_before = state.mc_accepted
    sim = Simulation(state, LJ, Metropolis(kT=kT, move_size=move, checkerboard=True), resume=True)
    sim.run(3)
    assert state.mc_accepted - accepted_before == accepted > 50
    assert np.array_equal(state.positions, x) and np.array_equal(state.images, images)
    # the energy and virial the kernel sums over its cells at the end
    u_all, w_all = energy_forces_all_pairs(x, a, state.box.lengths, LJ.code, LJ.epsilon, LJ.r_cut, np.zeros_like(x))
    assert sim.potential_energy == pytest.approx(u_all, rel=1e-12)
    assert sim.virial == pytest.approx(w_all, rel=1e-12)
