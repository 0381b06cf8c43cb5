"""Store one file's bytes as parts of at most ``PART_BYTES`` each, and read them back checked.

Hugging Face Spaces refuses a git push holding any file over 10 MB unless it is in Git LFS,
and a U-Net's float16 weights alone are about 15 MB.  A file small enough is written as it
is; a larger one becomes ``NAME.part1``, ``NAME.part2``, ... beside a ``NAME.parts.json``
manifest with every part's size and SHA-256 and the whole file's, so a missing, stale or
damaged part is named instead of producing wrong weights.
"""
import hashlib
import json
import os
from pathlib import Path

PART_BYTES = 9 * 2**20  # under the 10 MB limit with room to spare


class ShardError(RuntimeError):
    """A part is missing, damaged, or does not belong to the manifest."""


def manifest_path(path):
    return Path(f"{path}.parts.json")


def stored_files(path):
    """Every file on disk that holds ``path``'s bytes: the file itself, or its manifest and parts."""
    path = Path(path)
    return sorted(p for p in path.parent.glob(f"{path.name}*")
                  if p == path or p == manifest_path(path) or p.name.startswith(f"{path.name}.part"))


def replace_whole(path, data: bytes):
    """Write ``data`` as ``path`` so that a reader, or a process killed mid-write (a class run
    stopped while it saves its best epoch), finds the old file or the new one, never part of one."""
    writing = path.with_name(f".{path.name}.writing")  # not matched by stored_files: never mistaken for weights
    writing.write_bytes(data)
    os.replace(writing, path)


def write(path, data: bytes, part_bytes=None):
    """Write ``data`` as ``path``, or as parts and a manifest when it is larger than ``part_bytes``;
    the files of an earlier version go only once the new ones are in place."""
    path, part_bytes = Path(path), part_bytes or PART_BYTES
    earlier = set(stored_files(path))
    if len(data) <= part_bytes:
        replace_whole(path, data)
        written = [path]
    else:
        parts = []
        for number, start in enumerate(range(0, len(data), part_bytes), start=1):
            chunk = data[start:start + part_bytes]
            part = path.with_name(f"{path.name}.part{number}")
            replace_whole(part, chunk)
            parts.append({"name": part.name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
        manifest = {"file": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "parts": parts}
        replace_whole(manifest_path(path), (json.dumps(manifest, indent=1) + "\n").encode())
        written = [path.with_name(part["name"]) for part in parts] + [manifest_path(path)]  # a whole file from before goes
    for stale in earlier - set(written):
        stale.unlink()
    return written


def read(path) -> bytes:
    """``path``'s bytes, from the file itself or reassembled from its parts; FileNotFoundError if neither."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    manifest_file = manifest_path(path)
    if not manifest_file.exists():
        raise FileNotFoundError(path)
    try:
        manifest = json.loads(manifest_file.read_text())
        listed = manifest["parts"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ShardError(f"{manifest_file.name} is not a parts manifest") from None
    chunks = []
    for part in listed:
        part_path = path.with_name(part["name"])
        if not part_path.exists():
            raise ShardError(f"{part['name']} is missing ({len(listed)} parts listed in {manifest_file.name})")
        chunk = part_path.read_bytes()
        if len(chunk) != part["bytes"] or hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise ShardError(f"{part['name']} does not match its size and SHA-256 in {manifest_file.name}")
        chunks.append(chunk)
    data = b"".join(chunks)
    if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
        raise ShardError(f"the parts of {path.name} do not add up to the file {manifest_file.name} describes")
    return data
