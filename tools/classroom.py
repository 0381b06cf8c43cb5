"""A class of students on a served app: bursts of ``gradio_client`` users starting together.

Each student has a client (a session) of their own and waits for each answer, pictures
included, before sending the next photo, as a student clicking *Segment* does.  The pictures are
fetched as a browser fetches them, over one kept-alive connection: ``gradio_client``'s own
download opens a new connection (and TLS context) per file, which on the same 2 cores costs
more CPU than the server spends on the answer.  Used by ``python -m tools.bench
--classroom`` (the shipped models, half dataset-size and half phone-size photos) and by the
test suite (small models), so both report the same figures the same way.  The benchmark adds
bursts of new visitors (fresh sessions: what the server keeps per visitor) and a class exploring
*Inside the network*, each student clicking a pixel of a photo of their own.
"""
import functools
import json
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from tools.loadtest import rss_mib

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


def class_photos(sources, folder, count=6, phone_share=0.5):
    """``count`` photos: ``sources`` as they are, then phone-size copies of the last ``phone_share`` of them."""
    sources = [Path(s) for s in sources][:count]
    kept = len(sources) - int(phone_share * len(sources))
    return sources[:kept] + [phone_photo(s, folder, seed=i) for i, s in enumerate(sources[kept:])]


def distinct_photos(sources, folder, count):
    """``count`` photos, one per student: ``sources`` in turn, each one step brighter than the one before,
    so that no two students send the same photo and no per-photo cache answers for them."""
    photos = []
    for index in range(count):
        image = cv2.imread(str(sources[index % len(sources)])).astype(np.int16) + index // len(sources)
        photos.append(Path(folder) / f"student-{index:02d}.jpg")
        cv2.imwrite(str(photos[-1]), np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return photos


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


@functools.cache
def tls_settings():
    """One TLS context for every student, as a browser keeps one: ``gradio_client`` would
    otherwise build one (reading every CA certificate) for each upload and each request, which
    cost the students more CPU than the server spent on the network."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class Student:
    """One student's page: a ``gradio_client`` session, and a connection that fetches the pictures."""

    def __init__(self, url):
        import httpx
        from gradio_client import Client

        # gradio_client's uploads give up after httpx's 5 s; a browser waits as long as the upload takes
        self.client = Client(url, verbose=False, download_files=False, ssl_verify=tls_settings(),
                             httpx_kwargs={"timeout": 120})
        self.pictures = httpx.Client(timeout=120, verify=tls_settings())
        self.bytes = 0
        self.sent = {}

    def on_server(self, photo):
        """The server's copy of ``photo``, sent once as the page sends a chosen photo: the page's later events
        name that copy, where ``gradio_client`` would send the file again with each request."""
        if photo not in self.sent:
            with open(photo, "rb") as file:
                response = self.pictures.post(self.client.upload_url, files=[("files", (Path(photo).name, file))])
            response.raise_for_status()
            # no "meta" key: gradio_client passes the dict on as it is instead of uploading its path
            self.sent[photo] = {"path": response.json()[0], "orig_name": Path(photo).name}
        return self.sent[photo]

    def ask(self, *args, api_name):
        """The answer of ``api_name`` once every file in it has arrived."""
        return self.fetched(self.client.predict(*args, api_name=api_name))

    def ask_directly(self, *args, api_name):
        """``ask`` over Gradio's HTTP API on the kept-alive connection (one POST, then the answer's event stream),
        as a page's own request is one message and one stream: ``gradio_client`` reads its stream's messages
        every 50 ms (``gradio_client.utils.stream_sse_v1plus``), which adds up to that much to each answer."""
        base = self.client.src.rstrip("/") + "/gradio_api/call/" + api_name.strip("/")
        data = [{**arg, "meta": {"_type": "gradio.FileData"}} if isinstance(arg, dict) and "path" in arg else arg
                for arg in args]
        started = self.pictures.post(base, json={"data": data})
        started.raise_for_status()
        event = None
        with self.pictures.stream("GET", f"{base}/{started.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"{api_name}: {line[5:].strip()}")
                    return self.fetched(json.loads(line[5:]))
        raise RuntimeError(f"{api_name}: the event stream ended without an answer")

    def fetched(self, answer):
        """``answer`` once every file it names has been fetched (a picture shown twice is fetched once)."""
        for url in dict.fromkeys(file_urls(answer)):
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


def asker(photos, *arguments, api_name, sent_before=False, method=None):
    """Student ``i``'s ``k``-th request to ``api_name``: a photo (the photos in turn, each student starting
    elsewhere), then ``arguments``.  ``sent_before``: the photo is the copy the student sent earlier, as the
    page's later events name it, where ``gradio_client`` would send the file again.  ``method``: how a
    ``Student`` asks (``Student.ask``, through ``gradio_client``, unless given)."""
    from gradio_client import handle_file

    method = method or Student.ask

    def ask(student, index, k):
        photo = str(photos[(index + k) % len(photos)])
        return method(student, student.on_server(photo) if sent_before else handle_file(photo), *arguments, api_name=api_name)
    return ask


def predict_asker(photos, model):
    return asker(photos, model, 0.55, api_name="/predict")


def compare_asker(photos, models):
    return asker(photos, models, api_name="/compare")


def new_visitors(url, photos, model, pid, bursts, students=30, per_student=5):
    """``bursts`` bursts of ``students`` visitors never seen before (a session each), the server's RSS after
    each: what a server keeps per visitor shows as growth from burst to burst."""
    outcomes = []
    for _ in range(bursts):
        outcome = burst([Student(url) for _ in range(students)], per_student, predict_asker(photos, model), pid)
        outcomes.append({**outcome, "rss_mib": rss_mib(pid)})
    return outcomes


INSIDE_READY = "segdemo: Inside the network is ready"  # the app's log line once its warm-up is done
INSIDE_POINT = (0.6, 0.5)  # row, column: the pixel every student clicks, on a photo of their own
INSIDE_PAGE_POINT = (0.3, 0.25)  # the pixel they click through the page
HIDE_AS_THE_PAGE_ASKS = "hide the centre as the page asks (another photo chosen and the view opened before)"


def logged_line(log_path, start, process, timeout_s=300):
    """The first line of the app's log that begins with ``start``, once it is there."""
    deadline = time.perf_counter() + timeout_s
    while not (lines := [line for line in Path(log_path).read_text().splitlines() if line.startswith(start)]):
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"the app never logged {start!r}")
        time.sleep(0.2)
    return lines[0]


def one_by_one(students, *steps):
    """Each student in turn takes every step (an ``asker``), as a class that is not clicking at once."""
    for index, student in enumerate(students):
        for step in steps:
            step(student, index, 0)


def inside_class(url, photos, models, pid, class_sizes, view_class, hide_photos=None):
    """A class in *Inside the network*: one student's first clicks, then ``class_sizes`` students clicking
    a pixel at once (``models`` ticked; the photo sent with the click, as ``gradio_client`` does), the last
    class clicking a pixel as the page asks (the photo chosen, sent and shown before: the click names the
    copy on the server), then ``view_class`` students asking each other view at once.  With ``hide_photos``
    (photos no other view has seen: the server keeps each photo's own answer), the last class also hides a
    region as the page asks: each chooses one of them and opens the hide view, then all hide at once."""
    models = list(models)
    pixel = asker(photos, *INSIDE_POINT, models, api_name="/inside_pixel")
    student, clicks = Student(url), []
    for k in range(6):
        began = time.perf_counter()
        pixel(student, 0, k)
        clicks.append(time.perf_counter() - began)
    classes = [[Student(url) for _ in range(size)] for size in class_sizes]
    results = {"first_click_ms": 1000 * clicks[0], "alone_ms": percentile_ms(clicks[1:], 50),
               "pixel": [burst(students, 1, pixel, pid) for students in classes]}
    # each chooses the photo again: the page sends it and shows it
    one_by_one(classes[-1], asker(photos, api_name="/inside_photo", sent_before=True))
    page_pixel = asker(photos, *INSIDE_PAGE_POINT, models, api_name="/inside_pixel", sent_before=True)
    results["page_pixel"] = burst(classes[-1], 1, page_pixel, pid)
    views = {"probabilities": asker(photos, models[0], api_name="/inside_probabilities"),
             "feature maps": asker(photos, models[-1], api_name="/inside_features"),
             "hide the centre": asker(photos, "centre", 0, 0, 0, 0, models, api_name="/inside_hide")}
    students = {view: [Student(url) for _ in range(view_class)] for view in views}
    results["views"] = {view: burst(students[view], 1, ask, pid) for view, ask in views.items()}
    # the same students, each hiding another region of the photo whose centre they have just hidden
    results["views"]["hide the left half next (same photos)"] = burst(
        students["hide the centre"], 1, asker(photos, "left", 0, 0, 0, 0, models, api_name="/inside_hide"), pid)
    if hide_photos and "/inside_hide_ready" in student.client.view_api(print_info=False, return_format="dict")[
            "named_endpoints"]:  # an older checkout's app (--tree) has no such step
        one_by_one(classes[-1], asker(hide_photos, api_name="/inside_photo", sent_before=True),
                   asker(hide_photos, models, api_name="/inside_hide_ready", sent_before=True))
        results["views"][HIDE_AS_THE_PAGE_ASKS] = burst(
            classes[-1], 1, asker(hide_photos, "centre", 0, 0, 0, 0, models, api_name="/inside_hide", sent_before=True),
            pid)
    return results


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


def beyond_capacity(url, photos, model, clients, timeout_s=60):
    """``clients`` users sending one photo each at the same moment: answered, told busy, or neither.

    Returns the counts, the slowest reply (s) and the distinct busy messages seen.
    """
    students = [Student(url) for _ in range(clients)]
    outcome = burst(students, 1, predict_asker(photos, model), timeout_s=timeout_s)
    busy = [message for message in outcome["failures"] if message.startswith("Busy")]
    return {"clients": clients, "answered": outcome["answers"], "busy": len(busy),
            "other_failures": [m for m in outcome["failures"] if not m.startswith("Busy")],
            "hung": outcome["hung"], "slowest_s": outcome["seconds"], "busy_messages": sorted(set(busy))}


def offered_first(url, api_name="/predict", parameter="name"):
    """The model the page offers a student who does not choose: the default of /predict's model."""
    from gradio_client import Client

    endpoint = Client(url, verbose=False, ssl_verify=tls_settings()).view_api(print_info=False, return_format="dict")
    found = [p for p in endpoint["named_endpoints"][api_name]["parameters"] if p["parameter_name"] == parameter]
    return found[0]["parameter_default"]


def run_classroom(checkpoints, scratch, sources, model=None, compare_models=("unet", "pspnet", "fpn"),
                  students=30, per_student=5, bursts=5, compare_students=10, compare_per_student=3,
                  new_visitor_bursts=0, inside_class_sizes=(), overload=100, python=None, **app_env):
    """Start ``python app.py`` as a user would and run a class on it; every figure in a dict.

    ``model``: the one /predict is asked for, by default the one the page offers first.  One student alone (a
    dataset-size and a phone-size photo), ``bursts`` bursts of ``students``
    x ``per_student`` on /predict by the same students (the server's RSS and Gradio's cache
    after each), ``compare_students`` x ``compare_per_student`` on /compare, ``new_visitor_bursts``
    bursts of ``students`` new visitors (a third of their photos phone-size), a class of each of
    ``inside_class_sizes`` in Inside the network (``compare_models`` ticked; each other view by the
    largest), then ``overload`` users at once; the app's temporary folder is the scratch folder's,
    so its size is the cache's.
    """
    from tools.loadtest import free_port, start_app

    scratch = Path(scratch)
    photos = class_photos(sources, scratch)
    temporary = scratch / "tmp"
    temporary.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    kwargs = {"python": python} if python else {}
    process, startup_s = start_app(port, scratch / "app.log", SEGDEMO_CHECKPOINTS=str(checkpoints),
                                   TMPDIR=str(temporary), **kwargs, **app_env)
    results = {"startup_s": startup_s, "rss_at_rest_mib": rss_mib(process.pid),
               "photos": [f"{Path(p).name} ({'x'.join(map(str, cv2.imread(str(p)).shape[1::-1]))})" for p in photos]}
    try:
        if inside_class_sizes:  # a class comes minutes after the start: not during Inside's warm-up (its own figure)
            results["inside_warm_up"] = logged_line(scratch / "app.log", INSIDE_READY, process)
        results["model"], results["offered_first"] = (model, False) if model else (offered_first(url), True)
        model = results["model"]
        results["alone_dataset_ms"] = alone(url, photos[0], model)
        results["alone_phone_ms"] = alone(url, photos[-1], model)
        results["alone_photos"] = [results["photos"][0], results["photos"][-1]]
        class_of = [Student(url) for _ in range(students)]
        results["bursts"] = []
        for _ in range(bursts):
            outcome = burst(class_of, per_student, predict_asker(photos, model), process.pid)
            files, size = folder_size(temporary)
            results["bursts"].append({**outcome, "rss_mib": rss_mib(process.pid), "cache_files": files,
                                      "cache_mib": size / 2 ** 20})
        results["compare"] = burst(class_of[:compare_students], compare_per_student,
                                   compare_asker(photos, list(compare_models)), process.pid)
        if new_visitor_bursts:
            (scratch / "visitors").mkdir(exist_ok=True)
            visitors = class_photos(sources, scratch / "visitors", phone_share=1 / 3)
            results["new_visitors"] = new_visitors(url, visitors, model, process.pid, new_visitor_bursts, students,
                                                   per_student)
        if inside_class_sizes:
            largest = max(inside_class_sizes)
            own = distinct_photos(sources, scratch, 2 * largest)  # the second half for hiding as the page asks
            results["inside"] = inside_class(url, own[:largest], compare_models, process.pid, inside_class_sizes,
                                             largest, hide_photos=own[largest:])
        results["overload"] = beyond_capacity(url, photos, model, overload)
        results["after_overload_ms"] = alone(url, photos[0], model, repeats=1)[0]
        results["rss_end_mib"] = rss_mib(process.pid)
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)


def classroom_markdown(results, command, machine):
    """The README's lines for a classroom run."""
    lines = [f"Measured with `{command}` (shipped checkpoints, `python app.py` started by the command, its students "
             f"`gradio_client` sessions in one process on the same machine) on {machine}. Photos: "
             f"{', '.join(results['photos'])}.", "",
             f"- One student alone, /predict ({results['model']}{', the model the page offers first' if results['offered_first'] else ''}): "
             f"{results['alone_photos'][0]} p50 {results['alone_dataset_ms'][0]:.0f} ms; "
             f"{results['alone_photos'][1]} p50 {results['alone_phone_ms'][0]:.0f} ms (answer and its pictures received)",
             "", "| /predict burst | answers | failures | p50 s | p95 s | max s | answers/s | server CPU ms per answer "
             "| server RSS after, MiB | Gradio cache after |", "|---|---|---|---|---|---|---|---|---|---|"]
    for number, burst_ in enumerate(results["bursts"], 1):
        lines.append(f"| {number}: {burst_['students']} students x {burst_['per_student']} | {burst_['answers']} "
                     f"| {len(burst_['failures'])} | {burst_['p50_ms'] / 1000:.2f} | {burst_['p95_ms'] / 1000:.2f} "
                     f"| {burst_['max_ms'] / 1000:.2f} | {burst_['answers_per_s']:.2f} "
                     f"| {burst_['server_cpu_ms_per_answer']:.0f} | {burst_['rss_mib']:.0f} "
                     f"| {burst_['cache_files']} files, {burst_['cache_mib']:.0f} MiB |")
    first, last = results["bursts"][0]["rss_mib"], results["bursts"][-1]["rss_mib"]
    compare, overload = results["compare"], results["overload"]
    lines += ["", f"- Server RSS at rest {results['rss_at_rest_mib']:.0f} MiB; after the last burst "
                  f"{last - first:+.0f} MiB against after the first",
              f"- /compare ({compare['students']} students x {compare['per_student']}, 3 models each): "
              f"{len(compare['failures'])} failures, p50 {compare['p50_ms'] / 1000:.2f} s, p95 {compare['p95_ms'] / 1000:.2f} s, "
              f"{compare['answers_per_s']:.2f} answers/s",
              *visitor_lines(results), *inside_lines(results),
              f"- Beyond capacity, {overload['clients']} users at once: {overload['answered']} answered, "
              f"{overload['busy']} told busy, {len(overload['other_failures'])} other failures, {overload['hung']} hung, "
              f"all replied within {overload['slowest_s']:.1f} s; a photo right after: "
              f"{results['after_overload_ms']:.0f} ms"]
    return "\n".join(lines)


def visitor_lines(results):
    """The README's lines for the bursts of new visitors, if any."""
    bursts = results.get("new_visitors") or []
    if not bursts:
        return []
    rss = [b["rss_mib"] for b in bursts]
    p95 = ", ".join(f"{b['p95_ms'] / 1000:.2f}" for b in bursts)
    return [f"- New visitors, {len(bursts)} bursts of {bursts[0]['students']} sessions never seen before x "
            f"{bursts[0]['per_student']} photos (a third phone-size): p95 {p95} s, "
            f"{sum(len(b['failures']) for b in bursts)} failures; server RSS after each "
            f"{', '.join(f'{r:.0f}' for r in rss)} MiB: {rss[-1] - rss[0]:+.0f} MiB after the last against after the "
            f"first, {1024 * (rss[-1] - rss[0]) / (bursts[0]['students'] * (len(bursts) - 1)):.0f} KiB per visitor"]


def inside_lines(results):
    """The README's lines for the class in Inside the network, if it ran."""
    inside = results.get("inside")
    if not inside:
        return []
    warm = results["inside_warm_up"].removeprefix("segdemo: ")
    lines = [f"- Inside the network ({warm}): one student, a pixel with the three models: first click "
             f"{inside['first_click_ms']:.0f} ms, the next five p50 {inside['alone_ms']:.0f} ms"]
    page_pixel = inside["page_pixel"]
    for name, outcome in [(f"{o['students']} students at once clicking a pixel", o) for o in inside["pixel"]] + [
            (f"the same {page_pixel['students']} clicking a pixel as the page asks (the photo sent and shown when "
             "chosen, before the click)", page_pixel)] + [
            (f"{o['students']} students at once asking for {view}", o) for view, o in inside["views"].items()]:
        lines.append(f"- Inside, {name}, each on a photo of their own: {len(outcome['failures'])} failures, "
                     f"p50 {outcome['p50_ms'] / 1000:.2f} s, p95 {outcome['p95_ms'] / 1000:.2f} s, "
                     f"server CPU {outcome['server_cpu_ms_per_answer']:.0f} ms per answer")
    return lines
