"""One start-up setting for speed on a CPU: `tune_for_cpu()`, called by the command line, the chapters and the benchmarks.

Two process-wide knobs, each left alone when the user has set its environment variables:
OpenMP's spin before its threads sleep (only effective before torch is imported)
and glibc's threshold for handing freed memory back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# Between the small operations of a training step, OpenMP's worker threads go to
# sleep, and every matrix multiply pays to wake them: about a quarter of an
# epoch on a 2-core CPU. A longer spin before sleeping removes that; the cap
# still lets an idle process sleep.
OPENMP_SPIN = {"GOMP_SPINCOUNT": "300000000"}
USER_OPENMP_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")

# PyTorch on the CPU allocates every large intermediate tensor afresh. Above
# glibc's mmap threshold each one is a new mapping whose pages the kernel must
# fault in and zero, and freeing returns them at once: about a third of an
# importance-weighted evaluation went there. A fixed, high threshold keeps
# freed blocks in the heap for the next tensor of the same size.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc's malloc.h)
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024  # free memory kept before it is handed back to the OS
USER_MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def tune_for_cpu() -> None:
    """Apply both settings below; call it first, before torch is imported, for the OpenMP one to count."""
    keep_openmp_threads_awake()
    reuse_freed_memory()


def keep_openmp_threads_awake() -> None:
    """Raise the OpenMP spin count for this process unless the user has set a policy or torch is loaded."""
    if "torch" in sys.modules or any(name in os.environ for name in USER_OPENMP_SETTINGS):
        return
    os.environ.update(OPENMP_SPIN)


def reuse_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed large blocks; True if it was set (never on other C libraries).

    Left alone when the user has set any MALLOC_* tuning variable.
    """
    if any(name in os.environ for name in USER_MALLOC_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
