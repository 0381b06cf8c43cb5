"""The Train tab's figures, measured through a served app as a class would meet them.

    python scripts/class_training_figures.py                    # the tab's default run, shipped checkpoints
    python scripts/class_training_figures.py --photos 64 --epochs 2

Starts ``python app.py`` on a free loopback port, times ``/predict`` (U-Net, a bundled validation
photo, one request after another) with no run going on, presses Train through the API with the
tab's defaults (or the given settings), times ``/predict`` again the same way while the run goes
on, and reports when the run's first masks were written (before training, after epoch 1), its
pace, its best validation mIoU and the ``python -m segdemo.train`` command that reproduces it.
The page shows a mask at the next poll of the run (every ``ui.train.POLL_S`` seconds) after it is
written.  Pause other training on the machine first: it shares the cores being measured.
"""
import argparse
import json
import shlex
import tempfile
import time
from pathlib import Path

import numpy as np

from segdemo.class_training import RunSettings
from segdemo.examples import BUNDLED
from segdemo.loadtest import free_port, start_app
from segdemo.ui.train import SIZES


def timed_predictions(client, photo, model, keep_going):
    """Latencies (s) of /predict, one after another, while ``keep_going()``."""
    from gradio_client import handle_file

    latencies = []
    while keep_going():
        started = time.perf_counter()
        client.predict(handle_file(str(photo)), model, 0.55, api_name="/predict")
        latencies.append(time.perf_counter() - started)
    return latencies


def percentiles(latencies):
    return {"requests": len(latencies), "p50_ms": round(1000 * float(np.percentile(latencies, 50))),
            "p95_ms": round(1000 * float(np.percentile(latencies, 95)))}


def main(argv=None):
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
                       args.size, api_name="/train")

        def running():
            return client.predict(api_name="/train_progress")["status"] in ("starting", "training")

        during = timed_predictions(client, photo, "unet", running)
        progress = client.predict(api_name="/train_progress")
    finally:
        process.terminate()
        process.wait(timeout=30)
    times = {int(epoch): seconds for epoch, seconds in progress["snapshot_times_s"].items()}
    figures = {
        "settings": vars(args), "status": progress["status"], "run_seconds": progress["elapsed_s"],
        "api_call_to_run_start_s": round(progress["started"] - pressed, 1),
        "first_mask_s": {"before_training": times.get(0), "after_epoch_1": times.get(1)},
        "images_per_s": progress["images_per_s"], "best_val_miou": progress["best_val_miou"],
        "epochs": [{key: round(value, 4) for key, value in epoch.items() if key.startswith(("val_", "epoch"))}
                   for epoch in progress["epochs"]],
        "predict_idle": percentiles(idle), "predict_during_run": percentiles(during),
        "command": "python -m segdemo.train " + shlex.join(progress["train_arguments"]),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
