"""A class of students on a served app: bursts of ``gradio_client`` users starting together.

Each student has a client (a session) of their own and waits for each answer before sending
the next photo, as a student clicking *Segment* does.  Used by ``python -m segdemo.bench
--classroom`` (the shipped models, half dataset-size and half phone-size photos) and by the
test suite (small models), so both report the same figures the same way.
"""
import threading
import time
from pathlib import Path

import cv2
import numpy as np

PHONE_SIZE = (4032, 3024)  # a 12-megapixel phone photo, landscape


def phone_photo(source, folder, size=PHONE_SIZE, seed=0):
    """``source`` enlarged to a phone's size with a sensor's grain, saved as a JPEG like a phone's.

    The grain keeps the file as large and as slow to decode as a real photo's (a smooth
    enlargement compresses to a fraction of it).
    """
    image = cv2.imread(str(source))
    enlarged = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).astype(np.int16)
    grain = np.random.default_rng(seed).normal(0, 6, enlarged.shape).astype(np.int16)
    path = Path(folder) / f"{Path(source).stem}-{size[0]}x{size[1]}.jpg"
    cv2.imwrite(str(path), np.clip(enlarged + grain, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def class_photos(sources, folder, count=6):
    """``count`` photos: the first half of ``sources`` as they are, phone-size copies of the rest."""
    sources = [Path(s) for s in sources][:count]
    half = (len(sources) + 1) // 2
    return sources[:half] + [phone_photo(s, folder, seed=i) for i, s in enumerate(sources[half:])]


def folder_size(folder):
    """(files, bytes) under ``folder``."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def percentile_ms(latencies, q):
    return 1000 * float(np.percentile(latencies, q)) if latencies else None


def burst(url, students, per_student, ask, timeout_s=600):
    """``students`` clients start together, each sending ``per_student`` requests one after another.

    ``ask(client, student, k)`` sends request ``k`` of ``student``.  Every answer's latency and
    every failure (its message) is kept; a student not done after ``timeout_s`` counts as hung.
    """
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(students)]
    start = threading.Barrier(students + 1)
    latencies, failures = [], []

    def student(index):
        start.wait()
        for k in range(per_student):
            began = time.perf_counter()
            try:
                ask(clients[index], index, k)
                latencies.append(time.perf_counter() - began)
            except Exception as error:  # every failure is counted, none hidden
                failures.append(str(error) or repr(error))

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(students)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    deadline = began + timeout_s
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    seconds = time.perf_counter() - began
    return {
        "students": students, "per_student": per_student, "answers": len(latencies), "failures": failures,
        "hung": sum(thread.is_alive() for thread in threads), "seconds": seconds,
        "p50_ms": percentile_ms(latencies, 50), "p95_ms": percentile_ms(latencies, 95),
        "max_ms": percentile_ms(latencies, 100), "answers_per_s": len(latencies) / seconds,
    }


def predict_asker(photos, model):
    """Student ``i``'s ``k``-th /predict request: the photos in turn, each student starting elsewhere."""
    from gradio_client import handle_file

    def ask(client, student, k):
        return client.predict(handle_file(str(photos[(student + k) % len(photos)])), model, 0.55, api_name="/predict")
    return ask


def compare_asker(photos, models):
    from gradio_client import handle_file

    def ask(client, student, k):
        return client.predict(handle_file(str(photos[(student + k) % len(photos)])), models, api_name="/compare")
    return ask


def alone(url, photo, ask_photo, repeats=7):
    """Latencies (ms: p50, p95) of one client sending ``photo`` ``repeats`` times with nobody else on."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    ask_photo(client, photo)  # its first request pays for the session
    latencies = []
    for _ in range(repeats):
        began = time.perf_counter()
        ask_photo(client, photo)
        latencies.append(time.perf_counter() - began)
    return percentile_ms(latencies, 50), percentile_ms(latencies, 95)
