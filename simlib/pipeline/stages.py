"""Run one pipeline stage from a plain spec: checkpoints, resume, thermo, trajectory, progress.

A *stage* is one method run for a fixed length from an input state, e.g. "Langevin
at kT = 0.9 for 100 t0". Its spec is a plain dict (a config section), so the
Snakemake scripts only pass config through and hold no physics.

Stage spec keys (defaults in brackets)
--------------------------------------
``method``            "langevin", "nve" or "metropolis".
``kT``                temperature [energy] (langevin, metropolis).
``dt``                time step [time] (langevin [0.01], nve [0.001]).
``friction``          zeta [mass/time] (langevin) [1.0].
``scheme``            "euler" or "baoab" (langevin) ["euler"].
``duration``          length [time] (langevin, nve).
``sweeps``            length in sweeps (metropolis).
``move_size``         Delta r [length] (metropolis) [0.15].
``checkerboard``      sweep by checkerboard cell colours, on the rule's threads (metropolis) [false].
``tune_acceptance``   target acceptance for a move-size tuner that runs before the
                      stage (equilibration only) [None: no tuning].
``thermo_every``      thermo output interval [time] or [sweeps] [duration/100].
``trajectory_every``  snapshot interval [time] or [sweeps] [None: no trajectory].
``skin``              neighbour-list skin [length] [None: automatic].
``vacf_every``        langevin, nve: accumulate the velocity autocorrelation on the fly,
                      sampling velocities every this [time] [None: off]; written to
                      ``vacf_out`` for a Green-Kubo D whose VACF is resolved.
``vacf_window``       longest VACF lag [time] [5.0].
``vacf_start``        stage time [time] at which accumulation starts [0].

Checkpoints: every ``checkpoint_seconds`` of wall time the state, the thermo rows
so far and the trajectory frame count are written atomically to the checkpoint
file. Run again after a kill, the stage resumes from it and produces outputs
bit-identical to an uninterrupted run (random numbers depend only on the seed and
the step; forces do not depend on when the neighbour list was built). A checkpoint
is keyed by the stage spec, the potential and the SHA-256 of the input state file's
bytes (not its path), so a regenerated or edited input never resumes an old one.

Safety: a stage holds an exclusive ``fcntl`` lock on ``.<state_out>.lock`` beside
its outputs while it runs; a second copy refuses to start and names the PID of the
running one. SIGINT (Ctrl-C) is deferred to the end of the current chunk: the stage
writes a checkpoint and stops with :class:`StageInterrupted` (one line), never in
the middle of a netCDF write (an interrupt inside xarray's lock acquisition leaves
the lock held and the next netCDF call hangs).
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np

from ..analysis.diffusion import OnTheFlyVACF
from ..configurations import initial_state, polydisperse_diameters
from ..geometry import Box
from ..io import (
    DataFileError,
    TrajectoryWriter,
    check_partial_trajectory,
    load_state,
    remove_stale_temporaries,
    save_state,
    save_thermo,
    write_netcdf,
)
from ..mc import Metropolis, MoveSizeTuner
from ..simulation import Simulation, tune_move_size
from .specs import StageError, make_method, make_potential, whole_steps


class StageInterrupted(Exception):
    """SIGINT stopped a stage at a safe point (after a checkpoint); exit code 130."""


class StageLocked(StageError):
    """Another copy of the stage holds the lock on its outputs."""


def make_initial_state(system):
    """A lattice (or random) start from ``{"n", "box", "dim", "polydispersity", "seed", ...}``.

    Velocities are zero (the course's start) unless ``kT`` is given (Maxwell-Boltzmann).
    """
    allowed = {"n", "box", "dim", "polydispersity", "seed", "arrangement", "mass", "kT"}
    unknown = set(system) - allowed
    if unknown:
        raise StageError(f"system: unknown key(s) {sorted(unknown)}")
    try:
        box = Box.cube(system["box"], system.get("dim", 2))
        return initial_state(
            system["n"], box, system["seed"], polydispersity=system.get("polydispersity", 0.0),
            arrangement=system.get("arrangement", "lattice"), mass=system.get("mass", 1.0),
            kT=system.get("kT"),
        )
    except KeyError as err:
        raise StageError(f"system: missing key {err.args[0]!r}") from None
    except ValueError as err:
        raise StageError(f"system: {err}") from None


def spec_digest(*parts):
    """Short hash identifying what a checkpoint belongs to."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def input_identity(state_in):
    """What a stage starts from, by content: a system spec dict, or the SHA-256 of the file's bytes.

    A path says nothing about what is in the file: an upstream stage rerun with
    another config rewrites the same path.
    """
    if isinstance(state_in, dict):
        return {"system": state_in}
    path = Path(state_in)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except OSError as err:
        raise DataFileError(f"{path}: cannot read ({err.strerror})") from None
    return {"sha256": digest.hexdigest()}


def diameters_digest(diameters):
    """SHA-256 (16 hex digits) of a diameter array's float64 bytes."""
    return hashlib.sha256(np.ascontiguousarray(diameters, dtype=np.float64).tobytes()).hexdigest()[:16]


def check_system(state, expect, path):
    """Raise DataFileError naming ``path`` unless ``state`` is the system ``expect`` describes.

    ``expect`` may hold ``n``, ``dim``, ``box`` (side of the square/cubic box),
    ``seed``, ``polydispersity`` (the diameters must be those
    :func:`~simlib.configurations.polydisperse_diameters` gives for n, p and seed)
    and ``diameters_digest`` (:func:`diameters_digest`). Absent keys are not checked.
    """
    expect = expect or {}
    if expect.get("n") is not None and state.n != expect["n"]:
        raise DataFileError(f"{path}: state has N={state.n} particles but the config asks for N={expect['n']}")
    if expect.get("dim") is not None and state.dim != expect["dim"]:
        raise DataFileError(f"{path}: state is {state.dim}D but the config asks for {expect['dim']}D")
    if expect.get("box") is not None:
        want = np.full(state.dim, float(expect["box"]))
        if not np.array_equal(state.box.lengths, want):
            raise DataFileError(
                f"{path}: state has box {state.box.lengths.tolist()} but the config asks for box {expect['box']}"
            )
    if expect.get("seed") is not None and state.seed != int(expect["seed"]):
        raise DataFileError(f"{path}: state has seed {state.seed} but the config asks for seed {expect['seed']}")
    want_digest = expect.get("diameters_digest")
    if want_digest is None and expect.get("polydispersity") is not None and expect.get("seed") is not None:
        want_digest = diameters_digest(polydisperse_diameters(state.n, float(expect["polydispersity"]), int(expect["seed"])))
    if want_digest is not None and diameters_digest(state.diameters) != want_digest:
        raise DataFileError(
            f"{path}: state's particle diameters are not those of the config "
            f"(polydispersity {expect.get('polydispersity', '?')}, seed {expect.get('seed', '?')})"
        )


# -- one copy at a time --------------------------------------------------------------
@contextlib.contextmanager
def output_lock(state_out):
    """Hold an exclusive lock on ``.<state_out>.lock`` or raise StageLocked naming the holder's PID.

    The file is removed on release while still locked; a copy that opened it just
    before checks after locking that the path still names the file it locked.
    """
    path = Path(state_out)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StageLocked(
                f"{path}: another copy of this stage is running (PID {holder}, lock {lock}); "
                "wait for it to finish or stop it before rerunning"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed it between our open and lock: try again
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


# -- Ctrl-C at safe points -----------------------------------------------------------
_pending_signal = []


@contextlib.contextmanager
def deferred_interrupts():
    """Turn SIGINT into a flag that :func:`check_interrupt` raises at a safe point.

    A KeyboardInterrupt raised inside a netCDF write can leave xarray's lock held
    (``CombinedLock.acquire`` takes its locks one by one without a ``finally``), and
    the next netCDF call then waits forever. Nested uses share one handler; off the
    main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if getattr(previous, "_simlib_deferred", False):
        yield
        return

    def handler(signum, frame):
        _pending_signal.append(signum)

    handler._simlib_deferred = True
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupt_pending():
    return bool(_pending_signal)


def check_interrupt(where):
    """Raise StageInterrupted if a SIGINT arrived since :func:`deferred_interrupts` began."""
    if _pending_signal:
        _pending_signal.clear()
        raise StageInterrupted(f"interrupted (SIGINT) {where}")


def run_stage(
    stage,
    potential,
    state_in,
    state_out,
    thermo_out,
    trajectory_out=None,
    checkpoint=None,
    checkpoint_seconds=60.0,
    config=None,
    log=print,
    progress_lines=30,
    expect_system=None,
    vacf_out=None,
):
    """Run one stage from the state file ``state_in`` and write its outputs.

    Parameters
    ----------
    stage, potential : dict
        Stage spec (module docstring) and potential spec.
    state_in : path or dict
        Input state file, or a system spec dict to start from the initial lattice.
    state_out, thermo_out : path
    trajectory_out : path, optional
        Required if the stage has ``trajectory_every``. The AMBER netCDF trajectory; a
        GSD trajectory of the same frames is written beside it (suffix ``.gsd``).
    checkpoint : path, optional
        Checkpoint file; default ``state_out`` with suffix ``.ckpt.nc``.
    checkpoint_seconds : float, default 60
        Wall time between checkpoints [s].
    config : dict, optional
        Recorded in every output's provenance.
    log : callable
        Receives progress lines (step, t, E/N, rate, ETA).
    progress_lines : int, default 30
        About how many progress lines a stage logs.
    expect_system : dict, optional
        What the input state file must be (DataFileError otherwise), see
        :func:`check_system`: ``n``, ``dim``, ``box``, ``seed``, ``polydispersity``,
        ``diameters_digest``; its potential must also match ``potential``. Checked on a
        fresh start and on a resume alike.
    vacf_out : path, optional
        Output of the on-the-fly VACF; required if the stage has ``vacf_every``.

    Returns
    -------
    dict with ``wall_seconds``, ``steps``, ``particle_steps_per_second``.

    Raises
    ------
    StageError, DataFileError, SimulationError
        One-line messages naming the key or file.
    StageLocked
        Another copy of the same stage is running.
    StageInterrupted
        SIGINT arrived; a checkpoint was written first (the next run resumes).
    """
    pot = make_potential(potential)
    method, length, thermo_steps, traj_steps = make_method(stage)
    if traj_steps is not None and trajectory_out is None:
        raise StageError("stage has trajectory_every but no trajectory output was given")
    if not isinstance(checkpoint_seconds, (int, float)) or isinstance(checkpoint_seconds, bool) or not (
        checkpoint_seconds >= 0 and math.isfinite(checkpoint_seconds)
    ):
        raise StageError(f"checkpoint_seconds must be a finite number >= 0, got {checkpoint_seconds!r}")
    vacf_plan = _vacf_plan(stage, method, length, thermo_steps)
    if (vacf_plan is None) != (vacf_out is None):
        raise StageError(
            "stage.vacf_every is required when the rule writes a VACF file (and only then)"
            if vacf_plan is None else "stage.vacf_every is set but no vacf output was given"
        )
    state_out = Path(state_out)
    checkpoint = Path(checkpoint) if checkpoint else state_out.with_name(state_out.name + ".ckpt.nc")
    with deferred_interrupts(), output_lock(state_out):
        return _run_locked(
            stage, potential, pot, method, length, thermo_steps, traj_steps, state_in, state_out, thermo_out,
            trajectory_out, checkpoint, checkpoint_seconds, config, log, progress_lines, expect_system,
            vacf_plan, vacf_out,
        )


def _run_locked(stage, potential, pot, method, length, thermo_steps, traj_steps, state_in, state_out, thermo_out,
                trajectory_out, checkpoint, checkpoint_seconds, config, log, progress_lines, expect_system,
                vacf_plan, vacf_out):
    file_input = not isinstance(state_in, dict)
    expect = expect_system if file_input else None
    digest = spec_digest(stage, potential, input_identity(state_in))
    config = config if config is not None else {"stage": stage, "potential": potential}

    for target in (state_out, thermo_out, trajectory_out, checkpoint):
        if target is not None:
            remove_stale_temporaries(target)
    gsd_out = Path(trajectory_out).with_suffix(".gsd") if trajectory_out is not None else None
    if gsd_out is not None:
        remove_stale_temporaries(gsd_out)
    resumed = _try_resume(checkpoint, digest, log, pot, expect)
    partial = None if trajectory_out is None else Path(trajectory_out).parent / f".{Path(trajectory_out).name}.part"
    if resumed is not None and traj_steps is not None and resumed[2] > 0:
        problem = check_partial_trajectory(partial, resumed[2], resumed[0].n)
        gsd_partial = gsd_out.parent / f".{gsd_out.name}.part"
        if not problem and not gsd_partial.exists():
            problem = f"its partial GSD trajectory {gsd_partial} is gone"
        if problem:
            log(f"ignoring checkpoint {checkpoint}: {problem}; starting the stage again")
            resumed = None
    check_interrupt("before the stage began")
    acc = None
    if vacf_plan is not None:
        acc = OnTheFlyVACF(vacf_plan[0] * method.dt, window=vacf_plan[1])
    if resumed is not None:
        state, rows, frames, tuned_move, step_start, vacf_saved = resumed
        if acc is not None and vacf_saved is not None:
            acc.set_state(vacf_saved)
        if tuned_move is not None:
            method = dataclasses.replace(method, move_size=tuned_move)
        sim = Simulation(state, pot, method, skin=stage.get("skin"), resume=True)
    else:
        if partial is not None and partial.exists():
            partial.unlink()  # frames of an abandoned attempt
        if not file_input:
            state = make_initial_state(state_in)
        else:
            state, _ = load_state(state_in, potential=pot)
            check_system(state, expect, state_in)
        skin = stage.get("skin")
        if isinstance(method, Metropolis) and stage.get("tune_acceptance") is not None:
            # tuning is equilibration: it happens before the stage's own sweeps begin
            sim = Simulation(state, pot, method, skin=skin)
            tune_move_size(sim, MoveSizeTuner(target=stage["tune_acceptance"]))
            method = sim.method
        sim = Simulation(state, pot, method, skin=skin)
        rows, frames, step_start = [], 0, state.step
        rows.append(sim.thermo())
        tuned_move = method.move_size if isinstance(method, Metropolis) else None

    writer = None
    if traj_steps is not None:
        writer = TrajectoryWriter(
            trajectory_out, state.n, state.dim, state.diameters, config=config, seed=state.seed,
            resume_frames=frames if resumed is not None else None,
            monte_carlo=isinstance(method, Metropolis), gsd_path=gsd_out,
        )
        if resumed is None:
            writer.append(state)
    done = state.step - step_start
    wall0 = time.perf_counter()
    last_checkpoint = wall0
    done_at_start = done
    progress_every = max(1, (length // thermo_steps) // max(1, progress_lines))

    def save_checkpoint():
        if writer is not None:
            writer.sync()
        save_state(
            checkpoint, state, pot, method, config,
            extra={"digest": digest, "rows": rows, "frames": writer.frames if writer else 0,
                   "move_size": tuned_move, "step_start": step_start,
                   "vacf": acc.get_state() if acc is not None else None},
        )

    try:
        while done < length:
            if acc is not None and done >= vacf_plan[2]:
                sim.run(thermo_steps, every=vacf_plan[0], callback=acc)
            else:
                sim.run(thermo_steps)
            done += thermo_steps
            rows.append(sim.thermo())
            if writer is not None and done % traj_steps == 0:
                writer.append(state)
            now = time.perf_counter()
            chunk_index = done // thermo_steps
            if chunk_index % progress_every == 0 or done == length:
                rate = (done - done_at_start) / max(now - wall0, 1e-9)
                eta = (length - done) / rate if rate > 0 else float("nan")
                row = rows[-1]
                log(
                    f"step {state.step} t={state.time:.4g} E/N={row['total_per_particle']:.6g} "
                    f"U/N={row['potential_per_particle']:.6g} rate={rate * state.n:.4g} particle-steps/s "
                    f"done={100.0 * done / length:.0f}% ETA={eta:.1f}s"
                )
            if interrupt_pending() and done < length:
                save_checkpoint()
                check_interrupt(f"at step {state.step}; checkpoint {checkpoint} written, rerun to resume")
            if now - last_checkpoint > checkpoint_seconds and done < length:
                save_checkpoint()
                last_checkpoint = now
                log(f"checkpoint at step {state.step}: {checkpoint}")
    except BaseException:
        if writer is not None:
            writer.abort(keep_partial=True)
        raise
    wall = time.perf_counter() - wall0
    if sim.limited:
        log(f"langevin.limit {method.limit} shortened {sim.limited} particle-steps of this run")
    if acc is not None:
        _save_vacf(vacf_out, acc, config, state.seed)
    save_thermo(thermo_out, rows, config, state.seed, dim=state.dim, n=state.n, potential=pot, method=method)
    save_state(state_out, state, pot, method, config, extra={"move_size": tuned_move})
    # the checkpoint goes before the trajectory is renamed into place: a kill in
    # between then restarts the stage from scratch instead of resuming without frames
    if checkpoint.exists():
        checkpoint.unlink()
    if writer is not None:
        writer.close()
    steps = length - done_at_start
    return {
        "wall_seconds": wall,
        "steps": steps,
        "particle_steps_per_second": steps * state.n / wall if wall > 0 else float("nan"),
    }


def _try_resume(checkpoint, digest, log, pot, expect):
    if not checkpoint.exists():
        return None
    try:
        state, info = load_state(checkpoint)
    except DataFileError as err:
        log(f"ignoring unreadable checkpoint: {err}")
        return None
    extra = info["extra"]
    if extra.get("digest") != digest:
        log(f"ignoring checkpoint {checkpoint}: it belongs to a different stage spec, potential or input content")
        return None
    try:  # the digest covers these; checked again so a hand-made checkpoint cannot slip through
        if info["potential"] != {k: getattr(pot, k) for k in pot.__dataclass_fields__}:
            raise DataFileError(f"{checkpoint}: made with potential {info['potential']}")
        check_system(state, {k: v for k, v in (expect or {}).items() if k in ("n", "dim", "box", "seed")}, checkpoint)
    except DataFileError as err:
        log(f"ignoring checkpoint: {err}")
        return None
    log(f"resuming from checkpoint {checkpoint} at step {state.step}")
    return state, extra["rows"], extra["frames"], extra.get("move_size"), extra["step_start"], extra.get("vacf")


def _vacf_plan(stage, method, length, thermo_steps):
    """``(sample_steps, window, start_steps)`` of the on-the-fly VACF, or None."""
    if stage.get("vacf_every") is None:
        for key in ("vacf_window", "vacf_start"):
            if key in stage:
                raise StageError(f"stage.{key} needs stage.vacf_every")
        return None
    every = whole_steps(stage["vacf_every"], method.dt, "stage.vacf_every")
    if thermo_steps % every:
        raise StageError("stage.thermo_every must be a multiple of stage.vacf_every")
    window = stage.get("vacf_window", 5.0)
    if isinstance(window, bool) or not isinstance(window, (int, float)) or not window >= 2 * every * method.dt:
        raise StageError(f"stage.vacf_window must be at least two vacf_every intervals, got {window!r}")
    start = stage.get("vacf_start", 0.0)
    start_steps = 0 if start == 0 else whole_steps(start, method.dt, "stage.vacf_start")
    if start_steps % thermo_steps:
        raise StageError("stage.vacf_start must be a multiple of stage.thermo_every")
    n_lags = int(math.floor(window / (every * method.dt) + 1e-9)) + 1
    if (length - start_steps) // every < n_lags:
        raise StageError("stage.vacf_window is longer than the stage after vacf_start")
    return every, float(window), start_steps


def _save_vacf(path, acc, config, seed):
    ds = acc.dataset
    ds.attrs.update({"simlib_kind": "vacf", "config": json.dumps(config, sort_keys=True, default=str),
                     "seed": int(seed)})
    write_netcdf(path, ds)
