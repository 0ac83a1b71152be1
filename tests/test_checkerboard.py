"""Checkerboard Metropolis: Boltzmann sampling, agreement with the serial sweep, the cell
constraint, hard particles, refusals. Thread-count independence is in test_threads."""

import numpy as np
import pytest
from scipy import stats

import simlib
from simlib import Box, Metropolis, Potential, Simulation, State
from simlib.checkerboard import checkerboard_grid, run_checkerboard
from simlib.potentials import energy_forces_all_pairs

from test_mc import min_gap, pair_distance_cdf

LJ = Potential("lj", r_cut=2.5)


def test_grid_is_even_at_least_four_and_at_least_one_range_wide():
    cells = checkerboard_grid([40.0, 10.0], 2.5)
    assert cells.tolist() == [16, 4]
    assert checkerboard_grid([12.4], 2.5).tolist() == [4]  # 4.96 -> 4 cells of 3.1
    assert checkerboard_grid([37.5], 2.5).tolist() == [14]  # 15 cells would be odd
    with pytest.raises(ValueError, match="checkerboard needs every box side >= 4 interaction ranges"):
        checkerboard_grid([9.9, 40.0], 2.5)


def test_simulation_refuses_small_box_and_large_moves():
    state = simlib.initial_state(64, Box.cube(9.0, 2), seed=1)
    with pytest.raises(ValueError, match="checkerboard needs every box side"):
        Simulation(state, LJ, Metropolis(kT=1.0, checkerboard=True))
    state = simlib.initial_state(256, Box.cube(20.0, 2), seed=1)  # 8 cells of 2.5
    with pytest.raises(ValueError, match="half the cell width = 1.25"):
        Simulation(state, LJ, Metropolis(kT=1.0, move_size=1.3, checkerboard=True))
    with pytest.raises(ValueError, match="checkerboard must be true or false"):
        Metropolis(kT=1.0, checkerboard="yes")


@pytest.mark.parametrize("dim", [2, 3])
def test_two_particle_distance_follows_boltzmann(dim):
    """The exact pair-distance distribution of test_mc, sampled by checkerboard sweeps in a
    box of four cells per side (two particles often share a cell or sit in neighbours)."""
    kT, L = 0.5, 10.0
    box = Box.cube(L, dim)
    x = np.full((2, dim), 1.0)
    x[1, 0] += 1.5
    cells = checkerboard_grid(box.lengths, LJ.r_cut)
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
        g, c, out = pair_distance_cdf(dim, temperature, L, LJ)
        expected = len(r) * np.r_[np.diff(np.interp(edges, g, c)), out]
        chi2 = np.sum((counts - expected) ** 2 / expected)
        return stats.chi2.sf(chi2, len(counts) - 1)

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
    dr = box.minimum_image(positions[:, None, :] - positions[None, :, :])
    r = np.sqrt(np.sum(dr**2, axis=2))[np.triu_indices(len(positions), 1)]
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


def test_energy_is_the_all_pairs_energy_and_particles_stay_wrapped(serial_and_checkerboard):
    u_c, _, sim = serial_and_checkerboard[True]
    st = sim.state
    forces = np.zeros_like(st.positions)
    u_all, _ = energy_forces_all_pairs(st.positions, st.diameters, st.box.lengths, LJ.code, LJ.epsilon,
                                       LJ.r_cut, forces)
    assert sim.potential_energy == pytest.approx(u_all, rel=1e-12)
    assert np.all((st.positions >= 0) & (st.positions < st.box.lengths))
    # the moves happened: acceptance near the serial one less the cell-leaving trials
    acceptance = st.mc_accepted / st.mc_trials
    assert st.mc_trials == 6000 * st.n
    assert 0.3 < acceptance < 0.9


def test_trials_that_leave_the_cell_are_the_expected_fraction():
    """A trial leaves its cell when a uniform step of half-width dr crosses the cell's side:
    per axis the chance is dr / (2 w) for a particle uniform in the cell. Ideal particles
    (no energy) are uniform, so the measured fraction must match 1 - (1 - dr/2w)^d."""
    n, L, dr = 4000, 50.0, 0.5
    x = np.random.default_rng(2).uniform(0.0, L, (n, 2))
    box = np.array([L, L])
    cells = checkerboard_grid(box, 2.5)  # 20 cells of 2.5
    accepted, left = run_checkerboard(x, np.zeros((n, 2), np.int64), np.ones(n), box, simlib.potentials.IDEAL,
                                      1.0, 2.5, cells, np.uint64(1), 0, 50, dr, 1.0, False)
    trials = 50 * n
    expected = 1.0 - (1.0 - dr / (2 * 2.5)) ** 2
    sigma = np.sqrt(expected * (1 - expected) / trials)
    assert abs(left / trials - expected) < 5 * sigma
    assert accepted + left == trials  # every ideal move inside its cell is accepted


@pytest.mark.parametrize("dim, n, packing", [(2, 300, 0.40), (3, 300, 0.25)])
def test_hard_particles_never_overlap(dim, n, packing):
    unit = np.pi / 4 if dim == 2 else np.pi / 6
    side = (n * unit / packing) ** (1.0 / dim)
    state = simlib.initial_state(n, Box.cube(side, dim), seed=5, polydispersity=0.1, arrangement="random")
    start = state.unwrapped_positions()
    sim = Simulation(state, Potential("hard"), Metropolis(kT=1.0, move_size=0.2, checkerboard=True))
    gaps = []
    sim.run(300, every=20, callback=lambda s: gaps.append(min_gap(s.state)))
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
