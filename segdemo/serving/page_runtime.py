"""What a page needs to run a network itself (the Live tab): LiteRT.js and the page networks, served by the app.

Nothing comes from another origin: a classroom network may have no internet.  The WebAssembly
files go out gzip-compressed from the copies ``tools.vendor_web`` keeps beside them (Gradio's
Brotli middleware compresses text types only, and compressing 9 MB for each phone would cost the
server over a second of CPU each time).  Every response carries the headers that make the page
cross-origin isolated, which LiteRT.js's threaded WebAssembly needs; ``credentialless`` rather
than ``require-corp``, so anything Gradio's page fetches from elsewhere while online still loads.
"""
from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from segdemo.networks.checkpoint import read_record
from segdemo.networks.models import weights_digest
from segdemo.paths import ASSETS

WEB_ROOT = ASSETS / "web"
RUNTIME_PREFIX = "/segdemo-web/"
MODELS_PREFIX = "/segdemo-models/"
PAGE_NETWORK_FILE = "page.tflite"  # written by python -m segdemo.serving.export --page
PAGE_RECORD_FILE = "page.json"
RUNTIME_CACHE = "public, max-age=86400"  # a day, then revalidated by ETag (unchanged: 304, no body)
MODEL_CACHE = "no-cache"  # always revalidated: a re-export keeps the same address
TYPES = {".js": "text/javascript", ".wasm": "application/wasm", ".tflite": "application/octet-stream"}
# the resource policy lets a page isolated with require-corp embed the app: huggingface.co's page around a Space,
# isolated by the README front matter's custom_headers
ISOLATION = [(b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-embedder-policy", b"credentialless"),
             (b"cross-origin-resource-policy", b"cross-origin")]


class CrossOriginIsolation:
    """ASGI middleware adding the cross-origin isolation headers to every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def isolated(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ISOLATION]
            await send(message)

        await self.app(scope, receive, isolated)


def page_network(folder):
    """The checkpoint's page network, or None when it has none or it was made from other weights."""
    path = Path(folder, PAGE_NETWORK_FILE)
    record = read_record(folder, PAGE_RECORD_FILE) or {}
    return path if path.exists() and record.get("weights_sha256") == weights_digest(folder) else None


class PageNetworks:
    """The page networks the app serves, by model name: only those the Live tab offers."""

    def __init__(self):
        self.files = {}

    def offer(self, name, folder):
        """The address the page fetches ``name``'s network from, or None when it has none."""
        path = page_network(folder)
        if path is None:
            return None
        self.files[name] = path
        return f"{MODELS_PREFIX.lstrip('/')}{name}.tflite"  # relative: the page may sit under a path prefix


SERVED = PageNetworks()


def send_file(request, path, cache_control, encoding=None):
    """``path`` with its type, an ETag and ``cache_control``; 304 when the browser holds this version."""
    stat = path.stat()
    tag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = {"cache-control": cache_control, "etag": tag, "vary": "accept-encoding"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if encoding:
        headers["content-encoding"] = encoding
    suffix = Path(path.name.removesuffix(".gz")).suffix
    return FileResponse(path, media_type=TYPES.get(suffix), headers=headers)


async def runtime_file(request):
    """A file of ``segdemo/assets/web`` (the page's scripts and the vendored LiteRT.js), compressed when stored so."""
    path = (WEB_ROOT / request.path_params["path"]).resolve()
    if not path.is_relative_to(WEB_ROOT) or not path.is_file() or path.suffix == ".gz":
        return Response(status_code=404)
    compressed = path.with_name(path.name + ".gz")
    if compressed.is_file() and "gzip" in request.headers.get("accept-encoding", ""):
        return send_file(request, compressed, RUNTIME_CACHE, "gzip")
    return send_file(request, path, RUNTIME_CACHE)


async def model_file(request):
    path = SERVED.files.get(request.path_params["name"])
    return send_file(request, path, MODEL_CACHE) if path else Response(status_code=404)


def app_options():
    """Gradio's ``launch(app_kwargs=...)``: the routes above and the isolation headers."""
    return {"routes": [Route(RUNTIME_PREFIX + "{path:path}", runtime_file),
                       Route(MODELS_PREFIX + "{name}.tflite", model_file)],
            "middleware": [Middleware(CrossOriginIsolation)]}
