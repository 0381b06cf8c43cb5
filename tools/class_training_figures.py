"""The Train tab's figures, measured through a served app as a class would meet them.

    python -m tools.class_training_figures                    # the tab's default run, shipped checkpoints
    python -m tools.class_training_figures --photos 64 --epochs 2

Starts ``python app.py`` on a free loopback port, times ``/predict`` (U-Net, a bundled validation
photo, one request after another) with no run going on, presses Train through the API with the
tab's defaults (or the given settings) and waits, sending nothing, until the mask after epoch 1 is
written; then, while the run goes on, times ``/predict`` again with ``--gap`` seconds between
requests (a class pressing Segment now and then; back-to-back requests would keep both cores and
starve the low-priority training).  Reports when the first masks were written (before training,
after epoch 1), the run's pace, its best validation mIoU and the ``python -m segdemo.networks.train`` command
that reproduces it.  The page shows a mask at its next poll of the run (every ``ui.train.POLL_S``
seconds).  Pause other training on the machine first: it shares the cores being measured.
"""
import argparse
import json
import os
import shlex
import tempfile
import time
from pathlib import Path

import numpy as np

from segdemo.data.examples import BUNDLED
from segdemo.serving.class_training import RunSettings
from tools.loadtest import QUIET, free_port, start_app


def timed_predictions(client, photo, model, keep_going, gap_s=0.0):
    """Latencies (s) of /predict, one after another ``gap_s`` apart, while ``keep_going()``."""
    from gradio_client import handle_file

    latencies = []
    while keep_going():
        started = time.perf_counter()
        client.predict(handle_file(str(photo)), model, 0.55, api_name="/predict")
        latencies.append(time.perf_counter() - started)
        time.sleep(gap_s)
    return latencies


def percentiles(latencies):
    return {"requests": len(latencies), "p50_ms": round(1000 * float(np.percentile(latencies, 50))),
            "p95_ms": round(1000 * float(np.percentile(latencies, 95)))}


def main(argv=None):
    os.environ.update(QUIET)  # before gradio is first imported (next line): its client talks to the served app only
    from segdemo.ui.train import SIZES

    defaults = RunSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default=str(Path(__file__).resolve().parents[1] / "checkpoints"))
    parser.add_argument("--arch", default=defaults.arch)
    parser.add_argument("--loss", default=defaults.loss)
    parser.add_argument("--scratch", action="store_true", help="encoder from scratch instead of ImageNet")
    parser.add_argument("--photos", type=int, default=defaults.photos)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--size", default=SIZES[0], choices=SIZES)
    parser.add_argument("--idle-requests", type=int, default=20, help="/predict requests timed with no run going on")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between /predict requests during the run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from gradio_client import Client

    photo = sorted(BUNDLED.glob("*.jpg"))[0]
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="segdemo-figures-")) / "app.log"
    process, startup_s = start_app(port, log, SEGDEMO_CHECKPOINTS=args.checkpoints)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        timed_predictions(client, photo, "unet", iter([True, False]).__next__)  # the first request fills caches
        count = iter(range(args.idle_requests))
        idle = timed_predictions(client, photo, "unet", lambda: next(count, None) is not None)
        pressed = time.time()
        client.predict(args.arch, args.loss, "scratch" if args.scratch else "imagenet", args.photos, args.epochs,
                       args.size, "stanford", api_name="/train")

        def progress():
            return client.predict(api_name="/train_progress")

        while progress()["status"] in ("starting", "training") and "1" not in progress()["snapshot_times_s"]:
            time.sleep(0.5)
        during = timed_predictions(client, photo, "unet", lambda: progress()["status"] in ("starting", "training"),
                                   args.gap)
        final = progress()
    finally:
        process.terminate()
        process.wait(timeout=30)
    times = {int(epoch): seconds for epoch, seconds in final["snapshot_times_s"].items()}
    figures = {
        "settings": {key: value for key, value in vars(args).items() if key != "json"}, "status": final["status"], "run_seconds": final["elapsed_s"],
        "api_call_to_run_start_s": round(final["started"] - pressed, 1),
        "first_mask_s": {"before_training": times.get(0), "after_epoch_1": times.get(1)},
        "images_per_s": final["images_per_s"], "best_val_miou": final["best_val_miou"],
        "epochs": [{key: round(value, 4) for key, value in epoch.items() if key.startswith(("val_", "epoch"))}
                   for epoch in final["epochs"]],
        "predict_idle": percentiles(idle), "predict_during_run": percentiles(during),
        "command": "python -m segdemo.networks.train " + shlex.join(final["train_arguments"]),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
