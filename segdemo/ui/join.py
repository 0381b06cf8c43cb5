"""The teacher's Join panel: the address phones should open, as text and a QR code, and what
students will see on the way (the certificate warning over HTTPS, no camera over plain HTTP)."""
import html

import gradio as gr
import segno

from segdemo.serving.addresses import join_urls
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, t

ID = "join"
CSS = """  /* the address cards side by side; on a phone the panel goes under the tabs */
.segdemo-join { display: flex; flex-wrap: wrap; gap: 16px; }
.segdemo-join-card { margin: 0; text-align: center; font-size: 1.4em; }
.segdemo-join-card svg { width: 260px; height: 260px; }
/* a phone's first screen is the students': the teacher's Join panel goes under the tabs */
@media (max-width: 640px) { #join-panel { order: 1; } }
"""


def scheme_of(request):
    """"https" or "http" as the browser sees it, also behind a proxy that ends HTTPS (Spaces)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.url.scheme


def qr_svg(url):
    """A QR code of ``url`` as inline SVG, big enough to scan from the back of a classroom."""
    return segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff")


def join_html(request, language="en"):
    """The addresses (each with its QR code) and what students will see, for the page at ``request``."""
    scheme = scheme_of(request)
    urls = join_urls(scheme, request.headers.get("host", ""))
    if not urls:
        return f"<p>{html.escape(say(language, 'join.no_address'))}</p>"
    cards = "".join(
        f"<figure class='segdemo-join-card'>{qr_svg(url)}<figcaption><a href='{html.escape(url)}'>{html.escape(url)}</a>"
        f"</figcaption></figure>" for url in urls)
    advice = say(language, "join.https_warning" if scheme == "https" else "join.http_no_camera")  # HTML, not Markdown
    return f"<div class='segdemo-join'>{cards}</div><p>{advice}</p>"


def build(page: Page) -> Built:
    """The panel (closed: the teacher opens it on the projector), filled on page load."""
    with gr.Accordion(t("join.title"), open=False, elem_id="join-panel"):
        panel = gr.HTML()

    def fill(request: gr.Request):
        return join_html(request, language_of(request))

    return Built().fill_on_load(fill, [panel])
