"""Train tab: the class watches a network learn, live, and may then use it in Predict and Compare.

The teacher picks the network, loss, start, photos, epochs and input size and presses Train;
``segdemo.serving.class_training`` runs ``segdemo.networks.train`` in a process of its own (one run per server).
Every open page polls that one run with a ``gr.Timer``, so watchers who join late see it all;
a poll redraws only what changed since that page last drew it, and each drawing is shared by
every page of the same language.
"""
import shlex
import time
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
import plotly.graph_objects as go

from segdemo.data.examples import ground_truth_for, list_examples
from segdemo.data.labels import REGIONS
from segdemo.data.own_photos import OwnPhotos
from segdemo.imaging import colorize, load_rgb, resize
from segdemo.networks import metrics
from segdemo.networks.architectures import ARCHITECTURES
from segdemo.networks.losses import LOSSES, parse_loss
from segdemo.networks.models import ARCH_TITLES
from segdemo.serving.addresses import is_loopback
from segdemo.serving.class_training import (OWN_MIX, ClassTrainer, RunSettings, TrainingRefused,
                                            server_teacher_code, training_switch)
from segdemo.texts import TEXT
from segdemo.ui.common import client_host, is_teacher, model_choices, model_label, save_image, say_counted
from segdemo.ui.curves import PANELS, log_loss_axis, readable
from segdemo.ui.tab import Built, Page
from segdemo.ui.text import language_of, say, t

ID = "train"

POLL_S = 2.0  # how often every open page looks at a run going on
IDLE_POLL_S = 10.0  # and when none is: a run started meanwhile shows within this
ARCHES = tuple(arch for arch, spec in ARCHITECTURES.items() if spec.in_class)
LOSS_CHOICES = (*LOSSES, "ce+dice", "focal+dice", "ce+tversky", "ce+boundary")
SIZES = ("96x128", "144x192", "192x256")
MAX_PHOTOS = 572  # the training split
TRAINING, VALIDATION = "#1f77b4", "#d62728"
# the snapshot strip: rows of 4:3 pictures without the gallery's empty fixed height, two per row on a phone
CSS = """
#train-snapshots .grid-wrap { min-height: 0; max-height: none; }
#train-snapshots .thumbnail-item { aspect-ratio: 4 / 3; }
#train-snapshots .grid-container { grid-template-columns: repeat(6, minmax(0, 1fr)); }  /* photo and truth small too */
#train-snapshots .caption-label { white-space: normal; overflow: visible; text-overflow: clip; max-width: 100%; }
/* no run yet: the photo the class will watch and its truth, large enough to be seen from the back */
#train-row:not(:has(#train-results)) #train-snapshots .grid-container { grid-template-columns: repeat(3, minmax(0, 1fr)); }
@media (max-width: 640px) {
  #train-snapshots .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #train-row { flex-direction: column-reverse; }  /* a student's phone shows the run first, the teacher's settings below */
  #train-row:not(:has(#train-results)) #train-watch { display: none; }  /* no run yet (no charts): Train first */
}
"""


def scene_photo(examples, label_set=REGIONS.name):
    """The bundled validation photo whose truth shows the most classes: the scene the class watches emerge."""
    def classes_shown(path):
        truth = ground_truth_for(path, label_set)
        return len(np.unique(truth[truth >= 0])) if truth is not None else 0

    return max(examples, key=classes_shown) if examples else None


class SharedPictures:
    """The photo, its truth and each snapshot as pictures the page can show, made once for every viewer.

    Made again if Gradio's cache sweep has removed the file.
    """

    def __init__(self, photo):
        self.photo = photo
        self.image, _ = load_rgb(photo)
        self.truth = ground_truth_for(photo, REGIONS.name)
        self._files = {}

    def _file(self, key, make):
        if key not in self._files or not Path(self._files[key][0]).exists():
            self._files[key] = make()
        return self._files[key]

    def photo_file(self):
        return self._file("photo", lambda: (save_image(self.image, "train-photo"), None))[0]

    def truth_file(self):
        return self._file("truth", lambda: (save_image(colorize(self.truth, REGIONS.colours), "train-truth",
                                                       lossless=True), None))[0]

    def snapshot(self, run, epoch):
        """(picture file, mIoU on this photo) of ``run``'s labels after ``epoch`` (0: before training)."""
        def make():
            labels = cv2.imread(str(run.snapshot_path(epoch)), cv2.IMREAD_GRAYSCALE)
            height, width = self.image.shape[:2]
            labels = resize(labels, (height, width), nearest=True).astype(np.int32)
            score = metrics.score_labels(self.truth, labels, REGIONS.classes)["miou"] if self.truth is not None else None
            return save_image(colorize(labels, REGIONS.colours), f"train-epoch{epoch}", lossless=True), score

        return self._file((run.number, epoch), make)


def minutes_seconds(language, seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return say(language, "train.minutes" if minutes else "train.seconds", minutes=minutes, seconds=seconds)


def settings_line(language, run):
    """The run's settings in a line: a fine-tune on the class's photos has no encoder start nor photo count of its own."""
    settings = run.settings
    height, width = settings.network_size
    common = dict(arch=settings.title, loss=settings.loss, epochs=settings.epochs, size=f"{height}x{width}",
                  time=time.strftime("%H:%M", time.localtime(run.started)))
    if settings.start_from:
        return say(language, "train.own_settings_line", mix=OWN_MIX, **common)
    start = say(language, "train.imagenet" if settings.pretrained else "train.scratch")
    return say(language, "train.settings_line", start=start, photos=settings.photos, **common)


def status_markdown(language, run, now=None):
    """What is happening, in one paragraph: the run's settings, where it is, its pace and what is left."""
    if run is None:
        return say(language, "train.idle")
    head = settings_line(language, run)
    best = run.best_val_miou
    done = {"epochs": len(run.epochs), "elapsed": minutes_seconds(language, run.elapsed(now)),
            "miou": f"{best:.3f}" if best is not None else "-"}
    if run.status == "starting":
        body = say(language, "train.starting", elapsed=done["elapsed"])
    elif run.status == "training":
        step = run.steps[-1] if run.steps else {"epoch": 1, "step": 0}
        rate, left = run.images_per_second(), run.seconds_left(now)
        pace = say(language, "train.pace", rate=rate, left=minutes_seconds(language, left)) if rate and left is not None else ""
        body = say(language, "train.training", epoch=step["epoch"], epochs=run.info["epochs"], step=step["step"],
                   steps=run.info["steps_per_epoch"], elapsed=done["elapsed"], cap=minutes_seconds(language, run.cap_s)) + pace
    elif run.status == "failed":
        body = say(language, "train.failed", error=run.error)
    else:
        body = say_counted(language, f"train.{run.status}", done["epochs"], cap=minutes_seconds(language, run.cap_s), **done)
        if run.kept_as:
            body += " " + say(language, "train.kept", name=run_label(language, run))
    if run.start_miou is not None:  # a fine-tune on the class's own photos: the gain on its held-out ones
        body += "\n\n" + say(language, "train.own_scores", before=run.start_miou, best=done["miou"])
    return f"{head}\n\n{body}"


def own_settings(registry, arch, language):
    """(own photos folder, shipped checkpoint folder) for a fine-tune of ``arch``, or a message saying what is missing."""
    train_ids, held_out = OwnPhotos().split()
    if len(train_ids) < 2 or not held_out:
        raise gr.Error(say(language, "train.own_too_few", train=len(train_ids), held_out=len(held_out)))
    entry = registry.entries.get(arch)
    if entry is None or not entry.available:
        raise gr.Error(say(language, "train.own_no_model", arch=ARCH_TITLES[arch]))
    return str(OwnPhotos().root), str(entry.folder)


def run_label(language, run):
    """A kept run's one name, as every list, table and message shows it: "class run 14:59 (U-Net, 1 epoch)"."""
    return say_counted(language, "train.run_label", len(run.epochs), arch=run.settings.title, epochs=len(run.epochs),
                       time=time.strftime("%H:%M", time.localtime(run.started)))


def run_labels(run):
    """``run_label`` in every language the page speaks: the registry keeps them all, each page shows its own."""
    return {language: run_label(language, run) for language in TEXT}


def step_curve(steps, key, steps_per_epoch):
    """(x, y) of ``key`` after each step, one line per epoch: Keras averages from each epoch's start afresh."""
    x, y = [], []
    for previous, step in zip([None, *steps], steps):
        if previous and previous["epoch"] != step["epoch"]:
            x.append(None)
            y.append(None)
        x.append(step["epoch"] - 1 + step["step"] / steps_per_epoch)
        y.append(step.get(key))
    return x, y


def progress_figures(language, run):
    """Loss, pixel accuracy and mIoU: each training step (the epoch's running mean) and each epoch's validation."""
    epochs = run.info.get("epochs", run.settings.epochs) if run else 1
    steps_per_epoch = run.info.get("steps_per_epoch", 1) if run else 1
    figures = []
    for key in PANELS:
        figure = go.Figure()
        if run and run.steps:
            x, y = step_curve(run.steps, key, steps_per_epoch)
            figure.add_trace(go.Scatter(
                x=x, y=y,
                mode="lines", line={"color": TRAINING, "width": 1.5}, name=say(language, "train.training_steps"),
                hovertemplate="%{y:.3f}<extra></extra>"))
        if run and run.epochs:
            for prefix, colour, dash, name in (("", TRAINING, "solid", "train.training_epochs"),
                                               ("val_", VALIDATION, "dash", "train.validation_epochs")):
                figure.add_trace(go.Scatter(
                    x=[e["epoch"] for e in run.epochs], y=[e.get(prefix + key) for e in run.epochs],
                    mode="markers" if not prefix else "lines+markers", marker={"size": 8, "color": colour},
                    line={"color": colour, "dash": dash}, name=say(language, name), hovertemplate="%{y:.3f}<extra></extra>"))
        figure.update_xaxes(title_text=say(language, "curves.epoch"), range=[0, epochs], dtick=max(1, epochs // 8))
        if key == "loss":
            log_loss_axis(figure, empty=not (run and run.steps))
        else:
            figure.update_yaxes(range=[0, 1])
        figure.update_layout(title={"text": say(language, f"curves.{key}")}, height=280, showlegend=False,
                             margin={"t": 44, "b": 40, "l": 52})  # one key under the three charts (train.line_key)
        figures.append(readable(figure))
    return figures


def gallery_items(language, pictures, run):
    """The photo, its truth, then the network's answer before training and after each epoch, captioned."""
    items = [(pictures.photo_file(), say(language, "train.photo"))]
    if pictures.truth is not None:
        items.append((pictures.truth_file(), say(language, "train.truth")))
    for epoch in (run.snapshots if run else []):
        picture, score = pictures.snapshot(run, epoch)
        caption = say(language, "train.before" if epoch == 0 else "train.after_epoch", epoch=epoch)
        items.append((picture, caption + (say(language, "train.photo_miou", miou=score) if score is not None else "")))
    return items


def command_markdown(run):
    """The ``python -m segdemo.networks.train`` command of the run (the one-core, low-priority confinement aside)."""
    if run is None:
        return ""
    shown = shlex.join(run.command[run.command.index("--") + 1:]).replace(str(run.folder), "class-run")
    return f"```bash\npython -m segdemo.networks.train {shown}\n```"


def may_control(run, request, teacher=None, code=""):
    """Stop and "Use this model" answer whoever pressed Train (it gave the teacher's right), and the teacher
    (``is_teacher``; by default this computer, when the server set no teacher code)."""
    if run is None or request is None:
        return False
    if request.session_hash == run.owner:
        return True
    return teacher.admits(code, client_host(request)) if teacher else is_loopback(client_host(request))


def model_lists(registry, current_model, current_set, current_compared, language="en"):
    """Predict's and Compare's model lists with the class runs kept now, named in the page's language.

    The choices each page already made stay; a kept run is never ticked for Compare by itself (one
    barely trained run beside the shipped models made every pixel "disagree" on every new page).
    """
    options = model_choices(registry, current_set, language)
    names = [name for _, name in options]
    model = gr.Dropdown(choices=options, value=current_model if current_model in names else registry.best(current_set))
    compared = [n for n in (current_compared or []) if n in registry.entries]
    everything = [(model_label(registry.entries[n], language), n) for n in registry.available()]
    return model, gr.CheckboxGroup(choices=everything, value=compared)


def off_reason(page, trainer_photo):
    """The text key of why this server does not train, or None."""
    _, reason = training_switch()
    if reason:
        return reason
    if page.view is None:
        return "train.no_data"
    return None if trainer_photo else "train.no_photo"


def build(page: Page) -> Built:
    """The tab; lends nothing. It updates Predict's and Compare's model lists when a class run is kept."""
    registry = page.registry
    photo = scene_photo(list_examples())
    reason = off_reason(page, photo)
    if reason:
        gr.Markdown(t("train.intro"))
        gr.Markdown(t(reason))
        return Built()
    cap_s, _ = training_switch()
    trainer = ClassTrainer(cap_s, photo)
    teacher = server_teacher_code()
    pictures = SharedPictures(photo)
    predict_model, predict_set = page.handle("predict", "model"), page.handle("predict", "label_set")
    compare_models = page.handle("compare", "models")

    # projector first (1366x768): Train and Stop at the top of the settings, the run's curves and masks
    # beside them, the explanation below; a phone shows the run first, the settings under it
    with gr.Row(elem_id="train-row"):
        with gr.Column(scale=1, min_width=280):
            # a password box: the code never shows on the projected page; hidden where none is needed (this computer)
            code = gr.Textbox("", label=t("train.teacher_code"), info=t("train.teacher_code_info"), type="password",
                              max_lines=1, elem_id="train-code", visible=teacher.from_environment)  # API: "" by default
            with gr.Row():
                train_button = gr.Button(t("train.train"), variant="primary", elem_id="train-start", min_width=100)
                stop_button = gr.Button(t("train.stop"), variant="stop", interactive=False, elem_id="train-stop",
                                        min_width=100)
            arch = gr.Radio([(ARCH_TITLES[a], a) for a in ARCHES], value="unet", label=t("train.arch"))
            loss = gr.Dropdown(list(LOSS_CHOICES), value="ce+dice", label=t("train.loss"), allow_custom_value=True,
                               info=t("train.loss_info"))
            start = gr.Radio([(t("train.imagenet"), "imagenet"), (t("train.scratch"), "scratch")],
                             value="imagenet" if trainer.encoder_available else "scratch", label=t("train.start"),
                             interactive=trainer.encoder_available)
            data = gr.Radio([(t("train.on_stanford"), "stanford"), (t("train.on_own"), "own")], value="stanford",
                            label=t("train.data"), info=t("train.data_info"), elem_id="train-data")
            photos = gr.Slider(16, MAX_PHOTOS, value=RunSettings.photos, step=8, label=t("train.photos"))
            epochs = gr.Slider(1, 30, value=RunSettings.epochs, step=1, label=t("train.epochs"))
            size = gr.Radio(list(SIZES), value=SIZES[0], label=t("train.size"), info=t("train.size_info"))
        with gr.Column(scale=3, min_width=320):
            status = gr.Markdown(elem_id="train-status")
            # the charts once the server has a run: three empty charts had filled a phone's first screen above the
            # settings while nothing had been trained; before it, the photo the class will watch and its truth
            with gr.Column(visible=False, elem_id="train-results") as results:
                with gr.Row():  # side by side on a projector, stacked on a phone
                    plots = [gr.Plot(show_label=False, min_width=280, elem_id=f"train-plot-{key}") for key in PANELS]
                gr.Markdown(t("train.line_key"), elem_classes=["segdemo-line-key"])
            with gr.Column(elem_id="train-watch"):
                gr.Markdown(t("train.snapshots"))
                snapshots = gr.Gallery(show_label=False, columns=6, height="auto", object_fit="contain",
                                       elem_id="train-snapshots", buttons=["fullscreen"])
            with gr.Column(visible=False) as keeping:
                keep_button = gr.Button(t("train.keep"), interactive=False, elem_id="train-keep")
    gr.Markdown(t("train.intro"))
    with gr.Accordion(t("train.command_title"), open=False):
        command = gr.Markdown()
    timer = gr.Timer(IDLE_POLL_S)
    seen_state = gr.State({})
    drawn = {}  # (what, run number, version or count, language) -> drawing shared by every page

    def shared(key, make):
        if key not in drawn:
            if len(drawn) > 64:
                drawn.clear()
            drawn[key] = make()
        return drawn[key]

    def view(seen, current_model, current_set, current_compared, typed_code, request: gr.Request):
        """The tab's outputs for this page, keyed by component: only those that changed since it last drew."""
        language = language_of(request)
        run = trainer.run
        number = run.number if run else 0
        allowed = may_control(run, request, teacher, typed_code)
        parts = {
            "status": (status_markdown(language, run),),
            "plots": ("plots", number, run.version if run else 0, language),
            "gallery": ("gallery", number, len(run.snapshots) if run else 0, language),
            "buttons": (run is None or not run.running, bool(run and run.running and allowed),
                        bool(run and run.keepable and allowed)),
            "command": ("command", number),
            "lists": tuple(r.kept_as for r in trainer.kept),
            "timer": bool(run and run.running),
            "code": not teacher.admits("", client_host(request)),  # the box shows where a code is needed
        }
        changed = {name for name, key in parts.items() if key != seen.get(name)}
        if not seen and not parts["lists"]:  # a page just opened has the shipped models' lists already
            changed.discard("lists")
        updates = {seen_state: parts}
        if "status" in changed:
            updates[status] = parts["status"][0]
        if "plots" in changed:
            updates[results] = updates[keeping] = gr.Column(visible=run is not None)
            updates.update(zip(plots, shared(parts["plots"], lambda: progress_figures(language, run))))
        if "gallery" in changed:
            updates[snapshots] = shared(parts["gallery"], lambda: gallery_items(language, pictures, run))
        if "buttons" in changed:
            updates.update({button: gr.Button(interactive=on)
                            for button, on in zip((train_button, stop_button, keep_button), parts["buttons"])})
        if "command" in changed:
            updates[command] = command_markdown(run)
        if "lists" in changed:
            lists = model_lists(registry, current_model, current_set, current_compared, language)
            updates.update((component, value) for component, value in zip((predict_model, compare_models), lists)
                           if component is not None)
        if "timer" in changed:
            updates[timer] = gr.Timer(POLL_S if parts["timer"] else IDLE_POLL_S)
        if "code" in changed:
            updates[code] = gr.Textbox(visible=parts["code"])
        return updates

    outputs = [component for component in (status, results, *plots, snapshots, keeping, train_button, stop_button, keep_button, command,
                                            predict_model, compare_models, timer, code, seen_state)
               if component is not None]
    # what the page shows of Predict's and Compare's lists, or nothing where those tabs are absent
    shown_lists = [component if component is not None else gr.State(None)
                   for component in (predict_model, predict_set, compare_models)]
    inputs = [seen_state, *shown_lists, code]

    def on_train(arch, loss, start, photos, epochs, size, data, typed_code, request: gr.Request):
        language = language_of(request)
        if not is_teacher(teacher, request, typed_code):
            raise gr.Error(say(language, "train.teacher_only"))
        try:
            parse_loss(loss)
        except ValueError as error:
            raise gr.Error(say(language, "train.bad_loss", error=error)) from None
        height, width = (int(v) for v in size.split("x"))
        own, start_from = own_settings(registry, arch, language) if data == "own" else (None, None)
        settings = RunSettings(arch=arch, loss=loss, pretrained=start == "imagenet", photos=int(photos),
                               epochs=int(epochs), size=(height, width), own_photos=own, start_from=start_from)
        try:
            trainer.start(settings, request.session_hash)
        except TrainingRefused as refusal:
            raise gr.Error(say(language, refusal.key)) from None

    def on_stop(typed_code, request: gr.Request):
        run = trainer.run
        if not may_control(run, request, teacher, typed_code):
            raise gr.Error(say(language_of(request), "train.teacher_only" if run else "train.not_yours"))
        trainer.stop(run)

    def on_keep(seen, current_model, current_set, current_compared, typed_code, request: gr.Request):
        language = language_of(request)
        run = trainer.run
        if not may_control(run, request, teacher, typed_code):
            raise gr.Error(say(language, "train.teacher_only"))
        try:
            name = trainer.keep(run, registry, run_labels(run))
        except TrainingRefused as refusal:
            raise gr.Error(say(language, refusal.key)) from None
        gr.Info(say(language, "train.kept_info", label=run_label(language, run)))
        return view(seen, name, REGIONS.name, current_compared, typed_code, request)

    settings_inputs = [arch, loss, start, photos, epochs, size, data, code]
    refresh = dict(fn=view, inputs=inputs, outputs=outputs, api_name=False, show_progress="hidden")
    train_button.click(on_train, settings_inputs, None, api_name="train").then(**refresh)
    stop_button.click(on_stop, code, None, api_name="train_stop").then(**refresh)
    code.input(**refresh)  # Stop and "Use this model" open as soon as the right code is typed
    keep_button.click(on_keep, inputs, outputs, api_name=False, show_progress="hidden")
    if predict_set is not None:
        keep_button.click(lambda: REGIONS.name, None, predict_set, api_name=False, show_progress="hidden")
    timer.tick(concurrency_limit=None, **refresh)

    def train_progress() -> dict:
        return run_summary(trainer.run)

    gr.api(train_progress, api_name="train_progress")
    return Built().fill_on_load(view, outputs, inputs=inputs)


def run_summary(run) -> dict:
    """The run in numbers, for scripts (``/train_progress``): where it is and when each epoch's mask came."""
    if run is None:
        return {"status": "none"}
    return {"status": run.status, "number": run.number, "started": run.started, "elapsed_s": round(run.elapsed(), 1),
            "train_arguments": run.command[run.command.index("--") + 1:], "steps": len(run.steps),
            "epochs": run.epochs, "snapshots": run.snapshots, "images_per_s": run.images_per_second(),
            "snapshot_times_s": {str(epoch): round(at - run.started, 1) for epoch, at in run.snapshot_times.items()},
            "best_val_miou": run.best_val_miou, "error": run.error, "kept_as": run.kept_as}
