"""Load on a running app: several ``gradio_client`` users at once, every failure counted.

Used by the test suite (small models) and by ``python -m tools.bench`` (the shipped
models on real photos), so both report the same figures the same way.
"""
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

APP = Path(__file__).resolve().parents[1] / "app.py"
# The environment of a process that makes gradio_client sessions or builds the UI, so it talks to the served
# app only: else each session reports itself to Gradio and Hugging Face and looks up the Hub's list of agents.
# huggingface_hub reads its switch when first imported: set these before gradio is imported.
QUIET = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}


def free_port():
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url, process, log_path, timeout_s=180):
    """Seconds until ``url`` answers; raises with the app's log if it dies or times out."""
    started = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return time.perf_counter() - started
        except OSError:
            if process.poll() is not None or time.perf_counter() - started > timeout_s:
                process.kill()
                raise RuntimeError("the app did not start:\n" + Path(log_path).read_text()[-3000:])
            time.sleep(0.25)


def start_app(port, log_path, python=sys.executable, cwd=None, base_env=None, **env):
    """``python app.py`` on 127.0.0.1:``port``: (process, seconds until it serves).

    The environment is ``base_env`` (default: this process's) plus ``QUIET`` and ``env``.
    """
    environment = dict(os.environ if base_env is None else base_env, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                       **QUIET, **env)
    log = open(log_path, "w")
    process = subprocess.Popen([str(python), str(Path(cwd or APP.parent) / "app.py")], cwd=cwd, env=environment,
                               stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child keeps its own handle
    return process, wait_until_serving(f"http://127.0.0.1:{port}/", process, log_path)


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def concurrent_predictions(url, photos, model, pid, clients=8, per_client=25):
    """``clients`` users each sending ``per_client`` /predict requests (cycling ``photos``) at once.

    Returns latencies (s), failures (reprs) and how much the server's memory grew (MiB).
    """
    from gradio_client import Client, handle_file

    def predict(client, photo):
        return client.predict(handle_file(str(photo)), model, 0.5, api_name="/predict")

    predict(Client(url, verbose=False), photos[0])  # warm: the first request pays for caches
    before = rss_mib(pid)
    latencies, failures = [], []

    def user(offset):
        own = Client(url, verbose=False)
        for k in range(per_client):
            started = time.perf_counter()
            try:
                predict(own, photos[(offset + k) % len(photos)])
                latencies.append(time.perf_counter() - started)
            except Exception as error:  # every failure is counted, none hidden
                failures.append(repr(error))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    return {
        "requests": clients * per_client, "clients": clients, "failures": failures,
        "seconds": time.perf_counter() - started,
        "p50_ms": 1000 * float(np.percentile(latencies, 50)) if latencies else None,
        "p95_ms": 1000 * float(np.percentile(latencies, 95)) if latencies else None,
        "rss_growth_mib": rss_mib(pid) - before, "completed": len(latencies),
    }
