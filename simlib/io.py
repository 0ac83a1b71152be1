"""netCDF files: state checkpoints, thermo time series and AMBER trajectories.

Three kinds of file, each tagged by the global attribute ``simlib_kind``:

``state``       everything needed to continue a run bit-identically (NETCDF4).
``thermo``      a time series of observables, one row per output (NETCDF4).
``trajectory``  snapshots in the AMBER netCDF convention (NETCDF3_64BIT), readable by
                MDAnalysis, VMD and OVITO; 2D systems have ``z = 0``.

Every file carries provenance as global attributes (config, seed, versions of
Python, numpy, numba, xarray, netCDF4, gsd, Snakemake and matplotlib, git commit
and whether the working tree had uncommitted changes, creation time). Every write goes to a temporary file in the same directory
that is renamed into place, so an interrupted run never leaves a file that looks
complete. Every read problem raises :class:`DataFileError` with a one-line
message that names the file.

State, thermo and analysis files follow CF-1.8 (``Conventions = "CF-1.8"``). The
quantities are in reduced Lennard-Jones units, which UDUNITS does not know: such a
variable has ``units = "1"`` and a ``reduced_units`` attribute in one vocabulary,
``a`` (particle diameter), ``t0`` (sqrt(m a^2/eps)), ``eps``, ``m`` and products of
powers of these, e.g. ``eps/a^2`` (pressure in 2D) or ``a^2/t0``. Thermo files of
MD runs have ``time`` as their coordinate; Monte Carlo thermo files have ``sweep``
and hold neither a time nor kinetic quantities (Metropolis samples positions only).

The AMBER convention requires the unit names "angstrom" and "picosecond"; in simlib
trajectories they stand for ``a`` and ``t0`` (the attribute ``units_note`` says so,
and each variable has ``reduced_units``). The AMBER cell is always 3D: a 2D run has
``z = 0`` and a cubic-looking cell whose c edge is ``max(Lx, Ly)``, so tools that read
the cell (OVITO, MDAnalysis' InterRDF) see a 3D box; use the GSD trajectory
(:mod:`simlib.gsd_trajectory`) for 2D-aware tools, or
:func:`load_trajectory`, or unwrap by hand: ``unwrapped = coordinates + images *
cell_lengths``. Monte Carlo trajectories have no ``time`` variable (MDAnalysis then
numbers frames); their ``step`` counts sweeps.
"""

import datetime
import functools
import json
import os
import platform
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from .geometry import Box
from .state import State

FORMAT_VERSION = 1


class DataFileError(Exception):
    """A file is missing, unreadable, of the wrong kind or inconsistent with the run."""


# -- provenance -----------------------------------------------------------------------
CONVENTIONS = "CF-1.8"

# distributions whose versions every output records; looked up without importing
# them, so the engine never loads snakemake or matplotlib
_RECORDED_VERSIONS = ("numpy", "numba", "xarray", "pandas", "netCDF4", "gsd", "snakemake", "matplotlib")


def _git(*args):
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def git_revision():
    """``(commit, dirty)`` of the source tree simlib runs from; ``("unknown", "unknown")``
    outside a git checkout. ``dirty`` is "true" when tracked files differ from the commit."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return "unknown", "unknown"
    status = _git("status", "--porcelain", "--untracked-files=no")
    dirty = "unknown" if status is None else ("true" if status.strip() else "false")
    return commit.strip(), dirty


def _git_commit():
    return git_revision()[0]


def package_versions():
    """Installed versions of the packages outputs depend on ("not installed" if absent)."""
    from importlib import metadata

    versions = {}
    for name in _RECORDED_VERSIONS:
        try:
            versions[f"{name.lower()}_version"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[f"{name.lower()}_version"] = "not installed"
    return versions


def provenance(config=None, seed=None):
    """Global attributes recording how a file was made (all values are strings/ints)."""
    from . import __version__

    commit, dirty = git_revision()
    attrs = {
        "simlib_version": __version__,
        "simlib_format_version": FORMAT_VERSION,
        "git_commit": commit,
        "git_dirty": dirty,
        "python_version": platform.python_version(),
        **package_versions(),
        "machine": platform.machine(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": json.dumps(config if config is not None else {}, sort_keys=True, default=str),
    }
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs


def provenance_record(config=None, seed=None):
    """:func:`provenance` as a JSON-able dict with the config decoded (for JSON and CSV sidecars)."""
    record = provenance(config, seed)
    record["config"] = json.loads(record["config"])
    return record


# -- units ------------------------------------------------------------------------------
# units that UDUNITS parses and that simlib writes as they are
_PHYSICAL_UNITS = {"1", "s", "degree"}
# older spellings of the reduced units, mapped to the one vocabulary
_UNIT_ALIASES = {
    "length": "a", "time": "t0", "energy": "eps", "mass": "m", "eps/kB": "eps",
    "length^2": "a^2", "length^2/time^2": "a^2/t0^2", "length^2/time": "a^2/t0",
    "1/length": "1/a", "length/time": "a/t0",
}


def reduced(unit, dim=None):
    """CF attributes for a quantity in reduced LJ units: ``{"units": "1", "reduced_units": unit}``.

    ``unit`` is in the vocabulary of the module docstring; ``a^d`` is spelled out with
    ``dim``. Dimensionless and SI units (``"1"``, ``"s"``) are returned as plain ``units``.
    """
    unit = _UNIT_ALIASES.get(unit, unit)
    if dim is not None:
        unit = unit.replace("a^d", f"a^{int(dim)}")
    if unit in _PHYSICAL_UNITS or unit == "":
        return {"units": unit or "1"}
    return {"units": "1", "reduced_units": unit}


def cf_attributes(ds, kind, title=None):
    """Make every variable's units CF (see :func:`reduced`) and set the CF global attributes."""
    for name in ds.variables:
        attrs = ds[name].attrs
        unit = attrs.get("units")
        if unit is not None and unit not in _PHYSICAL_UNITS and "reduced_units" not in attrs:
            attrs.update(reduced(unit))
        elif unit is not None and attrs.get("units") != "1" and "reduced_units" in attrs:
            attrs["units"] = "1"
    from . import __version__

    ds.attrs["Conventions"] = CONVENTIONS
    ds.attrs.setdefault("title", title or f"simlib {kind} file")
    ds.attrs.setdefault("source", f"simlib {__version__}")
    ds.attrs.setdefault("units_note", "reduced Lennard-Jones units: see each variable's reduced_units "
                        "(a = particle diameter, eps = LJ energy, m = mass, t0 = sqrt(m a^2/eps), kB = 1)")
    return ds


def csv_sidecar_path(csv_path):
    """The provenance sidecar of a CSV file: ``<name>.csv-metadata.json`` (the W3C
    CSV-on-the-Web convention, so CSVW tools find it)."""
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + "-metadata.json")


def write_csv_sidecar(csv_path, columns, config=None, seed=None, description="", path=None):
    """Write the provenance of a CSV file beside it as CSVW metadata, atomically.

    ``columns`` are the CSV's column names in order; the record holds them, the
    provenance of :func:`provenance_record` and a description. Returns the path.
    """
    csv_path = Path(csv_path)
    target = Path(path) if path is not None else csv_sidecar_path(csv_path)
    record = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_path.name,
        "dc:description": description or f"simlib table {csv_path.name}; reduced Lennard-Jones units, "
                                         "<name>_err columns are standard errors of <name>",
        "dc:creator": "simlib",
        "tableSchema": {"columns": [{"name": str(c), "titles": str(c)} for c in columns]},
        "simlib:provenance": provenance_record(config, seed),
    }
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
    return target


# -- atomic writes ----------------------------------------------------------------------
def _umask():
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it; put it straight back
    os.umask(mask)
    return mask


def file_mode():
    """Permissions a plain ``open(path, "w")`` would give: 0666 under the user's umask."""
    return 0o666 & ~_umask()


@contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success only.

    The file gets the mode an ordinary write would (0644 under umask 022), so results
    on a shared file system are readable by the group as the user's umask intends.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files and os.replace keeps the mode: give the umask's mode
        os.fchmod(fd, file_mode())
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_netcdf(path, ds):
    """Write an xarray Dataset as CF-1.8 NETCDF4 atomically, without fill values.

    Units are made CF on the way (:func:`cf_attributes`), so no file can carry a unit
    string that UDUNITS misreads.
    """
    ds = cf_attributes(ds.copy(), ds.attrs.get("simlib_kind", "data"))
    encoding = {name: {"_FillValue": None} for name in ds.variables}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", encoding=encoding)


def remove_stale_temporaries(path):
    """Delete temporary files that a killed :func:`atomic_path` write left beside ``path``."""
    path = Path(path)
    if path.parent.exists():
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


def _open_checked(path, kind):
    """Open a netCDF file with xarray and check it is a simlib file of ``kind``."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    try:
        ds = xr.load_dataset(path, decode_times=False, engine="netcdf4")
    except Exception as err:  # netCDF4/HDF5 raise many types for a corrupt file
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise DataFileError(f"{path}: not a readable netCDF file ({reason}); truncated or corrupt?") from None
    found = ds.attrs.get("simlib_kind")
    if found != kind:
        raise DataFileError(f"{path}: expected a simlib {kind} file, found {found or 'a foreign netCDF file'}")
    return ds


# -- read side: classic-format length checks (truncated trajectories) --------------------
# netCDF-C reads a truncated classic (NETCDF3) file without error and returns zeros for
# the missing records, so every reader of a trajectory checks the file's length against
# what its header declares.
_CLASSIC_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}


class _Header:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, size):
        if self.pos + size > len(self.data):
            raise ValueError("header ends early")
        out = self.data[self.pos:self.pos + size]
        self.pos += size
        return out

    def int(self, size=4):
        return int.from_bytes(self.take(size), "big", signed=False)

    def name(self, count_size):
        length = self.int(count_size)
        return self.take((length + 3) // 4 * 4)[:length].decode(errors="replace")

    def skip_attributes(self, count_size):
        tag, count = self.int(4), self.int(count_size)
        if tag not in (0, 0x0C):
            raise ValueError("bad attribute list tag")
        for _ in range(count):
            self.name(count_size)
            kind, nelems = self.int(4), self.int(count_size)
            size = nelems * _CLASSIC_TYPE_SIZE.get(kind, 0)
            if kind not in _CLASSIC_TYPE_SIZE:
                raise ValueError(f"unknown attribute type {kind}")
            self.take((size + 3) // 4 * 4)


def classic_layout(path):
    """Parse a classic/64-bit-offset netCDF header: ``(numrecs, dims, record_vars_end, fixed_end)``.

    ``dims`` maps names to lengths (0 for the record dimension); ``record_vars_end(k)``
    is the byte offset where the data of the first ``k`` records ends, ``fixed_end``
    where the non-record data ends. Raises ValueError for a file that is not classic netCDF.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head[:3] != b"CDF" or head[3:] not in (b"\x01", b"\x02", b"\x05"):
            raise ValueError("not a classic netCDF file")
        version = head[3]
        data = head + handle.read(1 << 20)  # headers of simlib trajectories are a few kB
    count = 8 if version == 5 else 4
    offset = 4 if version == 1 else 8
    h = _Header(data)
    h.take(4)
    numrecs = h.int(count)
    tag, ndims = h.int(4), h.int(count)
    if tag not in (0, 0x0A):
        raise ValueError("bad dimension list tag")
    dim_names, dims = [], {}
    for _ in range(ndims):
        name = h.name(count)
        dims[name] = h.int(count)
        dim_names.append(name)
    h.skip_attributes(count)
    tag, nvars = h.int(4), h.int(count)
    if tag not in (0, 0x0B):
        raise ValueError("bad variable list tag")
    record, fixed_end = [], h.pos
    for _ in range(nvars):
        h.name(count)
        ndim = h.int(count)
        ids = [h.int(4) for _ in range(ndim)]
        h.skip_attributes(count)
        kind, vsize, begin = h.int(4), h.int(count), h.int(offset)
        is_record = bool(ids) and dims[dim_names[ids[0]]] == 0
        if is_record:
            size = _CLASSIC_TYPE_SIZE[kind]
            for i in ids[1:]:
                size *= dims[dim_names[i]]
            record.append((begin, vsize, size))
        else:
            fixed_end = max(fixed_end, begin + vsize)
    # one record variable alone is not padded to 4 bytes per record
    recsize = record[0][2] if len(record) == 1 else sum(v for _, v, _ in record)

    def record_vars_end(k):
        if k <= 0 or not record:
            return 0
        return max(begin + (k - 1) * recsize + size for begin, _, size in record)

    return numrecs, dims, record_vars_end, fixed_end


def check_classic_length(path, frames=None):
    """None if ``path`` holds all the data its header declares (or ``frames`` records), else the problem."""
    path = Path(path)
    try:
        numrecs, _, record_end, fixed_end = classic_layout(path)
        size = path.stat().st_size
    except (OSError, ValueError, KeyError, IndexError) as err:
        return f"unreadable classic netCDF header ({err})"
    want = numrecs if frames is None else frames
    if numrecs == 0xFFFFFFFF or want > numrecs:
        return f"header records {numrecs} frames, {want} needed"
    need = max(fixed_end, record_end(want))
    if size < need:
        return f"truncated: {size} bytes, but its header's {want} frames need {need}"
    return None


def check_partial_trajectory(partial, frames, n):
    """None if the partial trajectory ``partial`` can be resumed at ``frames`` frames of ``n`` atoms, else why not."""
    partial = Path(partial)
    if not partial.exists():
        return f"its partial trajectory {partial} is gone"
    try:
        _, dims, _, _ = classic_layout(partial)
    except (OSError, ValueError, KeyError, IndexError) as err:
        return f"its partial trajectory {partial} is unreadable ({err})"
    if dims.get("atom") != n:
        return f"its partial trajectory {partial} has {dims.get('atom')} atoms, not {n}"
    problem = check_classic_length(partial, frames)
    return None if problem is None else f"its partial trajectory {partial} is corrupt ({problem})"


# -- read side: intermediate files of the pipeline ------------------------------------------
def read_json(path, kind=dict):
    """Read a JSON file written by the pipeline (e.g. ``analysis.json``); DataFileError naming it otherwise."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path}: cannot read ({getattr(err, 'strerror', None) or err})") from None
    if not text.strip():
        raise DataFileError(f"{path}: empty file; truncated or corrupt?")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path}: not valid JSON (line {err.lineno}: {err.msg}); truncated or corrupt?") from None
    if not isinstance(data, kind):
        raise DataFileError(f"{path}: expected a JSON {kind.__name__}, found {type(data).__name__}")
    return data


def read_netcdf(path, kind=None):
    """Load a netCDF file (optionally checking its ``simlib_kind``) with one-line errors naming it."""
    path = Path(path)
    if kind is not None:
        return _open_checked(path, kind)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    problem = check_classic_length(path) if path.read_bytes()[:3] == b"CDF" else None
    if problem is not None:
        raise DataFileError(f"{path}: {problem}")
    try:
        return xr.load_dataset(path, decode_times=False)
    except Exception as err:  # netCDF4/HDF5/scipy raise many types for a corrupt file
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise DataFileError(f"{path}: not a readable netCDF file ({reason}); truncated or corrupt?") from None


def read_table(path, sep=",", columns=()):
    """Read a CSV/TSV table (summary, benchmark) with one-line errors naming it; ``columns`` must be present."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, sep=sep)
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise DataFileError(f"{path}: not a readable table ({reason}); truncated or corrupt?") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(f"{path}: column(s) {missing} missing; truncated or not the expected file")
    return frame


# -- state -------------------------------------------------------------------------------
_STATE_SCALARS = {
    "step": ("1", "steps or sweeps done"),
    "time": ("t0", "simulated time"),
    "mass": ("m", "particle mass"),
    "dt": ("t0", "time step of the current stage (0 for Monte Carlo)"),
    "step_origin": ("1", "step at which the current stage began"),
    "time_origin": ("t0", "time at which the current stage began"),
    "list_builds": ("1", "neighbour-list builds in the current stage"),
    "mc_trials": ("1", "Monte Carlo trial moves in the current stage"),
    "mc_accepted": ("1", "accepted Monte Carlo moves in the current stage"),
}


def save_state(path, state, potential=None, method=None, config=None, extra=None):
    """Write a checkpoint of ``state`` (and the potential/method that produced it) atomically.

    ``extra`` is a dict of further JSON-able metadata stored in the ``extra`` attribute.
    """
    n, d = state.n, state.dim
    data = {
        "positions": (("atom", "spatial"), state.positions, "a", "wrapped positions in [0, L)"),
        "velocities": (("atom", "spatial"), state.velocities, "a/t0", "velocities"),
        "images": (("atom", "spatial"), state.images, "1", "periodic image counters"),
        "diameters": (("atom",), state.diameters, "a", "particle diameters"),
        "box": (("spatial",), state.box.lengths, "a", "box side lengths"),
    }
    if state.list_reference is not None:
        data["list_reference"] = (
            ("atom", "spatial"), state.list_reference, "a", "unwrapped positions at the last neighbour-list build",
        )
    ds = xr.Dataset()
    for name, (dims, values, units, long_name) in data.items():
        ds[name] = xr.Variable(dims, np.asarray(values), {**reduced(units), "long_name": long_name})
    for name, (units, long_name) in _STATE_SCALARS.items():
        ds[name] = xr.Variable((), getattr(state, name), {**reduced(units), "long_name": long_name})
    ds.attrs.update(provenance(config, state.seed))
    ds.attrs["simlib_kind"] = "state"
    ds.attrs["n_particles"] = n
    ds.attrs["dimension"] = d
    ds.attrs["potential"] = json.dumps(_as_dict(potential))
    ds.attrs["method"] = json.dumps(_as_dict(method))
    ds.attrs["method_name"] = type(method).__name__ if method is not None else ""
    ds.attrs["extra"] = json.dumps(extra or {}, default=str)
    write_netcdf(path, ds)


def _as_dict(obj):
    if obj is None:
        return {}
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def load_state(path, n=None, dim=None, potential=None):
    """Read a checkpoint; returns ``(state, info)``.

    ``info`` has the stored ``potential`` and ``method`` (dicts), ``method_name``,
    ``config`` and ``extra``. If ``n``, ``dim`` or ``potential`` are given they must
    match the file, otherwise :class:`DataFileError` names the mismatch.
    """
    ds = _open_checked(path, "state")
    try:
        box = Box(ds["box"].values)
        state = State(
            positions=ds["positions"].values,
            velocities=ds["velocities"].values,
            images=ds["images"].values.astype(np.int64),
            diameters=ds["diameters"].values,
            box=box,
            seed=int(ds.attrs["seed"]),
            list_reference=ds["list_reference"].values if "list_reference" in ds else None,
            **{
                name: (int if _STATE_SCALARS[name][0] == "1" else float)(ds[name].values)
                for name in _STATE_SCALARS
            },
        )
        info = {
            "potential": json.loads(ds.attrs["potential"]),
            "method": json.loads(ds.attrs["method"]),
            "method_name": ds.attrs["method_name"],
            "config": json.loads(ds.attrs["config"]),
            "extra": json.loads(ds.attrs["extra"]),
        }
    except (KeyError, ValueError, TypeError) as err:
        raise DataFileError(f"{path}: incomplete or inconsistent state file ({err})") from None
    if not (np.all(np.isfinite(state.positions)) and np.all(np.isfinite(state.velocities))):
        raise DataFileError(f"{path}: state contains non-finite positions or velocities")
    if n is not None and state.n != n:
        raise DataFileError(f"{path}: state has N={state.n} particles but the config asks for N={n}")
    if dim is not None and state.dim != dim:
        raise DataFileError(f"{path}: state is {state.dim}D but the config asks for {dim}D")
    if potential is not None and info["potential"] and info["potential"] != _as_dict(potential):
        raise DataFileError(
            f"{path}: state was made with potential {info['potential']} but the config asks for {_as_dict(potential)}"
        )
    return state, info


# -- thermo -------------------------------------------------------------------------------
THERMO_META = {
    "step": ("1", "MD step number"),
    "time": ("t0", "simulated time"),
    "stage_time": ("t0", "time since the start of this stage"),
    "kinetic_per_particle": ("eps", "kinetic energy per particle K/N"),
    "potential_per_particle": ("eps", "potential energy per particle U/N"),
    "total_per_particle": ("eps", "total energy per particle E/N"),
    "kinetic_temperature": ("eps", "kinetic temperature 2K/(dN) (kB = 1)"),
    "pressure": ("eps/a^d", "virial pressure"),
    "momentum_x": ("m a/t0", "total momentum, x"),
    "momentum_y": ("m a/t0", "total momentum, y"),
    "momentum_z": ("m a/t0", "total momentum, z"),
    "list_builds": ("1", "neighbour-list builds since the stage began"),
    "acceptance": ("1", "Monte Carlo acceptance since the stage began"),
    "move_size": ("a", "Monte Carlo move size"),
    "wall_time": ("s", "wall-clock time since the stage began"),
}
# Metropolis moves positions only: a Monte Carlo thermo file has no time axis and no
# kinetic quantities (the engine's canonical K = d kT/2 is an input, not a measurement)
_NOT_IN_MC = {"step", "time", "stage_time", "kinetic_per_particle", "total_per_particle",
              "kinetic_temperature", "momentum_x", "momentum_y", "momentum_z"}


def thermo_dataset(rows, config=None, seed=None, dim=None, n=None, potential=None, method=None):
    """Turn a list of ``Simulation.thermo()`` dicts into a CF xarray Dataset.

    MD: coordinate ``time`` [t0], with ``step``. Monte Carlo (rows with ``acceptance``):
    coordinate ``sweep``, no time or kinetic variables. ``dim`` spells out the units of
    the pressure (``eps/a^2`` in 2D). ``n``, ``potential`` and ``method`` (the objects
    that made the run) are recorded as attributes, so figures can read them.
    """
    columns = {key: np.array([row[key] for row in rows]) for key in rows[0]} if rows else {}
    monte_carlo = "acceptance" in columns
    if monte_carlo:
        axis = "sweep"
        coord = xr.Variable((axis,), columns.get("step", np.arange(len(rows))).astype(np.int64),
                            {"units": "1", "long_name": "Monte Carlo sweeps (N trial moves each) done"})
    else:
        axis = "time"
        coord = xr.Variable((axis,), columns.get("time", np.arange(len(rows), dtype=np.float64)),
                            {**reduced("t0"), "long_name": "simulated time"})
    ds = xr.Dataset(coords={axis: coord})
    for key, values in columns.items():
        if key == "time" or (monte_carlo and key in _NOT_IN_MC):
            continue
        units, long_name = THERMO_META.get(key, ("1", key))
        ds[key] = xr.Variable((axis,), values, {**reduced(units, dim), "long_name": long_name})
    if monte_carlo:
        ds["pressure"].attrs["long_name"] = "virial pressure, ideal part N kT/V at the sampling temperature"
    ds.attrs.update(provenance(config, seed))
    ds.attrs["simlib_kind"] = "thermo"
    ds.attrs["simlib_method"] = "metropolis" if monte_carlo else "md"
    if dim is not None:
        ds.attrs["dimension"] = int(dim)
    if n is not None:
        ds.attrs["n_particles"] = int(n)
    if potential is not None:
        ds.attrs["potential"] = json.dumps(_as_dict(potential))
    if method is not None:
        ds.attrs["method"] = json.dumps(_as_dict(method))
        ds.attrs["method_name"] = type(method).__name__
    return cf_attributes(ds, "thermo", "simlib thermodynamic time series")


def save_thermo(path, rows, config=None, seed=None, dim=None, n=None, potential=None, method=None):
    """Write thermo rows atomically (see :func:`thermo_dataset`); returns the Dataset."""
    ds = thermo_dataset(rows, config, seed, dim, n, potential, method)
    write_netcdf(path, ds)
    return ds


def load_thermo(path):
    """Read a thermo file as an xarray Dataset."""
    return _open_checked(path, "thermo")


# -- trajectory ---------------------------------------------------------------------------
class TrajectoryWriter:
    """Append snapshots to an AMBER-convention netCDF trajectory, renamed into place on close.

    Besides the AMBER variables (``coordinates`` and ``velocities`` as float32 with z = 0
    in 2D, ``cell_lengths``, ``cell_angles``, ``time``) the file holds int32 image
    counters, the exact step and time, and the diameters, so unwrapped positions are
    available (to float32 precision; state files hold the exact float64 positions).

    Frames go to a hidden ``.<name>.part`` file beside ``path`` that :meth:`close`
    renames into place. ``resume_frames`` reopens that partial file after a kill and
    continues from the frame count a checkpoint recorded. As a context manager an
    exception discards the partial file.

    ``monte_carlo``: the frames are Monte Carlo sweeps; the file then has no ``time``
    (there is none) and ``step`` counts sweeps. ``gsd_path``: also write the same
    frames as a GSD trajectory there (:class:`simlib.gsd_trajectory.GSDTrajectoryWriter`),
    with the same partial-file, resume and rename life cycle.
    """

    def __init__(self, path, n, dim, diameters, config=None, seed=None, title="simlib trajectory",
                 resume_frames=None, monte_carlo=False, gsd_path=None):
        self.path = Path(path)
        self.n, self.dim = int(n), int(dim)
        self.monte_carlo = bool(monte_carlo)
        self._gsd = None
        if gsd_path is not None:
            from .gsd_trajectory import GSDTrajectoryWriter

            self._gsd = GSDTrajectoryWriter(gsd_path, config=config, seed=seed, resume_frames=resume_frames)
        # a fixed partial name (not a random temp name) so a killed run can resume it
        self.partial = self.path.parent / f".{self.path.name}.part"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._nc = None
        if resume_frames is not None and resume_frames > 0 and not self.partial.exists():
            raise DataFileError(f"{self.partial}: partial trajectory missing; cannot resume at frame {resume_frames}")
        if resume_frames is not None and self.partial.exists():
            try:
                nc = netCDF4.Dataset(self.partial, "a")
                if nc.dimensions["frame"].size < resume_frames or nc.dimensions["atom"].size != self.n:
                    raise ValueError("fewer frames than the checkpoint recorded")
            except (OSError, KeyError, ValueError) as err:
                raise DataFileError(f"{self.partial}: cannot resume partial trajectory ({err})") from None
            self._nc = nc
            self._vars = {name: nc.variables[name] for name in self._VARIABLES if name in nc.variables}
            self.frames = int(resume_frames)
            return
        nc = netCDF4.Dataset(self.partial, "w", format="NETCDF3_64BIT_OFFSET")
        nc.Conventions = "AMBER"
        nc.ConventionVersion = "1.0"
        nc.program = "simlib"
        nc.programVersion = provenance()["simlib_version"]
        nc.title = title
        nc.units_note = ("reduced LJ units: 'angstrom' means the particle diameter a, 'picosecond' means t0; "
                         "the cell is 3D even for a 2D run (z = 0, c = max(a, b)); "
                         "unwrapped = coordinates + images * cell_lengths")
        for key, value in provenance(config, seed).items():
            setattr(nc, key, value)
        nc.simlib_kind = "trajectory"
        nc.simlib_method = "metropolis" if self.monte_carlo else "md"
        nc.dimension = self.dim
        nc.createDimension("frame", None)
        nc.createDimension("spatial", 3)
        nc.createDimension("atom", self.n)
        nc.createDimension("cell_spatial", 3)
        nc.createDimension("cell_angular", 3)
        nc.createDimension("label", 5)
        nc.createVariable("spatial", "S1", ("spatial",))[:] = np.array(list("xyz"), dtype="S1")
        nc.createVariable("cell_spatial", "S1", ("cell_spatial",))[:] = np.array(list("abc"), dtype="S1")
        angular = nc.createVariable("cell_angular", "S1", ("cell_angular", "label"))
        angular[:] = np.array([list(s.ljust(5)) for s in ("alpha", "beta", "gamma")], dtype="S1")
        self._vars = {
            "step": nc.createVariable("step", "i4", ("frame",)),
            "coordinates": nc.createVariable("coordinates", "f4", ("frame", "atom", "spatial")),
            "velocities": nc.createVariable("velocities", "f4", ("frame", "atom", "spatial")),
            "cell_lengths": nc.createVariable("cell_lengths", "f8", ("frame", "cell_spatial")),
            "cell_angles": nc.createVariable("cell_angles", "f8", ("frame", "cell_angular")),
            "images": nc.createVariable("images", "i4", ("frame", "atom", "spatial")),
        }
        if not self.monte_carlo:
            self._vars["time"] = nc.createVariable("time", "f4", ("frame",))
            self._vars["exact_time"] = nc.createVariable("exact_time", "f8", ("frame",))
            self._vars["time"].units = "picosecond"
            self._vars["time"].reduced_units = "t0"
            self._vars["exact_time"].units = "picosecond"
            self._vars["exact_time"].reduced_units = "t0"
            self._vars["exact_time"].long_name = "simulated time in double precision"
        self._vars["step"].long_name = "Monte Carlo sweep" if self.monte_carlo else "MD step"
        self._vars["coordinates"].units = "angstrom"
        self._vars["coordinates"].reduced_units = "a"
        self._vars["velocities"].units = "angstrom/picosecond"
        self._vars["velocities"].reduced_units = "a/t0"
        if self.monte_carlo:
            self._vars["velocities"].long_name = "not sampled by Monte Carlo (zero)"
        self._vars["cell_lengths"].units = "angstrom"
        self._vars["cell_lengths"].reduced_units = "a"
        self._vars["cell_angles"].units = "degree"
        self._vars["images"].long_name = "periodic image counters: unwrapped = wrapped + images * cell_lengths"
        diam = nc.createVariable("diameters", "f8", ("atom",))
        diam.units = "angstrom"
        diam.reduced_units = "a"
        diam[:] = diameters
        self._nc = nc
        self.frames = 0

    _VARIABLES = ("time", "step", "exact_time", "coordinates", "velocities", "cell_lengths",
                  "cell_angles", "images")

    def sync(self):
        """Flush frames to disk (before a checkpoint records the frame count)."""
        self._nc.sync()
        if self._gsd is not None:
            self._gsd.sync()

    def _pad(self, array):
        if self.dim == 3:
            return array
        out = np.zeros((array.shape[0], 3), dtype=array.dtype)
        out[:, : self.dim] = array
        return out

    def append(self, state):
        """Write one frame of ``state``."""
        if state.n != self.n or state.dim != self.dim:
            raise ValueError(f"{self.path}: frame has N={state.n}, d={state.dim}; file has N={self.n}, d={self.dim}")
        f = self.frames
        v = self._vars
        if "time" in v:
            v["time"][f] = state.time
            v["exact_time"][f] = state.time
        v["step"][f] = state.step
        v["coordinates"][f] = self._pad(state.positions)
        v["velocities"][f] = self._pad(state.velocities)
        v["images"][f] = self._pad(state.images)
        lengths = np.ones(3)
        lengths[: self.dim] = state.box.lengths
        if self.dim == 2:
            lengths[2] = max(lengths[:2])  # a flat cell still needs a positive c for readers
        v["cell_lengths"][f] = lengths
        v["cell_angles"][f] = [90.0, 90.0, 90.0]
        if self._gsd is not None:
            self._gsd.append(state)
        self.frames += 1

    def close(self):
        """Finish the file and rename it into place."""
        if self._nc is not None:
            self._nc.close()
            self._nc = None
            if self._gsd is not None:
                self._gsd.close()
            os.replace(self.partial, self.path)

    def abort(self, keep_partial=False):
        """Stop writing; the partial file is removed unless ``keep_partial``."""
        if self._gsd is not None:
            self._gsd.abort(keep_partial)
        if self._nc is not None:
            self._nc.close()
            self._nc = None
            if not keep_partial and self.partial.exists():
                self.partial.unlink()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def load_trajectory(path):
    """Read a simlib trajectory as an xarray Dataset with exact ``unwrapped`` positions.

    Variables: ``positions`` (frame, atom, d) wrapped, ``unwrapped`` (frame, atom, d),
    ``velocities`` (frame, atom, d), ``diameters`` (atom), ``box`` (frame, d),
    ``time`` (frame) and ``step`` (frame).
    """
    problem = check_classic_length(path) if Path(path).exists() else None
    if problem is not None:
        raise DataFileError(f"{path}: {problem}; truncated or corrupt trajectory")
    raw = _open_checked(path, "trajectory")
    d = int(raw.attrs["dimension"])
    wrapped = raw["coordinates"].values[:, :, :d].astype(np.float64)
    images = raw["images"].values[:, :, :d].astype(np.int64)
    box = raw["cell_lengths"].values[:, :d]
    ds = xr.Dataset(
        {
            "positions": (("frame", "atom", "spatial"), wrapped, {"units": "a"}),
            "unwrapped": (("frame", "atom", "spatial"), wrapped + images * box[:, None, :], {"units": "a"}),
            "velocities": (("frame", "atom", "spatial"), raw["velocities"].values[:, :, :d].astype(np.float64), {"units": "a/t0"}),
            "diameters": (("atom",), raw["diameters"].values, {"units": "a"}),
            "box": (("frame", "spatial"), box, {"units": "a"}),
            "step": (("frame",), raw["step"].values.astype(np.int64), {"units": "1"}),
        },
        attrs=dict(raw.attrs),
    )
    if "exact_time" in raw:  # Monte Carlo trajectories have sweeps, no time
        ds["time"] = (("frame",), raw["exact_time"].values, {"units": "t0"})
    return ds
