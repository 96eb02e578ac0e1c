"""Process-wide settings that make PyTorch faster on a CPU, applied by the command line and the chapters."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# PyTorch on the CPU allocates every large intermediate tensor afresh. Above
# glibc's mmap threshold each one is a new mapping whose pages the kernel must
# fault in and zero, and freeing returns them at once: about a third of an
# importance-weighted evaluation went there. A fixed, high threshold keeps
# freed blocks in the heap for the next tensor of the same size.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc's malloc.h)
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024  # free memory kept before it is handed back to the OS
USER_MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


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
