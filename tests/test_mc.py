"""Metropolis Monte Carlo: Boltzmann sampling, acceptance, hard particles, move-size tuning."""

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid

import simlib
from simlib import Box, Metropolis, MoveSizeTuner, Potential, Simulation, State, tune_move_size
from simlib.potentials import energy_forces_all_pairs

LJ = Potential("lj", r_cut=2.5)


# -- Boltzmann sampling on two particles -------------------------------------------------------

def pair_distance_cdf(dim, kT, L, pot):
    """Exact distribution of the minimum-image distance r of two particles in a periodic
    cube of side L >= 2 r_c: density ∝ (2 pi r | 4 pi r^2) exp(-U(r)/T) for r < r_c, and
    beyond r_c (U = 0) simply the remaining area/volume L^d - (pi r_c^2 | 4/3 pi r_c^3)
    of the cell, whatever its shape. Returns (grid, CDF on grid for r < r_c, P(r >= r_c))."""
    rc = pot.r_cut
    grid = np.linspace(0.6, rc, 20001)  # exp(-U/T) < 1e-100 below r = 0.6
    jacobian = 2 * np.pi * grid if dim == 2 else 4 * np.pi * grid**2
    density = jacobian * np.exp(-pot.pair(grid)[0] / kT)
    cumulative = np.r_[0.0, cumulative_trapezoid(density, grid)]  # error ~1e-9, negligible
    outside = L**dim - (np.pi * rc**2 if dim == 2 else 4.0 / 3.0 * np.pi * rc**3)
    z = cumulative[-1] + outside
    return grid, cumulative / z, outside / z


def histogram_p_value(counts, edges, dim, kT, L):
    """Chi-square p-value of pair-distance ``counts`` in bins ``edges`` (inside r_c, the last
    count is r >= r_c) against the exact distribution at temperature ``kT``."""
    g, c, out = pair_distance_cdf(dim, kT, L, LJ)
    expected = counts.sum() * np.r_[np.diff(np.interp(edges, g, c)), out]
    chi2 = np.sum((counts - expected) ** 2 / expected)
    return stats.chi2.sf(chi2, len(counts) - 1)


@pytest.mark.parametrize("dim, L", [(2, 6.0), (3, 5.5)])
def test_two_particle_distance_follows_boltzmann(dim, L):
    kT = 0.5
    box = Box.cube(L, dim)
    x = np.full((2, dim), 1.0)
    x[1, 0] += 1.5
    state = State(x, np.zeros((2, dim)), np.zeros((2, dim), np.int64), np.ones(2), box, seed=3)
    # large moves (acceptance ~0.75-0.85) so that samples 10 sweeps apart are independent
    sim = Simulation(state, LJ, Metropolis(kT=kT, move_size=1.2), skin=4.5)
    sim.run(200)
    r = []

    def record(s):
        dr = box.minimum_image(s.state.positions[0] - s.state.positions[1])
        r.append(np.sqrt(dr @ dr))

    sim.run(400_000, every=10, callback=record)
    r = np.array(r)
    assert len(r) == 40_000

    grid, cdf, p_out = pair_distance_cdf(dim, kT, L, LJ)
    # 30 bins of equal exact probability inside r_c (~900 expected counts each) + r >= r_c
    inner = np.interp(np.linspace(0.0, cdf[-1], 31)[1:-1], cdf, grid)
    edges = np.r_[0.0, inner, LJ.r_cut]
    counts = np.r_[np.histogram(r, edges)[0], np.sum(r >= LJ.r_cut)]

    def p_value(temperature):
        return histogram_p_value(counts, edges, dim, temperature, L)

    # seeded, hence deterministic; p is uniform under a correct sampler (measured 0.2-0.9
    # over seeds), so p > 1e-3 fails a correct engine with probability 1e-3 per seed
    assert p_value(kT) > 1e-3
    # power: the same histogram firmly rejects a 20% error in the temperature (a factor 2
    # in the acceptance exponent is far worse)
    assert p_value(0.8 * kT) < 1e-6
    assert p_value(1.25 * kT) < 1e-6


# -- the course LJ system --------------------------------------------------------------------

@pytest.fixture(scope="module")
def lj_course_state():
    """Course assignment 8: N = 1024, L = 40, LJ r_c = 2.5, lattice start; randomised
    at T = 5.0 (200 sweeps instead of 1000) then T* = 0.2 for 200 sweeps."""
    state = simlib.initial_state(1024, Box.cube(40.0, 2), seed=8)
    Simulation(state, LJ, Metropolis(kT=5.0, move_size=0.15)).run(200)
    Simulation(state, LJ, Metropolis(kT=0.2, move_size=0.15)).run(200)
    return state


def _acceptance(sim, sweeps):
    st = sim.state
    a0, t0 = st.mc_accepted, st.mc_trials
    sim.run(sweeps)
    return (st.mc_accepted - a0) / (st.mc_trials - t0)


def test_acceptance_falls_monotonically_with_move_size(lj_course_state):
    moves = [0.03, 0.06, 0.1, 0.15, 0.25, 0.4]
    acc = []
    for move in moves:
        sim = Simulation(lj_course_state.copy(), LJ, Metropolis(kT=0.2, move_size=move))
        sim.run(10)
        acc.append(_acceptance(sim, 30))
        assert sim.thermo()["acceptance"] == pytest.approx(sim.state.mc_accepted / sim.state.mc_trials)
    # 30 sweeps x 1024 trials: standard error ~0.005; neighbouring values differ by > 0.08
    assert np.all(np.diff(acc) < -0.03), acc
    assert acc[0] > 0.7 and acc[-1] < 0.15


def test_mc_energy_matches_all_pairs_after_many_list_rebuilds(lj_course_state):
    state = lj_course_state.copy()
    sim = Simulation(state, LJ, Metropolis(kT=0.2, move_size=0.15))
    sim.run(100)
    assert state.list_builds > 5
    f = np.zeros_like(state.positions)
    u, w = energy_forces_all_pairs(state.positions, state.diameters, state.box.lengths, LJ.code,
                                   LJ.epsilon, LJ.r_cut, f)
    assert sim.potential_energy == pytest.approx(u, rel=1e-12)
    assert sim.virial == pytest.approx(w, rel=1e-12)


@pytest.mark.parametrize("target", [0.3, 0.6])
def test_move_size_tuner_converges_to_target(lj_course_state, target):
    sim = Simulation(lj_course_state.copy(), LJ, Metropolis(kT=0.2, move_size=0.05), skin=1.5)
    tuner = MoveSizeTuner(target=target)
    tune_move_size(sim, tuner, sweeps_per_update=5, max_updates=60)
    assert tuner.tuned
    # measured 0.31 / 0.61; SE of a 50-sweep acceptance ~0.003, tuner tolerance 1%
    assert _acceptance(sim, 50) == pytest.approx(target, abs=0.03)


def test_move_size_tuner_update_rule():
    tuner = MoveSizeTuner(target=0.5)
    assert tuner.update(0.1, 1000, 800, limit=1.0) > 0.1  # too many accepted: bigger moves
    assert tuner.update(0.1, 1000, 200, limit=1.0) < 0.1  # too few: smaller moves
    assert tuner.update(0.9, 1000, 1000, limit=1.0) == 1.0  # clipped to the skin's limit
    assert tuner.update(0.1, 0, 0, limit=1.0) == 0.1  # no data, no change
    assert tuner.update(0.1, 1000, 502, limit=1.0) == 0.1 and tuner.tuned
    with pytest.raises(ValueError, match="target"):
        MoveSizeTuner(target=1.0)


def test_move_size_too_large_for_skin_raises(lj_course_state):
    state = lj_course_state.copy()
    with pytest.raises(ValueError, match="move_size"):
        Simulation(state, LJ, Metropolis(kT=0.2, move_size=0.3), skin=0.4)  # limit 0.141
    sim = Simulation(state, LJ, Metropolis(kT=0.2, move_size=0.1), skin=0.4)
    with pytest.raises(ValueError, match="move_size"):
        sim.set_move_size(0.2)
    sim.set_move_size(0.12)  # below the limit: fine
    assert sim.method.move_size == 0.12
    small = simlib.initial_state(4, Box.cube(5.2, 2), seed=1)
    with pytest.raises(ValueError, match="move_size"):
        Simulation(small, LJ, Metropolis(kT=1.0, move_size=2.7), skin=8.0)  # > half the box


@pytest.mark.parametrize("kwargs, name", [(dict(kT=0.0), "kT"), (dict(kT=1.0, move_size=0.0), "move_size"),
                                          (dict(kT=-1.0), "kT")])
def test_bad_metropolis_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Metropolis(**kwargs)


# -- hard disks / spheres ------------------------------------------------------------------------

def min_gap(state):
    """Smallest r_ij / a_ij - 1 over all pairs (negative means overlap)."""
    x, a = state.positions, state.diameters
    dr = state.box.minimum_image(x[:, None, :] - x[None, :, :])
    r = np.sqrt(np.sum(dr**2, axis=2))
    ratio = r / (0.5 * (a[:, None] + a[None, :]))
    np.fill_diagonal(ratio, np.inf)
    return float(ratio.min() - 1.0)


@pytest.mark.parametrize("dim, n, packing, polydispersity", [(2, 200, 0.40, 0.0), (2, 200, 0.40, 0.15),
                                                             (3, 200, 0.25, 0.15)])
def test_hard_particles_never_overlap(dim, n, packing, polydispersity):
    unit = np.pi / 4 if dim == 2 else np.pi / 6  # area/volume of a unit-diameter particle
    side = (n * unit / packing) ** (1.0 / dim)
    state = simlib.initial_state(n, Box.cube(side, dim), seed=5, polydispersity=polydispersity,
                                 arrangement="random")
    assert min_gap(state) >= 0.0
    start = state.unwrapped_positions()
    sim = Simulation(state, Potential("hard"), Metropolis(kT=1.0, move_size=0.2))
    gaps = []
    sim.run(400, every=20, callback=lambda s: gaps.append(min_gap(s.state)))
    # exact: a move is accepted only if r_ij >= a_ij for every neighbour
    assert min(gaps) >= 0.0, min(gaps)
    assert sim.potential_energy == 0.0
    acc = state.mc_accepted / state.mc_trials
    assert 0.1 < acc < 0.9  # the test is not vacuous: particles did move ...
    msd = np.mean(np.sum((state.unwrapped_positions() - start) ** 2, axis=1))
    assert msd > 1.0  # ... by more than a diameter on average
    assert min(gaps) < 0.01  # and pairs came into (near) contact


def test_hard_particle_moves_do_not_depend_on_temperature():
    state = simlib.initial_state(100, Box.cube(14.0, 2), seed=6, arrangement="random")
    runs = []
    for kT in (0.1, 1.0, 50.0):
        s = state.copy()
        Simulation(s, Potential("hard"), Metropolis(kT=kT, move_size=0.3)).run(50)
        runs.append(s)
    for other in runs[1:]:
        assert np.array_equal(other.positions, runs[0].positions)
        assert other.mc_accepted == runs[0].mc_accepted


def test_hard_overlap_at_start_raises():
    x = np.array([[1.0, 1.0], [1.5, 1.0], [4.0, 4.0]])
    state = State(x, np.zeros((3, 2)), np.zeros((3, 2), np.int64), np.ones(3), Box.cube(8.0, 2), seed=1)
    with pytest.raises(simlib.SimulationError, match="overlap"):
        Simulation(state, Potential("hard"), Metropolis(kT=1.0, move_size=0.1))


def test_hard_potential_is_monte_carlo_only():
    state = simlib.initial_state(16, Box.cube(8.0, 2), seed=1)
    with pytest.raises(ValueError, match="hard"):
        Simulation(state, Potential("hard"), simlib.Langevin(kT=1.0))


# -- the documented trial sequence -------------------------------------------------------------

def test_kernel_follows_the_documented_trials_bitwise():
    """A plain-Python Metropolis, drawing trial t's numbers from counter (sweep, 4 t + k)
    and summing the energy change over partners in ascending index as the kernel does,
    gives the kernel's bits. N = 300 spans two of the kernel's chunks of drawn numbers
    (and its prefetching), so the chunking changes nothing."""
    from simlib.geometry import min_image, wrap_coordinate
    from simlib.potentials import pair_term, power_law_coefficients

    # the helpers' Python source: the kernels inline them and compile no Python entry
    min_image, wrap_coordinate = min_image.py_func, wrap_coordinate.py_func
    pair_term, power_law_coefficients = pair_term.py_func, power_law_coefficients.py_func
    from simlib.rng import STREAM_METROPOLIS, uniform_pair

    n, L, kT, move = 300, 21.65, 0.7, 0.15
    state = simlib.initial_state(n, Box.cube(L, 2), seed=4, polydispersity=0.05)
    Simulation(state, LJ, simlib.Langevin(kT=2.0, dt=0.005)).run(100)
    x = state.positions.copy()
    images = state.images.copy()
    a = state.diameters
    coefficients = power_law_coefficients(LJ.code, LJ.epsilon, LJ.r_cut)

    def site_energy(i, px, py):
        u = 0.0
        for j in range(n):
            if j == i:
                continue
            dx, dy = min_image(px - x[j, 0], L, L / 2), min_image(py - x[j, 1], L, L / 2)
            r2 = dx * dx + dy * dy
            if r2 < LJ.r_cut * LJ.r_cut:
                u += pair_term(LJ.code, r2, 0.5 * (a[i] + a[j]), LJ.epsilon, LJ.r_cut, coefficients)[0]
        return u

    accepted = 0
    for sweep in range(3):
        for t in range(n):
            u0, u1 = uniform_pair(state.seed, STREAM_METROPOLIS, sweep, 4 * t)
            u2, u3 = uniform_pair(state.seed, STREAM_METROPOLIS, sweep, 4 * t + 1)
            i = min(int(u0 * n), n - 1)
            px, sx = wrap_coordinate(x[i, 0] + move * (2.0 * u2 - 1.0), L)
            py, sy = wrap_coordinate(x[i, 1] + move * (2.0 * u3 - 1.0), L)
            delta_u = site_energy(i, px, py) - site_energy(i, x[i, 0], x[i, 1])
            if delta_u <= 0.0 or u1 < np.exp(-delta_u / kT):
                x[i] = px, py
                images[i] += sx, sy
                accepted += 1
    state.step = state.step_origin = 0
    sim = Simulation(state, LJ, Metropolis(kT=kT, move_size=move))
    sim.run(3)
    assert state.mc_accepted == accepted > 100
    assert np.array_equal(state.positions, x) and np.array_equal(state.images, images)
