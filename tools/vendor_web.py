"""``python -m tools.vendor_web``: fetch the in-page runtime (LiteRT.js) from npm into the repository.

The Live tab runs its network in the page (``segdemo/assets/web/live.js``), and a classroom
network may have no internet, so the app serves the runtime itself from
``segdemo/assets/web/vendor/``.  This command reproduces those files: ``npm pack`` fetches each
pinned package (npm checks its sha512 against the registry's), the files the page loads are
copied out, and ``vendor.json`` records every file's SHA-256 (``tests/test_live_page.py`` checks
the files against it, and that none exceeds the Spaces' 10 MB).  Each WebAssembly file also gets
a gzip copy (``.wasm.gz``, made without a time stamp, so it reproduces byte for byte), which
the app sends to browsers that accept gzip (``segdemo.serving.page_runtime``).  ``--check`` fetches again and
fails when a vendored file differs from what npm gives.

One change to the published files: ``@litertjs/core`` imports ``@litertjs/wasm-utils`` by its
package name, which a browser cannot resolve without a bundler or an import map (a Gradio page
loads its own modules before ours could declare one), so that one import is pointed at the
vendored copy's relative path.
"""
import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from segdemo.paths import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "segdemo" / "assets" / "web" / "vendor"
MANIFEST = VENDOR / "vendor.json"
LICENCE = Path("/usr/share/common-licenses/Apache-2.0")  # the packages name Apache-2.0 but ship no text
# package -> (version, {file in the package: file under VENDOR})
PACKAGES = {
    "@litertjs/core": ("2.5.3", {
        "package/dist/index.js": "litertjs/core.js",
        # relaxed SIMD and threads (a cross-origin isolated page), relaxed SIMD alone, and neither
        "package/wasm/litert_wasm_threaded_internal.js": "litertjs/wasm/litert_wasm_threaded_internal.js",
        "package/wasm/litert_wasm_threaded_internal.wasm": "litertjs/wasm/litert_wasm_threaded_internal.wasm",
        "package/wasm/litert_wasm_internal.js": "litertjs/wasm/litert_wasm_internal.js",
        "package/wasm/litert_wasm_internal.wasm": "litertjs/wasm/litert_wasm_internal.wasm",
        "package/wasm/litert_wasm_compat_internal.js": "litertjs/wasm/litert_wasm_compat_internal.js",
        "package/wasm/litert_wasm_compat_internal.wasm": "litertjs/wasm/litert_wasm_compat_internal.wasm",
    }),
    "@litertjs/wasm-utils": ("2.5.3", {"package/dist/index.js": "litertjs/wasm-utils.js"}),
}
IMPORT_REWRITE = ("litertjs/core.js", 'from "@litertjs/wasm-utils"', 'from "./wasm-utils.js"')


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch(name, version, folder):
    """The package's tarball from npm (``npm pack`` verifies its integrity) and that integrity."""
    answer = subprocess.run(["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(folder)],
                            check=True, capture_output=True, text=True, cwd=folder)
    packed = json.loads(answer.stdout)[0]
    return Path(folder, packed["filename"]), packed["integrity"]


def unpack(destination):
    """Write every vendored file under ``destination``; return the manifest describing them."""
    manifest = {"packages": {}, "files": {}, "rewritten": {IMPORT_REWRITE[0]: f"{IMPORT_REWRITE[1]} -> {IMPORT_REWRITE[2]}"}}
    with tempfile.TemporaryDirectory(prefix="segdemo-npm-") as work:
        for name, (version, files) in PACKAGES.items():
            tarball, integrity = fetch(name, version, work)
            manifest["packages"][name] = {"version": version, "licence": "Apache-2.0", "npm_integrity": integrity}
            with tarfile.open(tarball) as archive:
                for inside, target in files.items():
                    path = Path(destination, target)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.extractfile(inside).read())
    target, published, local = IMPORT_REWRITE
    path = Path(destination, target)
    text = path.read_text()
    if text.count(published) != 1:
        raise SystemExit(f"{target}: expected one '{published}', found {text.count(published)}; update IMPORT_REWRITE")
    path.write_text(text.replace(published, local))
    shutil.copyfile(LICENCE, Path(destination, "litertjs", "LICENSE"))
    for path in Path(destination).rglob("*.wasm"):
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
    for path in sorted(Path(destination).rglob("*")):
        if path.is_file() and path.name != MANIFEST.name:
            manifest["files"][path.relative_to(destination).as_posix()] = {"sha256": sha256(path), "bytes": path.stat().st_size}
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.vendor_web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fetch again and compare with the vendored files; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="segdemo-vendor-") as fresh:
            manifest = unpack(fresh)
        stored = json.loads(MANIFEST.read_text())
        differ = sorted(name for name in manifest["files"].keys() | stored["files"].keys()
                        if manifest["files"].get(name) != stored["files"].get(name))
        for name in differ:
            print(f"differs from npm: {name}", file=sys.stderr)
        print("vendored files match npm" if not differ else f"{len(differ)} file(s) differ")
        return 1 if differ else 0
    shutil.rmtree(VENDOR, ignore_errors=True)
    manifest = unpack(VENDOR)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    print(f"{len(manifest['files'])} files, {total / 1e6:.1f} MB, in {VENDOR.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
