"""SHA-256 of the *data* of every output, and the environment that made them.

netCDF files are hashed over their variables' names, dtypes, shapes and bytes,
not their attributes, so provenance such as the creation time does not change the
hash; other files (CSV, PNG) are hashed as bytes. Two runs of the same config and
seeds on the same machine give the same manifest ``files`` section.
"""

import hashlib
import json
import os
import platform
from pathlib import Path

import netCDF4
import numpy as np

from ..io import atomic_path, provenance


def data_hash(path):
    """SHA-256 hex digest of a file's data (netCDF: variables only)."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.suffix == ".nc":
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            for name in sorted(nc.variables):
                values = np.ascontiguousarray(nc.variables[name][...])
                digest.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
                digest.update(values.tobytes())
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


def write_manifest(path, files, root="."):
    """Write ``{"environment": ..., "files": {relative path: sha256}}`` atomically."""
    root = Path(root)
    env = {k: v for k, v in provenance().items() if k not in ("created", "config")}
    env["cpu"] = cpu_model()
    env["cpu_count"] = os.cpu_count()
    manifest = {
        "environment": env,
        "files": {str(Path(f).relative_to(root) if Path(f).is_absolute() else f): data_hash(f) for f in sorted(files)},
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest
