"""Keep the server's memory from creeping up under bursts of requests (glibc's allocator).

Each request thread that allocates gets a glibc arena of its own (up to 8 per core), and the
threshold above which blocks are mapped straight from the system rises with the largest block
freed, so the decoded photos and pictures of a class end up in arenas that are never given
back.  Two arenas, a fixed threshold and a trim when the app falls idle keep RSS flat.
Elsewhere than glibc these calls are skipped.
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
ARENAS = 2
MAPPED_FROM_BYTES = 1 << 20  # blocks this large or larger go straight to the system and back
TRIM_FROM_BYTES = 16 << 20


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


LIBC = _libc()


def limit_allocator():
    """Fewer arenas and a fixed mapping threshold; True when glibc took them."""
    if LIBC is None:
        return False
    return all(LIBC.mallopt(option, value) == 1 for option, value in
               ((M_ARENA_MAX, ARENAS), (M_MMAP_THRESHOLD, MAPPED_FROM_BYTES), (M_TRIM_THRESHOLD, TRIM_FROM_BYTES)))


def give_back_freed_memory():
    """Return the free pages at the top of and inside every arena to the system."""
    if LIBC is not None:
        LIBC.malloc_trim(0)
