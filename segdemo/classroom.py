"""A class of students on a served app: bursts of ``gradio_client`` users starting together.

Each student has a client (a session) of their own and waits for each answer, pictures
included, before sending the next photo, as a student clicking *Segment* does.  The pictures are
fetched as a browser fetches them, over one kept-alive connection: ``gradio_client``'s own
download opens a new connection (and TLS context) per file, which on the same 2 cores costs
more CPU than the server spends on the answer.  Used by ``python -m segdemo.bench
--classroom`` (the shipped models, half dataset-size and half phone-size photos) and by the
test suite (small models), so both report the same figures the same way.
"""
import os
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


def cpu_seconds(pid):
    """User + system CPU seconds a process has used: its cost, whatever else shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def folder_size(folder):
    """(files, bytes) under ``folder``."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def percentile_ms(latencies, q):
    return 1000 * float(np.percentile(latencies, q)) if latencies else None


class Student:
    """One student's page: a ``gradio_client`` session, and a connection that fetches the pictures."""

    def __init__(self, url):
        import httpx
        from gradio_client import Client

        self.client = Client(url, verbose=False, download_files=False)
        self.pictures = httpx.Client(timeout=120)
        self.bytes = 0

    def ask(self, *args, api_name):
        """The answer of ``api_name`` once every file in it has arrived."""
        answer = self.client.predict(*args, api_name=api_name)
        for url in file_urls(answer):
            response = self.pictures.get(url)
            response.raise_for_status()
            self.bytes += len(response.content)
        return answer


def file_urls(value):
    """Every file URL in an answer, however deeply nested."""
    if isinstance(value, dict):
        if value.get("url") and value.get("meta", {}).get("_type") == "gradio.FileData":
            return [value["url"]]
        return [url for item in value.values() for url in file_urls(item)]
    if isinstance(value, (list, tuple)):
        return [url for item in value for url in file_urls(item)]
    return []


def burst(students, per_student, ask, server_pid=None, timeout_s=600):
    """``students`` (``Student``s) start together, each sending ``per_student`` requests one after another.

    ``ask(student, index, k)`` sends request ``k`` of student number ``index``.  Every answer's
    latency and every failure (its message) is kept; a student not done after ``timeout_s``
    counts as hung.  With ``server_pid``, the server's CPU time per answer is kept too.
    """
    cpu_before = cpu_seconds(server_pid) if server_pid else None
    start = threading.Barrier(len(students) + 1)
    latencies, failures = [], []

    def student(index):
        start.wait()
        for k in range(per_student):
            began = time.perf_counter()
            try:
                ask(students[index], index, k)
                latencies.append(time.perf_counter() - began)
            except Exception as error:  # every failure is counted, none hidden
                failures.append(str(error) or repr(error))

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(len(students))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    deadline = began + timeout_s
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    seconds = time.perf_counter() - began
    return {
        "students": len(students), "per_student": per_student, "answers": len(latencies), "failures": failures,
        "hung": sum(thread.is_alive() for thread in threads), "seconds": seconds,
        "p50_ms": percentile_ms(latencies, 50), "p95_ms": percentile_ms(latencies, 95),
        "max_ms": percentile_ms(latencies, 100), "answers_per_s": len(latencies) / seconds,
        "server_cpu_ms_per_answer": (1000 * (cpu_seconds(server_pid) - cpu_before) / max(1, len(latencies))
                                     if server_pid else None),
    }


def predict_asker(photos, model):
    """Student ``i``'s ``k``-th /predict request: the photos in turn, each student starting elsewhere."""
    from gradio_client import handle_file

    def ask(student, index, k):
        return student.ask(handle_file(str(photos[(index + k) % len(photos)])), model, 0.55, api_name="/predict")
    return ask


def compare_asker(photos, models):
    from gradio_client import handle_file

    def ask(student, index, k):
        return student.ask(handle_file(str(photos[(index + k) % len(photos)])), models, api_name="/compare")
    return ask


def alone(url, photo, model, repeats=7):
    """(p50, p95) ms of one student sending ``photo`` to /predict ``repeats`` times with nobody else on."""
    ask = predict_asker([photo], model)
    student = Student(url)
    ask(student, 0, 0)  # the session's first request pays for its setup
    latencies = []
    for k in range(repeats):
        began = time.perf_counter()
        ask(student, 0, k)
        latencies.append(time.perf_counter() - began)
    return percentile_ms(latencies, 50), percentile_ms(latencies, 95)
