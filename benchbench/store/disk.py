"""What to tell the user when the disk refused a store's write."""

from __future__ import annotations

FULL = ("No space left", "Disk quota", "File too large")
READ_ONLY = ("Read-only file system", "Permission denied")


def write_hint(msg: str) -> str:
    """What to do when DuckDB could not write (its errors carry the OS's words, not an errno)."""
    if any(w in msg for w in FULL):
        return "; the write was rolled back and every earlier run is kept: free some space, then run it again"
    if any(w in msg for w in READ_ONLY):
        return "; nothing was written: point --history-db at a writable place, or fix its permissions"
    return ""
