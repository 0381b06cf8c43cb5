"""``python -m tools.inside_class``: a class in *Inside the network*, with dataset-size and with phone-size photos.

Starts ``python app.py`` of a checkout (``--tree``, default this one: pass an older checkout to compare
two versions on the same machine) with its shipped checkpoints, waits for Inside's warm-up, then for
each kind of photo runs ``tools.classroom.inside_class``: one student's clicks, ``--students`` students
clicking a pixel at once (U-Net, PSPNet and FPN ticked; ``gradio_client`` sends the photo with the
click), the same students clicking a pixel as the page asks (the photo sent and shown when chosen, the
click naming the server's copy), and as many asking each other view; then the same students hide a
region as the page asks, on photos no view has seen yet (each chosen and the hide view opened first). Every
student has a photo of their own: the bundled examples, each a step brighter, and the same enlarged to
a phone's 4032x3024 JPEG with a sensor's grain.
"""
import argparse
import json
import tempfile
from pathlib import Path

from segdemo.data.examples import BUNDLED
from tools.classroom import INSIDE_READY, distinct_photos, inside_class, logged_line, phone_photo
from tools.loadtest import free_port, start_app

MODELS = ("unet", "pspnet", "fpn")


def run(tree, students):
    """{"dataset": figures, "phone": figures} of ``inside_class`` against ``tree``'s app."""
    scratch = Path(tempfile.mkdtemp(prefix="inside-class-"))
    own = distinct_photos(sorted(BUNDLED.glob("*.jpg")), scratch, 2 * students)  # the second half for hiding
    phones = [phone_photo(photo, scratch, seed=index) for index, photo in enumerate(own)]
    port = free_port()
    process, _ = start_app(port, scratch / "app.log", cwd=tree, SEGDEMO_CHECKPOINTS=str(tree / "checkpoints"),
                           TMPDIR=str(scratch))
    try:
        logged_line(scratch / "app.log", INSIDE_READY, process)
        url = f"http://127.0.0.1:{port}/"
        return {kind: inside_class(url, photos[:students], MODELS, process.pid, (students,), students,
                                   hide_photos=photos[students:])
                for kind, photos in (("dataset", own), ("phone", phones))}
    finally:
        process.terminate()
        process.wait(timeout=30)


def summary(kind, figures):
    pixel, page_pixel = figures["pixel"][0], figures["page_pixel"]
    views = ", ".join(f"{view} p95 {burst['p95_ms'] / 1000:.2f} s ({burst['server_cpu_ms_per_answer']:.0f} ms CPU)"
                      for view, burst in figures["views"].items())
    return (f"{kind} photos: first click {figures['first_click_ms']:.0f} ms, alone p50 {figures['alone_ms']:.0f} ms; "
            f"{pixel['students']} at once: p50 {pixel['p50_ms'] / 1000:.2f} s, p95 {pixel['p95_ms'] / 1000:.2f} s, "
            f"{pixel['server_cpu_ms_per_answer']:.0f} ms of server CPU per click, {len(pixel['failures'])} failures; "
            f"as the page asks (photo sent and shown before the click): p95 {page_pixel['p95_ms'] / 1000:.2f} s "
            f"({page_pixel['server_cpu_ms_per_answer']:.0f} ms CPU, {len(page_pixel['failures'])} failures); {views}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.inside_class", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout whose app.py and checkpoints run (default: this one)")
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    results = run(args.tree.resolve(), args.students)
    for kind, figures in results.items():
        print(summary(kind, figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
