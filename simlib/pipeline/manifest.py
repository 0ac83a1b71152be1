"""SHA-256 of the *data* of every output, and the environment that made them.

netCDF files are hashed over their variables' names, dtypes, shapes and bytes,
not their attributes, so provenance such as the creation time does not change the
hash; GSD files over their chunks except the provenance log; JSON files without
their ``provenance`` entry; other files (CSV, PNG) as bytes. Two runs of the same
config and seeds on the same machine give the same manifest ``files`` section.

The ``environment`` section has the versions of :func:`simlib.io.provenance` and the
SHA-256 of the lock files (``requirements-lock.txt``, ``environment-lock.yml``) that
pin the environment, so a rerun can check it used the same one.
"""

import hashlib
import json
import os
import platform
from pathlib import Path

import netCDF4
import numpy as np

from ..io import DataFileError, atomic_path, check_classic_length, provenance

REPO = Path(__file__).resolve().parents[2]
LOCK_FILES = ("requirements-lock.txt", "environment-lock.yml")


def data_hash(path):
    """SHA-256 hex digest of a file's data (netCDF: variables only).

    A missing, truncated or corrupt file is a DataFileError naming it.
    """
    path = Path(path)
    try:
        return _data_hash(path)
    except DataFileError:
        raise
    except Exception as err:  # netCDF4, gsd and json raise many types for a corrupt file
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise DataFileError(f"{path}: cannot hash ({reason}); truncated or corrupt?") from None


def _data_hash(path):
    digest = hashlib.sha256()
    if path.suffix == ".nc":
        if not path.exists():
            raise DataFileError(f"{path}: file not found")
        problem = check_classic_length(path) if path.read_bytes()[:3] == b"CDF" else None
        if problem is not None:
            raise DataFileError(f"{path}: {problem}")
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            for name in sorted(nc.variables):
                values = np.ascontiguousarray(nc.variables[name][...])
                digest.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
                digest.update(values.tobytes())
    elif path.suffix == ".gsd":
        import gsd.fl

        with gsd.fl.open(str(path), "r") as handle:
            names = sorted(n for n in handle.find_matching_chunk_names("") if n != "log/simlib/provenance")
            for frame in range(handle.nframes):
                for name in names:
                    if handle.chunk_exists(frame, name):
                        values = handle.read_chunk(frame, name)
                        digest.update(f"{frame}|{name}|{values.dtype.str}|{values.shape}|".encode())
                        digest.update(values.tobytes())
    elif path.suffix == ".json":
        record = json.loads(path.read_text())
        if isinstance(record, dict):
            record.pop("provenance", None)
        digest.update(json.dumps(record, sort_keys=True).encode())
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def lock_hashes(repo=REPO):
    """SHA-256 of each lock file in the repository ("missing" if absent)."""
    out = {}
    for name in LOCK_FILES:
        lock = Path(repo) / name
        out[name] = hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else "missing"
    return out


def write_manifest(path, files, root="."):
    """Write ``{"environment": ..., "files": {relative path: sha256}}`` atomically."""
    root = Path(root)
    env = {k: v for k, v in provenance().items() if k not in ("created", "config")}
    env["cpu"] = cpu_model()
    env["cpu_count"] = os.cpu_count()
    env["lock_files"] = lock_hashes()
    manifest = {
        "environment": env,
        "files": {str(Path(f).relative_to(root) if Path(f).is_absolute() else f): data_hash(f) for f in sorted(files)},
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest
