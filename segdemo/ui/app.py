"""Assemble the dashboard and launch it as Hugging Face Spaces expects (0.0.0.0:7860), or over
HTTPS for a classroom's phones (``python app.py --https``)."""
import argparse
import os

import gradio as gr

from segdemo.data import DatasetError
from segdemo.data.view import open_dataset_view
from segdemo.serving import page_runtime
from segdemo.serving.addresses import is_loopback, local_addresses
from segdemo.serving.registry import ModelRegistry
from segdemo.ui import architectures, compare, curves, dataset, errors, inside, join, label, learn, live, predict, train
from segdemo.ui.capacity import WAITING_LIMIT, Capacity, start_queue
from segdemo.ui.common import availability_markdown
from segdemo.ui.tab import Page, tab_element_id
from segdemo.ui.text import I18N, t

MAX_UPLOAD = "25mb"
# Gradio's cache (uploads, and every picture the app writes, which it writes there): every
# CACHE_SWEEP_S, files older than CACHE_AGE_S go, so a day of classes does not fill the disk
CACHE_SWEEP_S = int(os.environ.get("SEGDEMO_CACHE_SWEEP_S", 300))
CACHE_AGE_S = int(os.environ.get("SEGDEMO_CACHE_AGE_S", 3600))
# The page's shared rules (a tab's own rules are in its module's CSS): on a phone the wide text tables
# (Architectures, Learn) scroll sideways rather than squeezing words into letters
CSS = """
.segdemo-legend td { padding: 2px 8px; }
.segdemo-keys { display: flex; flex-wrap: wrap; gap: 4px 24px; }
/* score tables (ui.common.score_table): the first column stays while the rest scroll sideways
   (Gradio's pinned_columns pins nothing in 6.31), and headers wrap between words, not inside them */
.segdemo-table .virtual-row > .body-cell:first-child, .segdemo-table th.header-cell:first-child {
  position: sticky; left: 0; z-index: 2; background: var(--block-background-fill);
  box-shadow: 1px 0 0 var(--border-color-primary); }
.segdemo-table span.text { word-break: normal; overflow-wrap: normal; }
/* Japanese headers break between any two characters: an empty score column (a photo with no
   truth) had squeezed its header to one character per line; short English ones ("classes") stay whole */
.segdemo-table th.header-cell { min-width: 4em; }
@media (max-width: 640px) {
  .segdemo-wide-table table { display: block; overflow-x: auto; }
  .segdemo-wide-table td, .segdemo-wide-table th { min-width: 9em; }
}
.segdemo-camera-help { display: none; }
/* a failed request is explained once, in its message; not by an "Error" badge over every output */
.wrap:has(> span.error) { display: none; }
/* Learn's formulas read from the back of a room: KaTeX at 1.5 times the text (21 px), fractions in display size (issue 33: they were 7-8 px tall) */
/* contrast (axe-core, WCAG AA 4.5:1): white on Gradio's orange primary was 2.8, its grey hints 1.9 */
.gradio-container { --button-primary-background-fill: #c2410c; --button-primary-background-fill-hover: #9a3412;
  --button-primary-text-color: #ffffff; --body-text-color-subdued: #595963; }
.gradio-container .or, .gradio-container footer, .gradio-container footer a, .gradio-container footer button,
.gradio-container .info-text, .gradio-container [data-testid='min-value'], .gradio-container [data-testid='max-value'] { color: #595963; }
/* a dropdown's list shows only while the dropdown has the focus: reached by Tab, it opened, and stayed
   open over the page once the keyboard had moved on */
.gradio-container .wrap:not(:focus-within) > .options { display: none; }
.segdemo-formulas .katex { font-size: 1.5em; }
/* Training curves: the charts' one key, a line per model, in the page's text size */
.segdemo-model-key { display: flex; flex-wrap: wrap; gap: 6px 28px; font-size: 16px; }
.segdemo-model-key-item { white-space: nowrap; }
.segdemo-model-key-item:first-child { white-space: normal; flex-basis: 100%; }  /* what solid and dashed mean */
.segdemo-formulas td, .segdemo-formulas th { vertical-align: middle; }
/* on a phone each metric is a card (name, formula, how it reads, what to watch out for): four columns
   had scrolled sideways, the formulas cut at the screen's edge */
@media (max-width: 640px) {
  .segdemo-formulas table, .segdemo-formulas tbody, .segdemo-formulas tr, .segdemo-formulas td {
    display: block; min-width: 0; width: auto; overflow: visible; }
  .segdemo-formulas thead { display: none; }
  .segdemo-formulas tr { border: 1px solid var(--border-color-primary); margin-bottom: 10px; padding: 4px 8px; }
  .segdemo-formulas td { border: none; padding: 2px 0; }
  .segdemo-formulas td:nth-child(4)::before { content: "⚠ "; }
}
/* ui.common.CAPTIONS_BELOW: 4:3 pictures (the dataset's shape), each caption under
   its picture in the page's text size */
.segdemo-captions-below .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
.segdemo-captions-below .thumbnail-item > img { aspect-ratio: 4 / 3; width: 100%; height: auto; flex: none; }
/* the gallery's own label on a line of its own: floated, it covered the first picture's top-left corner */
.segdemo-captions-below [data-testid='block-label'] { position: static; display: inline-flex; margin: 0 0 4px; }
.segdemo-captions-below .caption-label { position: static; white-space: normal; overflow: visible; text-overflow: clip;
  max-width: 100%; transform: none; font-size: 14px; }
/* ui.common.PHONE_STACK: one column on a phone, held to the screen's width (Gradio sets a column's min-width
   inline; wrapped, the column took the width of its widest table) */
@media (max-width: 640px) {
  .segdemo-phone-stack { flex-direction: column; flex-wrap: nowrap; align-items: stretch; }
  .segdemo-phone-stack > * { min-width: 0 !important; }
  .segdemo-phone-unwrap { display: contents; }
  .segdemo-phone-unwrap > :is(.segdemo-phone-later, :has(.segdemo-phone-later)) { order: 1; }
}
"""
# Runs in the page's <head>: shows the notices saying why the camera is blocked and what to do
# where the browser will refuse it (plain HTTP from another device); on a Japanese page,
# translates the few words Gradio writes without its translation system (the webcam button,
# the titles of its message boxes).
HEAD = """
<script>
// Names and roles Gradio's own components leave out (axe-core: button-name, aria-prohibited-attr):
// an example thumbnail or a selectable picture is a button without a name, an empty picture box a
// div with an aria-label but no role. Looked at again whenever the page changes.
(() => {
  const label = (element) => element.closest(".block")?.querySelector("[data-testid='block-label'], .label")?.textContent.trim();
  const fix = () => {
    document.querySelectorAll(".gallery-item").forEach((button, index) => {  // again once its picture has come
      const file = (button.querySelector("img")?.getAttribute("src") || "").split("/").pop().replace(/\\.[a-z]+$/i, "");
      const all = [...button.parentElement.children].indexOf(button);
      const name = `${label(button) || "example"} ${(all >= 0 ? all : index) + 1}${file ? ": " + file : ""}`;
      if (button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
    });
    document.querySelectorAll(".image-container > button:not([aria-label])").forEach((button) => {
      button.setAttribute("aria-label", label(button) || button.querySelector("img")?.alt || "picture");
    });
    document.querySelectorAll("div.empty[aria-label]:not([role])").forEach((box) => box.setAttribute("role", "img"));
    // a region that scrolls sideways (a wide table on a phone) must hold the keyboard's focus to be scrolled by
    // it: a Markdown table takes it itself; a Dataframe's scroller has role "none" inside its grid (focusable,
    // it would lose that role), so its first header cell takes it
    const scrolls = (region) => region.scrollWidth > region.clientWidth + 1 || region.scrollHeight > region.clientHeight + 1;
    document.querySelectorAll(".segdemo-wide-table:not([tabindex]), .segdemo-wide-table table:not([tabindex])").forEach((region) => {
      if (scrolls(region)) region.setAttribute("tabindex", "0");
    });
    document.querySelectorAll(".virtual-table-viewport").forEach((region) => {
      const cell = region.querySelector("th, td");
      if (cell && scrolls(region) && !region.querySelector("[tabindex='0']")) cell.setAttribute("tabindex", "0");
    });
  };
  window.addEventListener("resize", () => fix());
  let queued = false;
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fix(); }); } })
    .observe(document.documentElement, {childList: true, subtree: true});
  // one message at a time: pressing an action button closes the messages of earlier ones (a refused
  // upload, then Segment on the empty box, had stacked two errors)
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("button.primary")) {
      document.querySelectorAll("[data-testid='toast-close']").forEach((close) => close.click());
    }
  }, true);
})();
</script>
<script>
(() => {
  if (!window.isSecureContext || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    const style = document.createElement("style");  // not scoped to the app, unlike launch(css=...)
    style.textContent = ".segdemo-camera-help { display: block !important; border-left: 4px solid #d97706; padding-left: 10px; }";
    document.head.appendChild(style);
  }
  if (!(navigator.language || "").toLowerCase().startsWith("ja")) return;
  const webcam = ["Click to Access Webcam", "クリックして Web カメラを使う"];
  const titles = {Error: "エラー", Warning: "注意", Info: "お知らせ", Success: "完了"};
  // Gradio's refusal of an upload over the app's limit (ui.app.MAX_UPLOAD), checked in the browser
  const tooLarge = /File\(s\) exceed the maximum allowed size of ([\d.]+) ?Mb:? ?(.*)/;
  const translateText = (text) => {
    if (text.nodeValue.includes(webcam[0])) text.nodeValue = text.nodeValue.replace(webcam[0], webcam[1]);
    const refused = text.nodeValue.match(tooLarge);
    if (refused) text.nodeValue = `ファイルが大きすぎます(上限 ${refused[1]} MB)${refused[2] ? ": " + refused[2] : ""}。${refused[1]} MB 以下の写真を選んでください。`;
    const word = text.nodeValue.trim();
    if (titles[word] && text.parentElement && text.parentElement.closest(".toast-title")) {
      text.nodeValue = text.nodeValue.replace(word, titles[word]);
    }
  };
  const translate = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return translateText(node);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) translateText(text);
  };
  new MutationObserver((changes) => changes.forEach((change) =>
    change.type === "characterData" ? translate(change.target) : change.addedNodes.forEach(translate)))
    .observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>
"""
# the page's tabs in order (each module: ID and build(page)); Dataset comes after Predict, whose photo box it uses
TABS = (predict, compare, live, dataset, label, curves, train, errors, learn, architectures, inside)
PANELS = (join,)  # above the tabs
CSS += "".join(module.CSS for module in (*PANELS, *TABS) if hasattr(module, "CSS"))  # each tab's own rules


def dataset_or_none():
    """The dataset for the Dataset and Error-analysis tabs; None (the tabs say why) when absent."""
    try:
        return open_dataset_view()
    except DatasetError as error:
        print(f"segdemo: the Dataset tab is off: {error}", flush=True)
        return None


def build_demo(registry=None, view=None):
    """The page: the intro, the Join panel, then every tab of ``TABS`` in order, each built on the
    same ``Page`` and filled in the visitor's language when the page loads."""
    page = Page(registry or ModelRegistry(), Capacity(), view or dataset_or_none())
    with gr.Blocks(title="segdemo", delete_cache=(CACHE_SWEEP_S, CACHE_AGE_S)) as demo:
        gr.Markdown("# segdemo")
        gr.Markdown(t("intro"))
        for line in availability_markdown(page.registry):
            gr.Markdown(line)
        for panel in PANELS:
            page.built[panel.ID] = panel.build(page)
        with gr.Tabs(overflow_behavior="wrap") as page.tabs:  # every tab visible on a phone too
            for tab in TABS:
                with gr.Tab(t(f"tab.{tab.ID}"), id=tab.ID, elem_id=tab_element_id(tab.ID)):
                    page.built[tab.ID] = tab.build(page)
        for built in page.built.values():
            for hook in built.on_load:
                demo.load(hook.function, hook.inputs, hook.outputs, api_name=False)
    start_queue(demo)
    return demo


def https_options():
    """Gradio's launch options for HTTPS with the classroom certificate (made on first start).

    Gradio checks that it serves by fetching its own page, which a self-signed certificate
    would fail: hence ``ssl_verify=False`` (browsers still show their warning).
    """
    from segdemo.serving.certificate import classroom_certificate

    certificate, key = classroom_certificate(local_addresses())
    return {"ssl_certfile": certificate, "ssl_keyfile": key, "ssl_verify": False}


def launch(demo, port=None, host=None, https=False, **kwargs):
    """Start serving; only the app's own assets and Gradio's upload cache are reachable."""
    host = host or os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0")
    port = int(port or os.environ.get("GRADIO_SERVER_PORT", 7860))
    if https:
        kwargs.update(https_options())
    if host in ("0.0.0.0", "::") or not is_loopback(host):  # listening on the network, where phones are
        for address in local_addresses():
            print(f"segdemo: phones on this network open {'https' if https else 'http'}://{address}:{port}/", flush=True)
    return demo.launch(
        server_name=host,
        server_port=port,
        max_file_size=MAX_UPLOAD,
        i18n=I18N,
        css=CSS,
        head=HEAD,
        show_error=True,
        max_threads=WAITING_LIMIT + 40,  # those waiting at the Predict/Compare gate, and Gradio's usual 40
        app_kwargs=page_runtime.app_options(),  # the Live tab's in-page runtime and networks; cross-origin isolated
        **kwargs,
    )


def command_line(argv=None):
    """``python app.py [--https] [--port N] [--host ADDRESS]``."""
    parser = argparse.ArgumentParser(description="Serve the segdemo dashboard.")
    parser.add_argument("--https", action="store_true",
                        help="serve over HTTPS with a self-signed certificate kept in the segdemo cache, so phones "
                             "on the room's network may use their cameras (each shows a certificate warning once)")
    parser.add_argument("--port", type=int, help="port (default $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--host", help="address to listen on (default $GRADIO_SERVER_NAME or 0.0.0.0: every network)")
    return parser.parse_args(argv)

