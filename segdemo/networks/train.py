"""``python -m segdemo.networks.train``: train a segmentation model on Stanford Background.

Each epoch ends with a validation pass whose confusion matrix gives mIoU and per-class
IoU; the best weights (by validation mIoU) are kept in the output folder (with
``--average-weights``, the mean of every epoch's weights instead: ``segdemo.networks.soup``), and a resume
checkpoint lets ``--resume`` pick up after the last finished epoch, so a long CPU run
survives an interrupted session.  The resume state lives outside the work tree (see
``resume_dir``), so it also survives a fresh checkout of the project.
"""
import argparse
import dataclasses
import hashlib
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

import tensorflow as tf

from segdemo.data import DatasetError, load_dataset, load_split
from segdemo.data.labels import LABEL_SETS, get_label_set
from segdemo.data.own_photos import HELD_OUT_EVERY, OwnPhotos
from segdemo.data.pipeline import SCALE_RANGE, eval_dataset, train_dataset
from segdemo.networks import hardware, metrics, shards
from segdemo.networks.checkpoint import (BEFORE_FILE, COMMAND_FILE, CONFIG_FILE, HISTORY_FILE, TRAIN_COMMAND,
                                         WEIGHTS_FILE, read_record, record_command, write_record)
from segdemo.networks.losses import inverse_sqrt_frequency_weights, parse_loss, with_teacher
from segdemo.networks.architectures import ARCHITECTURES, get_architecture
from segdemo.networks.models import (CheckpointError, ModelConfig, build_model, load_weights, save_arrays, save_weights,
                                     segmentation_network, set_batchnorm_momentum)
from segdemo.networks.pretrained import PretrainedWeightsError
from segdemo.data.soft_targets import read_soft_targets
from segdemo.networks.soup import RunningAverage
from segdemo.networks.training_metrics import ConfusionMatrixMetric
from segdemo.paths import cache_dir

RESUME_ENV = "SEGDEMO_RESUME"
MIRRORED_FILES = (HISTORY_FILE, CONFIG_FILE, COMMAND_FILE)  # kept beside the resume state, with the weights


def resume_dir(out):
    """Where the resume state of the run writing ``out`` lives: ``$SEGDEMO_RESUME`` or the
    segdemo cache, one folder per output folder.

    Not inside ``out``: a new session may start from a fresh checkout of the project, which
    keeps committed files only; the machine's cache outlives it.
    """
    absolute = Path(out).resolve()
    root = Path(os.environ.get(RESUME_ENV) or cache_dir() / "resume")
    return root / f"{absolute.name}-{hashlib.sha1(str(absolute).encode()).hexdigest()[:10]}"


def parse_size(text):
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like HEIGHTxWIDTH (e.g. 288x384), not {text!r}") from None
    return height, width


def parse_range(text):
    try:
        low, high = (float(v) for v in text.split("-"))
    except ValueError:
        low = high = None
    if low is None or not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"a range must look like LOW-HIGH with 0 < LOW <= HIGH (e.g. 0.5-2.0), not {text!r}")
    return low, high


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m segdemo.networks.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="unet", choices=list(ARCHITECTURES))
    parser.add_argument("--backbone", default="mobilenetv2")
    parser.add_argument("--labels", default="regions", choices=list(LABEL_SETS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--size", type=parse_size, default=(288, 384), help="HEIGHTxWIDTH of the network input")
    parser.add_argument("--crop", type=parse_size,
                        help="train on random HEIGHTxWIDTH windows of photos scaled to --size (faster; the "
                             "saved model still takes --size); validation during training runs at this size too")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (cosine decay after warm-up)")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW decay; 0 gives plain Adam")
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--schedule", default="cosine", choices=["cosine", "constant"],
                        help="cosine decay after warm-up, or the seed notebook's constant rate")
    parser.add_argument("--loss", default="ce+dice", help="weighted sum, e.g. ce+dice or 0.5*focal+tversky")
    parser.add_argument("--class-weights", default="none", choices=["none", "inverse-sqrt"],
                        help="weigh ce/focal pixels by 1/sqrt(class share in the training split)")
    parser.add_argument("--bn-momentum", type=float, default=0.9,
                        help="momentum of every BatchNormalization layer (Keras' MobileNetV2 ships 0.999, far "
                             "too slow for a 572-photo fine-tune); 0 keeps each layer's own")
    parser.add_argument("--fpn-filters", type=int, default=256, help="FPN pyramid channels (fewer is faster)")
    parser.add_argument("--output-stride", type=int, choices=[8, 16],
                        help="DeepLabV3+ only: its deepest map 16 (default; with --init-from, the checkpoint's; with "
                             "--resume, the run's) or 8 times smaller than the input (8: later blocks dilated twice as "
                             "much, a finer map at 1.6 times the time on one thread; the same weights fit both)")
    parser.add_argument("--encoder-weights", default="none", help="none, imagenet (download) or a local folder/file")
    parser.add_argument("--freeze-encoder", action="store_true",
                        help="train the decoder only: the encoder keeps its pretrained weights and batch-norm statistics")
    parser.add_argument("--split", default="fixed", choices=["fixed", "sorted80"],
                        help="fixed: the recorded 572/143 split; sorted80: the seed notebook's first-80%% split")
    parser.add_argument("--scale-range", type=parse_range, default=SCALE_RANGE,
                        help="LOW-HIGH: random enlargement of each training photo before its crop (default %(default)s; "
                             "DeepLab's papers train with 0.5-2.0)")
    parser.add_argument("--no-augment", action="store_true", help="train on plain resized images, as the seed did")
    parser.add_argument("--average-weights", action="store_true",
                        help="keep the mean of every epoch's weights (stochastic weight averaging) instead of the best "
                             "epoch's; pairs with --schedule constant")
    parser.add_argument("--data", help="data folder (default: $SEGDEMO_DATA, then ../shared, then the cache)")
    parser.add_argument("--own", type=Path,
                        help="a class's own labelled photos (segdemo.data.own_photos): train on its training photos "
                             "and validate on its held-out ones, instead of Stanford Background's split")
    parser.add_argument("--mix-stanford", type=int, default=0,
                        help="with --own: also train on N Stanford training photos, so the model does not forget them")
    parser.add_argument("--teacher", type=Path,
                        help="soft targets for the training photos (python -m segdemo.serving.teacher): learn the "
                             "teacher's answers beside the labels (knowledge distillation)")
    parser.add_argument("--teacher-weight", type=float, default=1.0,
                        help="weight of the teacher's term (KL divergence) beside --loss (default %(default)s)")
    parser.add_argument("--init-from", type=Path,
                        help="start from this trained checkpoint's weights (fine-tuning); its architecture, backbone "
                             "and classes replace --arch, --backbone, --labels and --fpn-filters")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    parser.add_argument("--resume", action="store_true", help="continue after the last finished epoch of --out")
    parser.add_argument("--resume-dir", type=Path,
                        help="where the resume state is kept (default: $SEGDEMO_RESUME or ~/.cache/segdemo/resume/...)")
    parser.add_argument("--stop-after", type=int, default=0,
                        help="end this run after N more epochs (the schedule still spans --epochs); resume later")
    parser.add_argument("--no-bf16", action="store_true", help="train in float32 even where bfloat16 is fast")
    parser.add_argument("--cpu-replicas", type=int, default=0,
                        help="split the CPU into N logical devices and mirror over them (tests the multi-device path)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke runs)")
    parser.add_argument("--log-every", type=int, default=10, help="print a progress line every N training steps")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def make_strategy(cpu_replicas):
    if cpu_replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
        return hardware.choose_strategy([f"/cpu:{i}" for i in range(cpu_replicas)])
    return hardware.choose_strategy()


def learning_rate_schedule(args, steps_per_epoch):
    """A float for a constant rate, else warm-up then cosine decay over all epochs."""
    if args.schedule == "constant":
        return args.lr
    total_steps = steps_per_epoch * args.epochs
    warmup = min(int(steps_per_epoch * args.warmup_epochs), total_steps - 1)
    return tf.keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.lr * 0.1, decay_steps=max(1, total_steps - warmup),
        warmup_target=args.lr, warmup_steps=warmup, alpha=0.01,
    )


class ProgressLog(tf.keras.callbacks.Callback):
    """A plain line every ``every`` steps (loss, images/s, ETA of the run), for nohup logs."""

    def __init__(self, every, steps_per_epoch, last_epoch, batch):
        super().__init__()
        self.every, self.steps_per_epoch, self.last_epoch, self.batch = every, steps_per_epoch, last_epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.started = epoch, time.perf_counter()

    def on_train_batch_end(self, step, logs=None):
        done = step + 1
        if done % self.every and done != self.steps_per_epoch:
            return
        seconds = time.perf_counter() - self.started
        per_step = seconds / done
        remaining = (self.steps_per_epoch - done) + (self.last_epoch - self.epoch - 1) * self.steps_per_epoch
        print(f"epoch {self.epoch + 1}/{self.last_epoch} step {done}/{self.steps_per_epoch} "
              f"loss {logs.get('loss', float('nan')):.4f} {self.batch / per_step:.2f} img/s "
              f"ETA {remaining * per_step / 60:.1f} min (validation not included)", flush=True)


class EpochRecorder(tf.keras.callbacks.Callback):
    """Writes history.json, keeps the best weights (or, given ``average``, the mean of every epoch's) and
    saves the resume checkpoint each epoch."""

    def __init__(self, out, config, history, miou_metric, manager, epoch_var, schedule, average=None):
        super().__init__()
        self.out, self.config, self.history = out, config, history
        self.miou_metric, self.manager, self.epoch_var, self.schedule = miou_metric, manager, epoch_var, schedule
        self.average = average
        self.best = max((e["val_miou"] for e in history), default=-1.0)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # fit() has just run validation, so the metric holds the validation confusion matrix
        val_iou = metrics.iou(self.miou_metric.matrix())
        entry = {key: float(value) for key, value in (logs or {}).items()}
        entry.update(
            epoch=epoch + 1,
            seconds=round(time.perf_counter() - self.started, 2),
            lr=float(self.schedule(self.model.optimizer.iterations) if callable(self.schedule) else self.schedule),
            val_iou_per_class={name: metrics.json_number(v) for name, v in zip(self.config.classes, val_iou)},
        )
        self.history.append(entry)
        improved, self.best = entry["val_miou"] > self.best, max(self.best, entry["val_miou"])
        if self.average is not None:
            self.average.add(self.model)
            entry["averaged_epochs"] = int(self.average.count.numpy())
            save_arrays(self.average.arrays(), self.out)
            self.config.save(self.out)
        elif improved:
            save_weights(self.model, self.out)
            self.config.save(self.out)
        write_record(self.out, HISTORY_FILE, self.history)
        self.epoch_var.assign(epoch + 1)
        self.manager.save()
        copy_files(self.out, Path(self.manager.directory))


def stanford_split(args, label_set):
    """(training subset, validation subset) of Stanford Background, as ``--split`` and ``--limit`` say."""
    dataset = load_dataset(label_set, args.data)
    train_ids, val_ids = load_split(dataset.ids, args.split)
    if args.limit:
        train_ids = train_ids[: args.limit]
    return dataset.subset(train_ids), dataset.subset(val_ids)


def own_split(args, label_set):
    """(training subset, validation subset) of a class's own photos: its training photos (with
    ``--mix-stanford`` Stanford training photos, evenly spread over the split) and its held-out ones."""
    photos = OwnPhotos(args.own, label_set)
    train_ids, held_out = photos.split()
    if not train_ids or not held_out:
        raise DatasetError(f"{args.own} needs photos to train on and held-out photos to score ({len(train_ids)} and "
                           f"{len(held_out)} now; every {HELD_OUT_EVERY}rd photo saved is held out)")
    train_data = photos.dataset(train_ids)
    if args.mix_stanford:
        stanford, _ = stanford_split(args, label_set)
        step = max(1, len(stanford) // args.mix_stanford)
        mixed = stanford.subset(stanford.ids[::step][: args.mix_stanford])
        train_data = dataclasses.replace(train_data, ids=train_data.ids + mixed.ids,
                                         images=train_data.images + mixed.images, masks=train_data.masks + mixed.masks)
    return train_data, photos.dataset(held_out)


def input_pipelines(args, label_set, batch):
    """(training batches, validation batches, training subset, validation count)."""
    train_data, val_data = (own_split if args.own else stanford_split)(args, label_set)
    size = args.crop or args.size
    soft_targets = None
    if args.teacher:
        soft_targets, teacher = read_soft_targets(args.teacher, train_data, label_set.num_classes)
        print(f"learning from the labels and from {teacher} (weight {args.teacher_weight})", flush=True)
    train_batches = train_dataset(train_data, size, batch, shuffle_seed=args.seed, augmented=not args.no_augment,
                                  scale_to=args.size, scale_range=args.scale_range, soft_targets=soft_targets)
    return train_batches, eval_dataset(val_data, size, batch), train_data, len(val_data)


CALIBRATION_PHOTOS = 64


def freeze_encoder(model, arch):
    """Stop training ``model``'s encoder layers (a frozen batch norm also keeps its statistics); returns how many.

    Fine-tuning the whole ADE20K DeepLabV3+ on 572 photos lost what it knew of mountains (IoU
    0.53 before, 0.40 after): with the encoder frozen only the head and decoder adapt.
    """
    layers = [layer for layer in segmentation_network(model).layers if get_architecture(arch).is_encoder_layer(layer.name)]
    if not any(layer.weights for layer in layers):
        raise ValueError(f"--freeze-encoder: no encoder layer found in {model.name}")
    for layer in layers:
        layer.trainable = False
    return len(layers)


def compiled_model(args, config, num_classes, schedule, class_weights, train_images):
    """(model, its validation-mIoU metric, resumable state, epoch counter, running average of its weights
    or None), built in scope.

    The network is built at the training crop size; its weights fit any input size.  An
    encoder whose batch norms need calibrating (EfficientNet-B0) gets up to 64 training photos.
    """
    encoder = None if args.encoder_weights == "none" else args.encoder_weights
    height, width = args.crop or args.size
    calibration = train_images[:: max(1, len(train_images) // CALIBRATION_PHOTOS)][:CALIBRATION_PHOTOS]
    model = build_model(dataclasses.replace(config, height=height, width=width), encoder_weights=encoder,
                        calibration_photos=calibration)
    if args.init_from:
        load_weights(model, args.init_from)
    if args.bn_momentum:
        set_batchnorm_momentum(model, args.bn_momentum)
    if args.freeze_encoder:
        print(f"encoder frozen: {freeze_encoder(model, args.arch)} layers", flush=True)
    optimizer = tf.keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay)
    miou = ConfusionMatrixMetric(num_classes, "miou")
    loss = parse_loss(args.loss, class_weights)
    model.compile(optimizer=optimizer, loss=with_teacher(loss, args.teacher_weight) if args.teacher else loss,
                  metrics=[ConfusionMatrixMetric(num_classes, "pixel_accuracy"), miou])
    epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    average = RunningAverage(model) if args.average_weights else None
    state = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch_var,
                                **({"average": average.trackable()} if average else {}))
    return model, miou, state, epoch_var, average


def copy_files(source, target):
    """Copy the checkpoint files that exist in ``source`` (history, best weights, config) to ``target``."""
    for name in MIRRORED_FILES:
        if Path(source, name).exists():
            shutil.copy2(Path(source, name), Path(target, name))
    weights = shards.stored_files(Path(source, WEIGHTS_FILE))
    if weights:
        for old in shards.stored_files(Path(target, WEIGHTS_FILE)):
            old.unlink()
        for path in weights:
            shutil.copy2(path, Path(target, path.name))


def restored_history(args, state, manager, epoch_var, steps_per_epoch, average=None):
    """The epochs already done when resuming (restoring the state), else an empty history.

    The output folder gets back the history and best weights saved beside the resume state,
    in case it is an older copy (a checkout made before the last epochs were committed).
    A machine without that state (a fresh one) continues from the committed checkpoint instead:
    its best weights, its history, and the schedule where it ended; only the optimizer's moments
    start again (and an ``average`` of weights goes on from the committed mean, as if of as many epochs).
    """
    if not args.resume:
        return []
    if not manager.latest_checkpoint:
        history = read_record(args.out, HISTORY_FILE)
        if history is None or not shards.stored_files(Path(args.out, WEIGHTS_FILE)):
            print(f"nothing to resume in {manager.directory} or {args.out}; starting from epoch 1")
            return []
        load_weights(state.model, args.out)
        epoch_var.assign(len(history))
        if average is not None:
            average.restart_from(state.model, len(history))
        state.optimizer.iterations.assign(len(history) * steps_per_epoch)
        print(f"no resume state in {manager.directory}: continuing after epoch {len(history)} from the best weights "
              f"committed in {args.out} (optimizer moments start afresh)", flush=True)
        return history
    state.restore(manager.latest_checkpoint).expect_partial()
    print(f"resuming after epoch {int(epoch_var.numpy())} from {manager.latest_checkpoint}")
    copy_files(manager.directory, args.out)
    return (read_record(args.out, HISTORY_FILE) or [])[: int(epoch_var.numpy())]


def with_checkpoint_start(args):
    """``args`` as ``--init-from`` makes them: the checkpoint's network (architecture, backbone, classes,
    pyramid, output stride unless ``--output-stride`` changes it) and no pretrained encoder (the checkpoint's weights replace it); a copy, ``args`` unchanged."""
    if not args.init_from:
        return args
    start = ModelConfig.load(args.init_from)
    print(f"fine-tuning {start.title} from {args.init_from}", flush=True)
    return argparse.Namespace(**{**vars(args), "arch": start.arch, "backbone": start.backbone, "labels": start.label_set,
                                 "fpn_filters": start.pyramid_filters, "encoder_weights": "none",
                                 "output_stride": args.output_stride or start.output_stride})


def with_resumed_output_stride(args):
    """``args`` with the output stride a resumed run was built at (its folder's config), unless ``--output-stride``
    says otherwise, which a run under way refuses: the weights fit every stride, so a silent change would go on
    training another network under the same name."""
    if not (args.resume and Path(args.out, CONFIG_FILE).exists()):
        return args
    built = ModelConfig.load(args.out).output_stride
    if args.output_stride and args.output_stride != built:
        raise ValueError(f"{args.out} is a run at output stride {built}; it cannot resume at {args.output_stride}")
    return argparse.Namespace(**{**vars(args), "output_stride": built})


def train(args, argv, callbacks=()):
    """Train as ``args`` (parsed from the command line ``argv``, recorded with the run) say; ``callbacks`` (Keras
    callbacks) also watch the run, e.g. the Train tab's live view."""
    if args.teacher_weight != 1.0 and not args.teacher:
        raise ValueError("--teacher-weight weighs a teacher's answers: give them with --teacher FILE")
    args = with_checkpoint_start(with_resumed_output_stride(args))
    label_set = get_label_set(args.labels)
    strategy = make_strategy(args.cpu_replicas)
    policy = hardware.set_precision(hardware.choose_precision(allow_bf16=not args.no_bf16))
    tf.keras.utils.set_random_seed(args.seed)
    batch = args.batch * strategy.num_replicas_in_sync
    train_batches, val_batches, train_data, val_count = input_pipelines(args, label_set, batch)
    steps_per_epoch = max(1, len(train_data) // batch)
    class_weights = None
    if args.class_weights == "inverse-sqrt":
        class_weights = inverse_sqrt_frequency_weights(train_data.masks, label_set.num_classes)
        print("class weights: " + ", ".join(f"{c} {w:.2f}" for c, w in zip(label_set.classes, class_weights)))

    height, width = args.size
    config = ModelConfig(arch=args.arch, backbone=args.backbone, label_set=label_set.name, height=height,
                         width=width, encoder_weights=args.encoder_weights, pyramid_filters=args.fpn_filters,
                         output_stride=args.output_stride or ModelConfig.output_stride)
    schedule = learning_rate_schedule(args, steps_per_epoch)
    with strategy.scope():
        model, miou, state, epoch_var, average = compiled_model(args, config, label_set.num_classes, schedule,
                                                                 class_weights, train_data.images)
    args.out.mkdir(parents=True, exist_ok=True)
    manager = tf.train.CheckpointManager(state, args.resume_dir or resume_dir(args.out), max_to_keep=1)
    history = restored_history(args, state, manager, epoch_var, steps_per_epoch, average)

    record_command(args.out, f"{TRAIN_COMMAND} {shlex.join(argv)}", fresh=not args.resume)
    if args.init_from and not history:  # the starting model's score on the same photos: what fine-tuning gains on
        before = model.evaluate(val_batches, verbose=0, return_dict=True)
        Path(args.out, BEFORE_FILE).write_text(json.dumps({"val_miou": float(before["miou"]), "from": str(args.init_from)}) + "\n")
        print(f"before fine-tuning: validation mIoU {before['miou']:.4f}", flush=True)
    crop = f", trained on {args.crop[0]}x{args.crop[1]} crops" if args.crop else ""
    print(f"{config.title} on {label_set.name}: {len(train_data)} train / {val_count} val images, "
          f"{height}x{width}{crop}, batch {batch}, {policy}, {strategy.num_replicas_in_sync} replica(s)", flush=True)
    recorder = EpochRecorder(args.out, config, history, miou, manager, epoch_var, schedule, average)
    first_epoch = int(epoch_var.numpy())
    last_epoch = min(args.epochs, first_epoch + args.stop_after) if args.stop_after else args.epochs
    progress = ProgressLog(args.log_every, steps_per_epoch, last_epoch, batch)
    model.fit(train_batches, validation_data=val_batches, epochs=last_epoch, initial_epoch=first_epoch,
              steps_per_epoch=steps_per_epoch, callbacks=[progress, recorder, *callbacks],
              verbose=1 if sys.stdout.isatty() else 2)
    kept = f"the mean of {int(average.count.numpy())} epochs' weights" if average else "the best epoch's weights"
    print(f"best validation mIoU of an epoch {recorder.best:.4f}; {kept} in {args.out}")
    return history


def main(argv=None, callbacks=()):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    previous = tf.keras.mixed_precision.global_policy()
    try:
        train(args, argv, callbacks)
    except (CheckpointError, DatasetError, PretrainedWeightsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:  # called in-process (tests, the notebook's kernel), training's precision must not outlive it
        tf.keras.mixed_precision.set_global_policy(previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
