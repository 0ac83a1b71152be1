"""One loop body, several cached numba kernels: serial and parallel (``prange``), and
specialised to compile-time constants.

With one thread, handing a loop to numba's thread pool costs a thread wake-up per
call (slow on a loaded machine); a serial kernel avoids it. Both kernels are compiled
from the same Python code, so they cannot drift apart. The parallel twin gets its own
name because numba's cache index is keyed by the function's qualified name and
signature, not by its compile flags.
"""

import types

from numba import njit


def serial_and_parallel(func):
    """``(serial, parallel)`` kernels of ``func``, whose particle loop uses ``prange``."""
    twin = types.FunctionType(func.__code__, func.__globals__, func.__name__ + "_parallel",
                              func.__defaults__, func.__closure__)
    twin.__qualname__ = func.__qualname__ + "_parallel"
    twin.__module__ = func.__module__
    twin.__doc__ = func.__doc__
    return njit(cache=True)(func), njit(parallel=True, cache=True)(twin)


def specialised(func, suffix, parallel=False, **constants):
    """A cached kernel of ``func`` in which the module globals named in ``constants`` take
    the given values. numba freezes globals at compile time, so a branch on such a
    constant (e.g. ``THREE_D``) disappears from the loop instead of being taken on every
    pair. ``suffix`` names the specialisation (numba's cache is keyed by the name)."""
    namespace = dict(func.__globals__)
    namespace.update(constants)
    twin = types.FunctionType(func.__code__, namespace, func.__name__ + suffix, func.__defaults__,
                              func.__closure__)
    twin.__qualname__ = func.__qualname__ + suffix
    twin.__module__ = func.__module__
    twin.__doc__ = func.__doc__
    return njit(parallel=parallel, cache=True)(twin)
