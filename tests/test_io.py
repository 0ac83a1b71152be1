"""netCDF files: bitwise state round trip, units, AMBER trajectories read by MDAnalysis, clear errors."""

import warnings

import numpy as np
import pytest

import simlib
from simlib import io


@pytest.fixture
def run(tmp_path):
    state = simlib.initial_state(100, simlib.Box.cube(15.0, 2), seed=3, polydispersity=0.1)
    pot = simlib.Potential("lj", r_cut=2.5)
    method = simlib.Langevin(kT=1.0, dt=0.005)
    sim = simlib.Simulation(state, pot, method)
    frames = []
    with io.TrajectoryWriter(tmp_path / "traj.nc", state.n, 2, state.diameters, config={"k": 1}, seed=3) as w:
        def keep(s):
            w.append(s.state)
            frames.append(s.state.copy())
        sim.run(60, every=10, callback=keep)
    return sim, frames, tmp_path


def test_state_round_trip_is_bitwise(run):
    sim, _, tmp = run
    st = sim.state
    io.save_state(tmp / "s.nc", st, sim.potential, sim.method, config={"x": [1, 2]})
    back, info = io.load_state(tmp / "s.nc", n=st.n, dim=st.dim, potential=sim.potential)
    for name in ("positions", "velocities", "images", "diameters", "list_reference"):
        a, b = getattr(st, name), getattr(back, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("step", "time", "dt", "step_origin", "time_origin", "list_builds", "seed", "mass"):
        assert getattr(st, name) == getattr(back, name), name
    assert info["method_name"] == "Langevin" and info["potential"]["kind"] == "lj"
    assert info["config"] == {"x": [1, 2]}
    # continuing from the loaded state gives the same bits as continuing in memory
    twin = simlib.Simulation(back, sim.potential, sim.method, resume=True)
    sim.run(30)
    twin.run(30)
    assert np.array_equal(sim.state.positions, twin.state.positions)
    assert np.array_equal(sim.state.velocities, twin.state.velocities)


def test_every_file_carries_provenance(run):
    sim, _, tmp = run
    io.save_state(tmp / "s.nc", sim.state, sim.potential, sim.method, config={"x": 1})
    io.save_thermo(tmp / "t.nc", [sim.thermo()], config={"x": 1}, seed=3)
    for ds in (io._open_checked(tmp / "s.nc", "state"), io.load_thermo(tmp / "t.nc"), io.load_trajectory(tmp / "traj.nc")):
        for key in ("simlib_version", "git_commit", "numpy_version", "numba_version", "xarray_version", "created", "config", "seed"):
            assert key in ds.attrs, key


def test_thermo_variables_have_units_and_long_names(run):
    sim, _, tmp = run
    ds = io.save_thermo(tmp / "t.nc", [sim.thermo(), sim.thermo()], seed=3)
    back = io.load_thermo(tmp / "t.nc")
    assert set(back.data_vars) == set(ds.data_vars)
    for name, var in back.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name


def test_trajectory_exact_frames_and_unwrapped(run):
    _, frames, tmp = run
    traj = io.load_trajectory(tmp / "traj.nc")
    assert traj.sizes["frame"] == len(frames)
    for f, st in enumerate(frames):
        assert traj["step"].values[f] == st.step
        assert traj["time"].values[f] == st.time
        # coordinates are float32 in the AMBER convention
        assert np.allclose(traj["positions"].values[f], st.positions, atol=1e-5)
        assert np.allclose(traj["unwrapped"].values[f], st.unwrapped_positions(), atol=1e-5)


def test_mdanalysis_reads_the_trajectory(run):
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.coordinates.TRJ import NCDFReader

    _, frames, tmp = run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = NCDFReader(str(tmp / "traj.nc"))
    assert reader.n_frames == len(frames) and reader.n_atoms == 100
    for f, ts in enumerate(reader):
        assert np.allclose(ts.positions[:, :2], frames[f].positions, atol=1e-4)
        assert np.allclose(ts.positions[:, 2], 0.0)
        assert np.allclose(ts.dimensions[:2], [15.0, 15.0]) and np.allclose(ts.dimensions[3:], 90.0)
        assert ts.time == pytest.approx(frames[f].time, rel=1e-6)
    assert mda is not None


def test_interrupted_writes_leave_no_file(tmp_path):
    target = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    state = simlib.initial_state(10, simlib.Box.cube(6.0, 2), seed=1)
    with pytest.raises(RuntimeError):
        with io.TrajectoryWriter(tmp_path / "t.nc", 10, 2, state.diameters) as w:
            w.append(state)
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_trajectory_resumes_from_a_partial_file(tmp_path):
    state = simlib.initial_state(10, simlib.Box.cube(6.0, 2), seed=1)
    w = io.TrajectoryWriter(tmp_path / "t.nc", 10, 2, state.diameters)
    for step in range(3):
        state.step = step
        w.append(state)
    w.sync()
    w.abort(keep_partial=True)
    assert not (tmp_path / "t.nc").exists()
    w = io.TrajectoryWriter(tmp_path / "t.nc", 10, 2, state.diameters, resume_frames=2)
    for step in (2, 3):
        state.step = step
        w.append(state)
    w.close()
    assert list(io.load_trajectory(tmp_path / "t.nc")["step"].values) == [0, 1, 2, 3]


@pytest.mark.parametrize("problem", ["missing", "truncated", "garbage", "wrong_kind", "wrong_n", "wrong_dim", "wrong_potential"])
def test_bad_files_give_one_line_errors_naming_the_file(run, problem):
    sim, _, tmp = run
    good = tmp / "s.nc"
    io.save_state(good, sim.state, sim.potential, sim.method)
    path = tmp / f"{problem}.nc"
    kwargs = {}
    if problem == "truncated":
        path.write_bytes(good.read_bytes()[:2000])
    elif problem == "garbage":
        path.write_bytes(b"not a netCDF file at all" * 10)
    elif problem == "wrong_kind":
        path = tmp / "traj.nc"
    elif problem != "missing":
        path = good
        kwargs = {"wrong_n": {"n": 99}, "wrong_dim": {"dim": 3},
                  "wrong_potential": {"potential": simlib.Potential("soft12", r_cut=3.0)}}[problem]
    with pytest.raises(io.DataFileError) as err:
        io.load_state(path, **kwargs)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
