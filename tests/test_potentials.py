"""Pair potentials: forces = -grad U, virial = -d dU/dlnV, cut-off behaviour, tail corrections."""

import numpy as np
import pytest
from scipy.integrate import quad

import simlib
from simlib import Box, Potential
from simlib.configurations import polydisperse_diameters
from simlib.potentials import energy_forces_all_pairs, pair_moment

CUTOFFS = {"soft12": 3.0, "lj": 2.5, "lj_smooth": 2.0}


def random_config(n, box, diameters, seed, min_frac=0.8, r_cut=None, edge=1e-3):
    """Random wrapped positions with every pair at least ``min_frac * a_ij`` apart.

    Pairs within ``edge`` of ``r_cut`` are avoided too: a finite difference across the
    cut-off would see the (legitimate) force jump of the truncated potentials.
    Positions stay ``edge`` away from the box faces so that +-h perturbations need
    no re-wrapping.
    """
    gen = np.random.default_rng(seed)
    L = box.lengths
    x = np.empty((n, box.dim))
    for i in range(n):
        for _ in range(100_000):
            trial = edge + gen.random(box.dim) * (L - 2 * edge)
            dr = box.minimum_image(trial - x[:i])
            r = np.sqrt(np.sum(dr**2, axis=1))
            a = 0.5 * (diameters[i] + diameters[:i])
            ok = np.all(r >= min_frac * a)
            if r_cut is not None:
                ok = ok and np.all(np.abs(r - r_cut) > edge)
            if ok:
                x[i] = trial
                break
        else:
            raise RuntimeError("could not place particle")
    return x


def energy(pot, x, diameters, box):
    f = np.zeros_like(x)
    u, w = energy_forces_all_pairs(x, diameters, box.lengths, pot.code, pot.epsilon, pot.r_cut, f)
    return u, w, f


def system(kind, dim, seed):
    """Small polydisperse (a_i = 1 + 0.15 g) system in a box just over 2 r_cut."""
    pot = Potential(kind, r_cut=CUTOFFS[kind])
    n = 10 if dim == 2 else 16
    box = Box.cube(2.0 * pot.r_cut + 0.3, dim)
    diameters = polydisperse_diameters(n, 0.15, seed)
    x = random_config(n, box, diameters, seed, r_cut=pot.r_cut)
    return pot, box, diameters, x


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("kind", ["soft12", "lj", "lj_smooth"])
def test_force_is_minus_gradient_of_energy(kind, dim):
    pot, box, diameters, x = system(kind, dim, seed=11 + dim)
    u0, _, f = energy(pot, x, diameters, box)
    # the box is only ~2 r_cut wide, so many interacting pairs are image pairs
    h = 1e-6
    fd = np.empty_like(f)
    for i in range(len(x)):
        for k in range(dim):
            xp, xm = x.copy(), x.copy()
            xp[i, k] += h
            xm[i, k] -= h
            fd[i, k] = -(energy(pot, xp, diameters, box)[0] - energy(pot, xm, diameters, box)[0]) / (2 * h)
    fmax = np.max(np.abs(f))
    assert fmax > 1.0  # the configuration really has strong forces
    # central differences: truncation h^2 U'''/6 and rounding eps U / h give ~2e-10 * max|F|
    # here (measured); 1e-8 * max|F| leaves a margin of ~50, while a wrong sign, a missing
    # factor 2 or a broken image shift gives errors of order |F|
    np.testing.assert_allclose(fd, f, rtol=0, atol=1e-8 * fmax)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("kind", ["soft12", "lj", "lj_smooth"])
def test_virial_is_minus_d_times_volume_derivative(kind, dim):
    pot, box, diameters, x = system(kind, dim, seed=21 + dim)
    u0, w, _ = energy(pot, x, diameters, box)

    def scaled_energy(ln_v):
        lam = np.exp(ln_v / dim)  # affine scaling of positions and box: V -> V e^{ln_v}
        return energy(pot, x * lam, diameters, Box(box.lengths * lam))[0]

    delta = 1e-6
    du_dlnv = (scaled_energy(delta) - scaled_energy(-delta)) / (2 * delta)
    # dU/dlnV = (1/d) sum r dU/dr = -W/d; same FD error budget as the force test
    assert abs(w) > 1.0
    assert du_dlnv == pytest.approx(-w / dim, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("kind", ["soft12", "lj", "lj_smooth"])
def test_total_energy_is_sum_of_pair_energies_with_pair_diameters(kind, dim):
    pot, box, diameters, x = system(kind, dim, seed=31 + dim)
    u, w, f = energy(pot, x, diameters, box)
    i, j = np.triu_indices(len(x), 1)
    dr = box.minimum_image(x[i] - x[j])
    r = np.sqrt(np.sum(dr**2, axis=1))
    u_pair, f_pair = pot.pair(r, 0.5 * (diameters[i] + diameters[j]))
    # same arithmetic summed in another order: agreement to round-off
    assert u == pytest.approx(u_pair.sum(), rel=1e-12, abs=1e-12)
    assert w == pytest.approx(np.sum(f_pair * r), rel=1e-12, abs=1e-12)
    # Newton's third law: total force vanishes to round-off
    assert np.all(np.abs(f.sum(axis=0)) < 1e-12 * np.abs(f).sum())


def test_pair_values_against_closed_forms():
    rc = 3.0
    soft = Potential("soft12", r_cut=rc)
    u, f = soft.pair(1.1)
    assert u == pytest.approx(1.1**-12 - rc**-12, rel=1e-14)
    assert f == pytest.approx(12.0 * 1.1**-13, rel=1e-14)
    # a_ij scales distances in both the energy and the shift
    u, f = soft.pair(1.3 * 1.1, a_ij=1.3)
    assert u == pytest.approx(1.1**-12 - (1.3 / rc) ** 12, rel=1e-14)

    rc = 2.5
    lj = Potential("lj", r_cut=rc)
    u, f = lj.pair(1.0)
    assert u == pytest.approx(-4.0 * (rc**-12 - rc**-6), rel=1e-14)
    assert f == pytest.approx(24.0, rel=1e-14)
    a = 1.3
    u, f = lj.pair(a * 1.1, a_ij=a)
    expected = 4 * (1.1**-12 - 1.1**-6) - 4 * ((a / rc) ** 12 - (a / rc) ** 6)
    assert u == pytest.approx(expected, rel=1e-13)
    assert f == pytest.approx(24 * (2 * 1.1**-12 - 1.1**-6) / (a * 1.1), rel=1e-13)

    rc = 2.0
    sm = Potential("lj_smooth", r_cut=rc)
    for a, r in [(1.0, 1.05), (0.85, 1.7), (1.2, 1.9)]:
        u0 = lambda s: 4 * ((a / s) ** 12 - (a / s) ** 6)  # noqa: E731
        du0 = lambda s: -24 * (2 * (a / s) ** 12 - (a / s) ** 6) / s  # noqa: E731
        u, f = sm.pair(r, a_ij=a)
        assert u == pytest.approx(u0(r) - u0(rc) - du0(rc) * (r - rc), rel=1e-12, abs=1e-14)
        assert f == pytest.approx(-du0(r) + du0(rc), rel=1e-12, abs=1e-14)

    # epsilon scales energy and force
    for kind in CUTOFFS:
        p1 = Potential(kind, r_cut=CUTOFFS[kind])
        p2 = Potential(kind, r_cut=CUTOFFS[kind], epsilon=2.5)
        r = np.linspace(0.9, 2.2, 7)
        np.testing.assert_allclose(p2.pair(r)[0], 2.5 * p1.pair(r)[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(p2.pair(r)[1], 2.5 * p1.pair(r)[1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("a", [0.8, 1.0, 1.3])
@pytest.mark.parametrize("kind", ["soft12", "lj", "lj_smooth"])
def test_energy_vanishes_at_the_cutoff(kind, a):
    pot = Potential(kind, r_cut=CUTOFFS[kind])
    rc = pot.r_cut
    # exactly zero at and beyond r_cut
    u, f = pot.pair(np.array([rc, rc * (1 + 1e-12), 1.5 * rc]), a_ij=a)
    assert np.all(u == 0.0) and np.all(f == 0.0)
    # continuous from inside: U(rc - delta) -> 0 linearly, U(rc - delta) ~ F(rc-) delta
    for delta in (1e-5, 1e-6):
        u_in, f_in = pot.pair(rc - delta, a_ij=a)
        if kind == "lj_smooth":
            # force-shifted: U ~ U''(rc) delta^2 / 2 and F ~ U''(rc) delta, both -> 0
            u0pp = (4 * (156 * (a / rc) ** 12 - 42 * (a / rc) ** 6)) / rc**2
            assert f_in == pytest.approx(u0pp * delta, rel=1e-3)
            assert u_in == pytest.approx(0.5 * u0pp * delta**2, rel=1e-3)
        else:
            # only the energy is shifted: the force jumps, the energy does not
            assert u_in == pytest.approx(f_in * delta, rel=1e-4)
            assert abs(u_in) < abs(f_in) * 2 * delta


@pytest.mark.parametrize("a", [0.8, 1.0, 1.3])
def test_lj_minimum_at_two_to_the_sixth_a(a):
    lj = Potential("lj", r_cut=2.5)
    r_min = 2.0 ** (1.0 / 6.0) * a
    u_min, f_min = lj.pair(r_min, a_ij=a)
    assert abs(f_min) < 1e-12  # F = 24 (2 s^12 - s^6) / r vanishes at s^6 = 1/2
    assert lj.pair(r_min * (1 - 1e-3), a_ij=a)[1] > 0  # repulsive inside
    assert lj.pair(r_min * (1 + 1e-3), a_ij=a)[1] < 0  # attractive outside
    grid = np.linspace(0.9 * a, 2.0 * a, 2001)
    assert np.all(lj.pair(grid, a_ij=a)[0] >= u_min - 1e-14)
    shift = 4 * ((a / 2.5) ** 12 - (a / 2.5) ** 6)
    assert u_min == pytest.approx(-1.0 - shift, rel=1e-13)


def _lj_tail_integrals(a, rc, eps):
    u = lambda r: 4 * eps * ((a / r) ** 12 - (a / r) ** 6)  # noqa: E731 (truncated, unshifted tail)
    du = lambda r: -24 * eps * (2 * (a / r) ** 12 - (a / r) ** 6) / r  # noqa: E731
    iu = quad(lambda r: 4 * np.pi * r**2 * u(r), rc, np.inf, epsabs=0, epsrel=1e-12)[0]
    ip = quad(lambda r: r**3 * du(r), rc, np.inf, epsabs=0, epsrel=1e-12)[0]
    return iu, ip


@pytest.mark.parametrize("polydispersity", [0.0, 0.15])
def test_tail_correction_matches_numerical_integral(polydispersity):
    rc, eps, rho = 2.5, 1.3, 0.8
    pot = Potential("lj", r_cut=rc, epsilon=eps, tail_correction=True)
    diameters = polydisperse_diameters(24, polydispersity, seed=5)
    # mean over all ordered pairs (i, j), as pair_moment defines it
    a_ij = 0.5 * np.add.outer(diameters, diameters)
    for n in (6, 12):
        assert pair_moment(diameters, n) == pytest.approx(np.mean(a_ij**n), rel=1e-12)
    iu = np.zeros_like(a_ij)
    ip = np.zeros_like(a_ij)
    for i in range(len(diameters)):
        for j in range(i, len(diameters)):
            iu[i, j], ip[i, j] = _lj_tail_integrals(a_ij[i, j], rc, eps)
            iu[j, i], ip[j, i] = iu[i, j], ip[i, j]
    # U_tail / N = (rho / 2) int_rc^inf 4 pi r^2 u(r) dr,  P_tail = -(2 pi / 3) rho^2 int r^3 u'(r) dr
    u_expected = 0.5 * rho * iu.mean()
    p_expected = -(2.0 * np.pi / 3.0) * rho**2 * ip.mean()
    u_tail, p_tail = pot.tail(diameters, rho, 3)
    assert u_tail < 0 and p_tail < 0
    assert u_tail == pytest.approx(u_expected, rel=1e-9)
    assert p_tail == pytest.approx(p_expected, rel=1e-9)


def test_tail_correction_raises_in_2d_and_is_zero_when_off():
    pot = Potential("lj", r_cut=2.5, tail_correction=True)
    with pytest.raises(ValueError, match="3D"):
        pot.tail(np.ones(10), 0.5, 2)
    assert Potential("lj", r_cut=2.5).tail(np.ones(10), 0.5, 3) == (0.0, 0.0)
    with pytest.raises(ValueError, match="tail_correction"):
        Potential("soft12", r_cut=3.0, tail_correction=True)


def test_simulation_adds_tail_correction_to_energy_and_pressure():
    state = simlib.initial_state(64, Box.cube(6.0, 3), seed=3, kT=1.0)
    plain = simlib.Simulation(state.copy(), Potential("lj", r_cut=2.5), simlib.VelocityVerlet(0.001))
    pot = Potential("lj", r_cut=2.5, tail_correction=True)
    tailed = simlib.Simulation(state.copy(), pot, simlib.VelocityVerlet(0.001))
    u_tail, p_tail = pot.tail(state.diameters, state.density, 3)
    assert tailed.potential_energy == pytest.approx(plain.potential_energy + 64 * u_tail, rel=1e-13)
    assert tailed.thermo()["pressure"] == pytest.approx(plain.thermo()["pressure"] + p_tail, rel=1e-13)


@pytest.mark.parametrize("kind", ["LJ", "soft", "", None])
def test_unknown_kind_raises_value_error_naming_kind(kind):
    with pytest.raises(ValueError, match="kind"):
        Potential(kind, r_cut=2.5)


@pytest.mark.parametrize("field, value", [("r_cut", -1.0), ("r_cut", 0.0), ("epsilon", 0.0),
                                          ("epsilon", np.nan)])
def test_bad_potential_parameters_raise_value_error_naming_them(field, value):
    kwargs = {"kind": "lj", "r_cut": 2.5, field: value}
    with pytest.raises(ValueError, match=field):
        Potential(**kwargs)


def test_unshifted_lj_differs_by_the_cutoff_value_and_has_the_same_force():
    """shift=False: U_unshifted(r) = U_shifted(r) + 4 eps (a^12/rc^12 - a^6/rc^6) inside r_c."""
    rc = 2.5
    r = np.linspace(0.9, 2.49, 50)
    u_s, f_s = Potential("lj", r_cut=rc).pair(r, 1.1)
    u_u, f_u = Potential("lj", r_cut=rc, shift=False).pair(r, 1.1)
    u_rc = 4.0 * ((1.1 / rc) ** 12 - (1.1 / rc) ** 6)
    np.testing.assert_allclose(u_u - u_s, u_rc, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(f_u, f_s)
    u_out, f_out = Potential("lj", r_cut=rc, shift=False).pair(np.array([rc, 3.0]))
    assert np.all(u_out == 0.0) and np.all(f_out == 0.0)


def test_unshifted_lj_refused_for_nve_and_other_kinds():
    state = simlib.initial_state(16, Box.cube(8.0, 2), seed=1, kT=1.0)
    pot = Potential("lj", r_cut=2.5, shift=False)
    simlib.Simulation(state, pot, simlib.Langevin(kT=1.0, dt=0.005))
    simlib.Simulation(state, pot, simlib.Metropolis(kT=1.0, move_size=0.1))
    with pytest.raises(ValueError, match="shift=False is refused for NVE"):
        simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=0.001))
    with pytest.raises(ValueError, match="only defined for kind 'lj'"):
        Potential("soft12", r_cut=3.0, shift=False)
