"""simlib._kernels.empty and zeros: numpy's arrays, allocated in place in a kernel (no
numba np.empty compiled per signature), with a fallback for a numba without the
internals they use."""

import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from simlib._kernels import empty, zeros


@njit
def _allocate(n):
    a = zeros((n, 3), np.int64)
    b = empty(n, np.float64)
    for i in range(n):
        b[i] = 0.5 * i
    c = zeros(n, np.uint8)
    d = empty((2, n), np.uint64)
    e = zeros(n, a.dtype)
    return a, b, c, d, e


def test_kernel_arrays_have_numpys_shape_dtype_layout_and_zeros():
    a, b, c, d, e = _allocate(5)
    for array, shape, dtype in ((a, (5, 3), np.int64), (b, (5,), np.float64), (c, (5,), np.uint8),
                                (d, (2, 5), np.uint64), (e, (5,), np.int64)):
        assert array.shape == shape and array.dtype == dtype and array.flags.c_contiguous
    assert not a.any() and not c.any() and not e.any()
    assert np.array_equal(b, 0.5 * np.arange(5))
    # from Python they are numpy's
    assert np.array_equal(zeros((2, 2), np.int32), np.zeros((2, 2), np.int32))
    assert empty(3, np.float64).shape == (3,)


def test_negative_size_raises_as_numpy_does():
    with pytest.raises(ValueError, match="negative dimensions"):
        _allocate(-1)


def test_without_numbas_internals_they_fall_back_to_numbas_numpy():
    code = (
        # simlib sees a numba.np.arrayobj without the two internals; numba keeps its own
        "import sys, types\n"
        "import numba.np.arrayobj as real\n"
        "proxy = types.ModuleType(real.__name__)\n"
        "proxy.__dict__.update({k: v for k, v in vars(real).items()\n"
        "                       if k not in ('_empty_nd_impl', '_parse_empty_args')})\n"
        "sys.modules[real.__name__] = proxy\n"
        "from simlib._kernels import empty, zeros\n"
        "sys.modules[real.__name__] = real\n"
        "import numpy as np\n"
        "from numba import njit\n"
        "f = njit(lambda n: (zeros((n, 2), np.int64), empty(n, np.float64)))\n"
        "a, b = f(3)\n"
        "assert a.shape == (3, 2) and a.dtype == np.int64 and not a.any()\n"
        "assert b.shape == (3,) and b.dtype == np.float64\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
