"""GSD trajectories (HOOMD-blue's format) that 2D-aware tools read as they are.

The AMBER netCDF trajectory (:class:`simlib.io.TrajectoryWriter`) always has a 3D
cell; a GSD file says ``configuration/dimensions = 2`` and has ``Lz = 0`` in 2D, so
OVITO, freud, MDAnalysis and HOOMD see a 2D system. Each frame holds, in the
HOOMD schema:

``configuration/step``     MD step, or Monte Carlo sweep
``configuration/box``      ``[Lx, Ly, Lz, 0, 0, 0]`` (``Lz = 0`` in 2D) [a]
``particles/position``     in ``[-L/2, L/2)`` (float32) [a]
``particles/image``        image counts: unwrapped = position + image * L
``particles/velocity``     (float32) [a/t0]; zero for Monte Carlo
``particles/diameter``     (float32) [a]; OVITO shows radius = diameter / 2
``particles/mass``         [m]

Chunks equal to frame 0's are written once (the schema's rule), so diameters and
mass are stored in frame 0 only and readers fill them in. Frame 0 also holds
``log/simlib/provenance``, the JSON of :func:`simlib.io.provenance` as bytes.

simlib's own box is ``[0, L)``; a position ``x >= L/2`` is written as ``x - L`` with
its image count one higher, so ``position + image * L`` is simlib's unwrapped
position (to float32 precision).
"""

import json
import os
from pathlib import Path

import numpy as np

from .io import DataFileError, file_mode, provenance_record


def _gsd_hoomd():
    try:
        import gsd.fl
        import gsd.hoomd
    except ImportError:  # pragma: no cover - gsd is a main dependency
        raise DataFileError("writing GSD trajectories needs the 'gsd' package: pip install gsd") from None
    return gsd


def _open(path, mode):
    gsd = _gsd_hoomd()
    from . import __version__

    handle = gsd.fl.open(name=str(path), mode=mode, application=f"simlib {__version__}",
                         schema="hoomd", schema_version=[1, 4])
    if mode == "w":
        os.chmod(path, file_mode())  # libgsd creates files 0640 whatever the umask
    return gsd.hoomd.HOOMDTrajectory(handle)


def gsd_frame(state, frame_index=0, provenance_json=None):
    """The :class:`gsd.hoomd.Frame` of ``state`` (see the module docstring)."""
    gsd = _gsd_hoomd()
    n, d = state.n, state.dim
    lengths = np.asarray(state.box.lengths, dtype=np.float64)
    wrapped = np.asarray(state.positions, dtype=np.float64)
    images = np.asarray(state.images, dtype=np.int64).copy()
    upper = wrapped >= 0.5 * lengths
    centred = (wrapped - np.where(upper, lengths, 0.0)).astype(np.float32)
    images += upper
    # float32 rounding can land a coordinate on +L/2, outside GSD's half-open box
    half = (0.5 * lengths).astype(np.float32)
    over = centred >= half
    centred = np.where(over, centred - lengths.astype(np.float32), centred)
    images += over
    position = np.zeros((n, 3), dtype=np.float32)
    position[:, :d] = centred
    image = np.zeros((n, 3), dtype=np.int32)
    image[:, :d] = images
    velocity = np.zeros((n, 3), dtype=np.float32)
    velocity[:, :d] = state.velocities
    box = np.zeros(6, dtype=np.float32)
    box[:d] = lengths
    frame = gsd.hoomd.Frame()
    frame.configuration.step = int(state.step)
    frame.configuration.dimensions = d
    frame.configuration.box = box
    frame.particles.N = n
    frame.particles.types = ["A"]
    frame.particles.typeid = np.zeros(n, dtype=np.uint32)
    frame.particles.position = position
    frame.particles.image = image
    frame.particles.velocity = velocity
    frame.particles.diameter = np.asarray(state.diameters, dtype=np.float32)
    frame.particles.mass = np.full(n, state.mass, dtype=np.float32)
    if frame_index == 0 and provenance_json is not None:
        frame.log["simlib/provenance"] = np.frombuffer(provenance_json.encode(), dtype=np.uint8)
    return frame


class GSDTrajectoryWriter:
    """Append frames to a GSD file, renamed into place on :meth:`close`.

    The same life cycle as :class:`simlib.io.TrajectoryWriter`: frames go to a hidden
    ``.<name>.part`` beside ``path``; ``resume_frames`` keeps the first frames of that
    partial file after a kill (frames written after the last checkpoint are dropped)
    and appends after them; :meth:`abort` discards it unless asked to keep it.
    """

    def __init__(self, path, config=None, seed=None, resume_frames=None):
        self.path = Path(path)
        self.partial = self.path.parent / f".{self.path.name}.part"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._provenance = json.dumps(provenance_record(config, seed), sort_keys=True, default=str)
        self.frames = 0
        if resume_frames is not None and resume_frames > 0:
            self._traj = self._resume(int(resume_frames))
        else:
            self._traj = _open(self.partial, "w")

    def _resume(self, frames):
        if not self.partial.exists():
            raise DataFileError(f"{self.partial}: partial GSD trajectory missing; cannot resume at frame {frames}")
        try:
            with _open(self.partial, "r") as old:
                if len(old) < frames:
                    raise ValueError(f"{len(old)} frames, fewer than the checkpoint's {frames}")
                kept = [old[i] for i in range(frames)]
        except (OSError, RuntimeError, ValueError) as err:
            raise DataFileError(f"{self.partial}: cannot resume partial GSD trajectory ({err})") from None
        # GSD cannot drop trailing frames in place: rewrite the kept ones
        rewrite = self.partial.with_name(self.partial.name + ".new")
        traj = _open(rewrite, "w")
        for frame in kept:
            traj.append(frame)
        traj.flush()
        traj.close()
        os.replace(rewrite, self.partial)
        self.frames = frames
        return _open(self.partial, "r+")

    def append(self, state):
        """Write one frame of ``state``."""
        self._traj.append(gsd_frame(state, self.frames, self._provenance))
        self.frames += 1

    def sync(self):
        """Flush buffered frames to disk (before a checkpoint records the frame count)."""
        self._traj.flush()

    def close(self):
        """Finish the file and rename it into place."""
        if self._traj is not None:
            self._traj.flush()
            self._traj.close()
            self._traj = None
            os.replace(self.partial, self.path)

    def abort(self, keep_partial=False):
        """Stop writing; the partial file is removed unless ``keep_partial``."""
        if self._traj is not None:
            self._traj.flush()
            self._traj.close()
            self._traj = None
            if not keep_partial and self.partial.exists():
                self.partial.unlink()


def load_gsd(path):
    """Read a GSD trajectory into plain arrays (for tests and quick looks).

    Returns a dict with ``step`` (frames,), ``box`` (frames, 3), ``dimensions``,
    ``positions``, ``images``, ``velocities`` (frames, N, 3), ``diameters`` (N,) and
    ``unwrapped`` = positions + images * box lengths, in float64.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    try:
        with _open(path, "r") as traj:
            frames = [traj[i] for i in range(len(traj))]
    except (OSError, RuntimeError) as err:
        raise DataFileError(f"{path}: not a readable GSD file ({err})") from None
    box = np.array([f.configuration.box[:3] for f in frames], dtype=np.float64)
    positions = np.array([f.particles.position for f in frames], dtype=np.float64)
    images = np.array([f.particles.image for f in frames], dtype=np.int64)
    return {
        "step": np.array([f.configuration.step for f in frames], dtype=np.int64),
        "box": box,
        "dimensions": int(frames[0].configuration.dimensions),
        "positions": positions,
        "images": images,
        "velocities": np.array([f.particles.velocity for f in frames], dtype=np.float64),
        "diameters": np.asarray(frames[0].particles.diameter, dtype=np.float64),
        "unwrapped": positions + images * box[:, None, :],
        "provenance": json.loads(bytes(frames[0].log["simlib/provenance"]).decode())
        if "simlib/provenance" in frames[0].log else {},
    }
