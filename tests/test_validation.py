"""Validation study: the agreement rule, the reference data and fast versions of the checks.

The fast checks run a few seconds each with fixed seeds. Their statistical assertions
use |a - b| <= 4 sqrt(sa^2 + sb^2) (probability ~6e-5 of failing by chance for honest
error bars), looser than the study's 2.576 so that a change of random stream (a
rewritten kernel) does not flip them; a real bug moves the numbers by far more.
"""

import math

import numpy as np
import pandas as pd
import pytest

from simlib.pipeline import validation as v

Z_TEST = 4.0


def assert_agrees(check, z=Z_TEST):
    tol = z * math.hypot(check.measured_err, check.reference_err)
    assert abs(check.measured - check.reference) <= tol, check


# -- the rule and the table -------------------------------------------------------------
def test_agreement_rule_is_hoomds_99_percent():
    assert v.Z99 == 2.576
    ok = v.agree("g", "c", "x", 1.0, 0.3, 2.0, 0.4)
    assert ok.tolerance == pytest.approx(2.576 * 0.5) and ok.result == "PASS"
    bad = v.agree("g", "c", "x", 1.0, 0.3, 2.3, 0.4)
    assert bad.result == "FAIL" and abs(bad.measured - bad.reference) > bad.tolerance
    assert v.agree("g", "c", "x", 1.0, 0.0, 1.0, 0.0).result == "PASS"  # exact equality
    assert v.agree("g", "c", "x", 1.0, 0.0, 1.0 + 1e-9, 0.0).result == "FAIL"


def test_a_value_without_an_error_bar_or_a_nan_never_passes():
    no_err = v.agree("g", "c", "x", 1.0, float("nan"), 1.0, 0.1)
    assert no_err.result == "FAIL" and "no error bar" in no_err.note
    assert v.agree("g", "c", "x", float("nan"), 0.1, 1.0, 0.1).result == "FAIL"


def test_fixed_tolerance_checks():
    assert v.within("g", "slope", "s", 2.09, 0.01, 2.0, 0.1).result == "PASS"
    assert v.within("g", "slope", "s", 1.89, 0.01, 2.0, 0.1).result == "FAIL"


def test_table_has_the_documented_columns(tmp_path):
    checks = [v.agree("a", "one", "U/N", 1.0, 0.1, 1.1, 0.1, "ref"), v.within("b", "two", "s", 2.0, 0.0, 2.0, 0.1)]
    v.write_checks(tmp_path / "a.csv", checks[:1])
    v.write_checks(tmp_path / "b.csv", checks[1:])
    table = v.collect([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "validation.csv")
    assert list(table.columns) == v.COLUMNS
    again = pd.read_csv(tmp_path / "validation.csv")
    assert list(again["result"]) == ["PASS", "PASS"] and again.loc[0, "reference_source"] == "ref"


# -- reference data -----------------------------------------------------------------------
def test_nist_reference_data_is_cited_and_physical():
    table, source = v.reference_table("nist_lj_mc")
    assert "NIST" in source and "mmlapps.nist.gov/srs/LJ_PURE" in source
    assert set(table["T"]) == {0.85, 0.9}
    for kT, sub in table.groupby("T"):
        sub = sub.sort_values("rho")
        assert sub["rho"].min() >= 0.77 and sub["rho"].max() <= 0.9
        # a liquid isotherm: denser is more bound and at higher pressure
        assert np.all(np.diff(sub["U"]) < 0) and np.all(np.diff(sub["P"]) > 0)
    # at fixed density the hotter fluid has higher U and P
    pivot = table.pivot(index="rho", columns="T")
    assert np.all(pivot[("U", 0.9)] > pivot[("U", 0.85)]) and np.all(pivot[("P", 0.9)] > pivot[("P", 0.85)])


def test_henderson_equation_of_state():
    table, source = v.reference_table("hard_disk_eos")
    assert "Henderson" in source and "Mol. Phys. 30, 971 (1975)" in source
    assert v.henderson_z(0.0) == 1.0
    assert v.henderson_z(0.5) == pytest.approx(4.125)
    # second virial coefficient of hard disks: Z = 1 + 2 eta + O(eta^2)
    eta = 1e-6
    assert (v.henderson_z(eta) - 1.0) / eta == pytest.approx(2.0, rel=1e-5)


def test_contact_value_of_an_ideal_gas_is_one():
    rng = np.random.default_rng(5)
    box = np.array([20.0, 20.0])
    frames = rng.uniform(0, 20.0, size=(40, 400, 2))
    g, err = v.contact_value(frames, box, 1.0, 0.2, 10)
    assert abs(g - 1.0) <= Z_TEST * err and err < 0.1


def test_lj3d_refuses_a_state_point_without_reference_data():
    with pytest.raises(ValueError, match=r"validation.lj3d: no NIST reference for T\*=1.2"):
        v.check_lj3d({"temperatures": [1.2], "densities": [0.8], "n": 500, "r_cut": 3.0}, seed=1)


def test_unknown_group_is_one_line():
    with pytest.raises(ValueError, match="validation.groups: unknown group 'nope'"):
        v.run_group("nope", {}, 1)


# -- fast versions of the checks -------------------------------------------------------------
def test_exact_free_particle_checks():
    p = {"n": 400, "dim": 2, "kT": 1.0, "friction": 1.0, "dt": 0.01, "duration": 20.0, "frame_every": 0.1,
         "window": 4.0}
    checks, ds = v.check_exact(p, seed=3)
    assert len(checks) == 8
    for check in checks:
        assert_agrees(check)
    # the Euler step's equilibrium is checked against its own exact discrete value
    euler_k = [c for c in checks if c.check == "free particle euler: equipartition"][0]
    assert euler_k.reference == pytest.approx(1.0 / (1.0 - 0.005))


def test_velocity_verlet_slope_is_two():
    p = {"potential": {"kind": "soft12", "r_cut": 3.0}, "n": 64, "box": 10.0, "dim": 2, "kT": 0.9, "melt": 1.0,
         "equilibrate": 2.0, "nve_dts": [0.001, 0.002, 0.004, 0.008], "nve_duration": 2.0, "nve_every": 0.04,
         "langevin_dts": [0.005, 0.01], "langevin_equilibrate": 0.5, "langevin_duration": 2.0,
         "langevin_every": 0.1}
    checks, _ = v.check_dt_convergence(p, seed=1)
    slope = checks[0]
    assert slope.quantity == "slope" and abs(slope.measured - 2.0) <= 0.1, slope


def test_reweighting_matches_a_direct_run():
    p = {"potential": {"kind": "lj", "r_cut": 2.5}, "n": 64, "box": 10.0, "dim": 2, "melt": 1.0, "T1": 1.0,
         "T2": 1.05, "sweeps": 2000, "equilibrate": 200, "every": 2, "blocks": 8}
    (check,), ds = v.check_reweighting(p, seed=1)
    assert_agrees(check)
    # reweighting to a higher temperature raises the energy
    assert check.measured > float(np.sum(ds["hist_T1"] * ds["u"]) / np.sum(ds["hist_T1"]))


def test_hard_disk_pressure_from_contact_value():
    p = {"n": 100, "packing_fractions": [0.4], "sweeps": 1500, "equilibrate": 200, "every": 10,
         "contact_width": 0.1, "contact_bins": 10}
    (check,), _ = v.check_hard_disks(p, seed=2)
    assert check.reference == pytest.approx(float(v.henderson_z(0.4)))
    assert_agrees(check)


def test_mc_langevin_and_nve_agree_on_soft_disks():
    p = {"systems": [{"name": "soft", "kT": 0.9, "potential": {"kind": "soft12", "r_cut": 3.0}}], "n": 64,
         "box": 10.0, "dim": 2, "melt": 1.0, "dt": 0.005, "euler_dt": 0.002, "nve_dt": 0.002, "equilibrate": 2.0,
         "duration": 20.0,
         "every": 0.1, "frame_every": 0.5, "mc_sweeps": 3000, "mc_equilibrate": 500, "mc_every": 10,
         "mc_frame_every": 50, "rdf_r_max": 4.0, "rdf_bins": 40}
    checks, ds = v.check_methods(p, seed=1)
    assert len(checks) == 9  # U/N, P, g(r) peak for Euler, BAOAB and NVE against MC
    for check in checks:
        assert_agrees(check)
    assert set(ds.data_vars) == {"soft_g_mc", "soft_g_euler", "soft_g_baoab", "soft_g_nve"}


def test_nve_start_has_zero_momentum_and_the_canonical_energy():
    import simlib

    pot = simlib.Potential("soft12", r_cut=3.0)
    state = v._lattice_state(64, 10.0, 2, seed=3, kT=2.0)
    state.velocities += 0.3  # a drifting centre of mass
    v._set_total_energy(state, pot, 0.5, 0.9)
    assert np.abs(state.velocities.sum(axis=0)).max() < 1e-12
    row = simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=1e-3)).thermo()
    # E = N <U/N> + (d/2)(N - 1) kT: N - 1 particles' worth of kinetic degrees of freedom
    assert 64 * row["total_per_particle"] == pytest.approx(64 * 0.5 + 63 * 0.9, rel=1e-12)


def test_summary_check_covers_every_run_with_a_diffusion_coefficient(tmp_path):
    pd.DataFrame([
        {"run": "lj/a", "D": 0.113, "D_err": 0.003, "D_green_kubo": 0.118, "D_green_kubo_err": 0.002,
         "D_green_kubo_note": ""},
        {"run": "lj/b", "D": 0.113, "D_err": 0.003, "D_green_kubo": float("nan"), "D_green_kubo_err": float("nan"),
         "D_green_kubo_note": "refused: VACF sampled every 0.5 t0 is not resolved"},
        {"run": "mc/c", "D": float("nan"), "D_err": float("nan"), "D_green_kubo": float("nan"),
         "D_green_kubo_err": float("nan"), "D_green_kubo_note": ""},
    ]).to_csv(tmp_path / "summary.csv", index=False)
    checks = v.check_summary(tmp_path / "summary.csv")
    assert [c.check for c in checks] == ["lj/a: D Green-Kubo vs MSD", "lj/b: D Green-Kubo vs MSD"]
    assert checks[0].result == "PASS"
    assert checks[1].result == "FAIL" and checks[1].note.startswith("refused")
