"""Get Stanford Background onto disk: download the official archive or unpack a local one.

An archive is unpacked once into the segdemo cache, in a folder named after its SHA-256,
and when a list of per-file SHA-256s (``iccv09Data.files.sha256``) lies beside it, every
file is checked against it before the folder is marked ready.
"""
import hashlib
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from segdemo.data.layout import DatasetError, list_ids
from segdemo.paths import SHARED, cache_dir

OFFICIAL_URL = "http://dags.stanford.edu/data/iccv09Data.tar.gz"
FOLDER_NAME = "iccv09Data"
SHARED_ARCHIVE = SHARED / "data" / f"{FOLDER_NAME}.tar.gz"
FILE_SUMS = f"{FOLDER_NAME}.files.sha256"
READY_MARK = ".segdemo-ready"


def fetched_root() -> Path:
    """Where ``python -m segdemo.data fetch`` unpacks by default."""
    return cache_dir() / "data" / FOLDER_NAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path) -> Path:
    """Stream ``url`` to ``target`` through a temporary file, so a broken download leaves nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkstemp(dir=target.parent, suffix=".partial")[1])
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DatasetError(f"could not download {url} ({error}); download it by hand and pass --archive") from None
    partial.replace(target)
    return target


def check_layout(root: Path) -> int:
    """Number of images, after checking each has its regions and surfaces labels."""
    ids = list_ids(root)
    for image_id in ids:
        for suffix in ("regions", "surfaces", "layers"):
            if not (root / "labels" / f"{image_id}.{suffix}.txt").exists():
                raise DatasetError(f"{root} is incomplete: labels/{image_id}.{suffix}.txt is missing")
    return len(ids)


def extract(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` under ``dest`` (refusing paths that escape it) and return the data root."""
    if not tarfile.is_tarfile(archive):
        raise DatasetError(f"{archive} is not a tar archive")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    root = dest / FOLDER_NAME
    if not root.is_dir():
        raise DatasetError(f"{archive} has no top-level {FOLDER_NAME}/ folder")
    return root


def verify_files(dest: Path, sums: Path):
    """Check every file listed in ``sums`` (``sha256  relative/path`` lines) under ``dest``."""
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        if name.startswith("*"):
            name = name[1:]
        path = dest / name
        if not path.is_file():
            raise DatasetError(f"the archive is incomplete: {name} is missing (listed in {sums.name})")
        if sha256_of(path) != expected:
            raise DatasetError(f"the archive is corrupt: {name} does not match its SHA-256 in {sums.name}")


def unpack_once(archive: Path) -> Path:
    """The data root unpacked from ``archive`` into the cache, unpacking and checking it the first time."""
    archive = Path(archive)
    dest = cache_dir() / "unpacked" / sha256_of(archive)[:16]
    root = dest / FOLDER_NAME
    if (dest / READY_MARK).exists():
        return root
    if dest.exists():
        shutil.rmtree(dest)  # an earlier unpack was interrupted
    print(f"unpacking {archive} into {dest} (once)", flush=True)
    try:
        extract(archive, dest)
        sums = archive.with_name(FILE_SUMS)
        if sums.exists():
            verify_files(dest, sums)
        check_layout(root)
    except (DatasetError, tarfile.TarError, OSError) as error:
        shutil.rmtree(dest, ignore_errors=True)
        raise DatasetError(f"{archive}: {error}") from None
    (dest / READY_MARK).write_text(f"{archive}\n")
    return root


def fetch(dest: Path, archive=None, url=OFFICIAL_URL, expected_sha256=None) -> Path:
    """A ready data root under ``dest``: from ``archive`` if given, else downloaded from ``url``.

    ``archive`` may also be an already extracted folder, which is only checked.
    """
    dest = Path(dest)
    if archive is not None and Path(archive).is_dir():
        root = Path(archive)
    else:
        if archive is None:
            archive = dest / f"{FOLDER_NAME}.tar.gz"
            if not archive.exists():
                print(f"downloading {url} -> {archive}")
                download(url, archive)
        archive = Path(archive)
        if not archive.exists():
            raise DatasetError(f"archive {archive} does not exist")
        digest = sha256_of(archive)
        print(f"sha256 {digest}  {archive}")
        if expected_sha256 and digest != expected_sha256.lower():
            raise DatasetError(f"{archive} has sha256 {digest}, expected {expected_sha256}")
        root = extract(archive, dest)
    count = check_layout(root)
    print(f"{root}: {count} images with regions, surfaces and layers labels")
    return root
