"""Find the checkpoints the app can offer, load each once, and remember why others failed."""
import os
from dataclasses import dataclass
from pathlib import Path

from segdemo.networks.checkpoint import CONFIG_FILE, METRICS_FILE, decoders_on_several_encoders, read_record
from segdemo.networks.models import CheckpointError, ModelConfig
from segdemo.paths import PROJECT_ROOT
from segdemo.serving.inference import Segmenter

CHECKPOINTS_ENV = "SEGDEMO_CHECKPOINTS"
DEFAULT_CHECKPOINTS = PROJECT_ROOT / "checkpoints"
# what a tab comparing models starts with: the four decoders on the fast encoder (U-Net, PSPNet, FPN
# and DeepLabV3+, the best and not the slowest) and the tutorial's recipe; the EfficientNet-B0 ones
# are a click away (slower on a 2-core Space)
DEFAULT_SET = ("unet", "pspnet", "fpn", "deeplabv3plus", "seed-recipe")
PREFERRED_ORDER = ("unet", "pspnet", "fpn", "deeplabv3plus", "linknet", "unet-efficientnetb0", "pspnet-efficientnetb0",
                   "fpn-efficientnetb0", "seed-recipe")


@dataclass
class ModelEntry:
    """One checkpoint folder: its config when readable, its loaded segmenter, or the error."""

    name: str
    folder: Path
    config: ModelConfig = None
    segmenter: Segmenter = None
    error: str = None
    label: str = None  # how the lists name it, when not by its network and folder (a class run)

    @property
    def available(self):
        return self.segmenter is not None

    def record(self, filename):
        """One of the folder's JSON records (``networks.checkpoint``), or None when absent or unreadable."""
        return read_record(self.folder, filename)


def checkpoints_root(explicit=None):
    return Path(explicit or os.environ.get(CHECKPOINTS_ENV) or DEFAULT_CHECKPOINTS)


def display_order(name):
    """The MobileNetV2 decoders, the EfficientNet-B0 ones, the seed recipe, then any other checkpoint by name."""
    return (PREFERRED_ORDER.index(name) if name in PREFERRED_ORDER else len(PREFERRED_ORDER), name)


class ModelRegistry:
    """Every checkpoint folder under ``root``, loaded eagerly so no user waits on a first load."""

    def __init__(self, root=None):
        self.root = checkpoints_root(root)
        folders = sorted(
            (path for path in self.root.iterdir() if path.is_dir() and (path / CONFIG_FILE).exists()),
            key=lambda path: display_order(path.name),
        ) if self.root.is_dir() else []
        self.entries = {folder.name: self._load(folder) for folder in folders}

    @staticmethod
    def _load(folder):
        entry = ModelEntry(name=folder.name, folder=folder)
        try:
            entry.config = ModelConfig.load(folder)
            entry.segmenter = Segmenter(folder)
            for note in entry.segmenter.load_notes:
                print(f"segdemo: {folder.name}: {note}", flush=True)
        except CheckpointError as error:
            entry.error = str(error)
        except Exception as error:  # a broken checkpoint must not take the app down
            entry.error = f"{type(error).__name__}: {error}"
        return entry

    def add(self, folder, name, label=None):
        """Load one more checkpoint (a class run) while serving; the entries are swapped whole, never changed in place."""
        entry = self._load(Path(folder))
        entry.name, entry.label = name, label
        self.entries = {**self.entries, name: entry}
        return entry

    def remove(self, name):
        self.entries = {key: entry for key, entry in self.entries.items() if key != name}

    def available(self, label_set=None):
        return [
            name for name, entry in self.entries.items()
            if entry.available and (label_set is None or entry.config.label_set == label_set)
        ]

    def unavailable(self):
        return {name: entry.error for name, entry in self.entries.items() if not entry.available}

    def records(self, filename):
        """{name: record} of the available models whose folder holds this JSON record (``networks.checkpoint``)."""
        found = {name: self.entries[name].record(filename) for name in self.available()}
        return {name: record for name, record in found.items() if record}

    def comparable_scores(self):
        """{name: metrics.json} of the available models scored on the recorded validation photos, so comparable
        with each other (not the seed recipe's own split, not a class's own photos)."""
        return {name: metrics for name, metrics in self.records(METRICS_FILE).items() if metrics.get("split", "fixed") == "fixed"}

    def best(self, label_set):
        """The model of ``label_set`` with the highest comparable mIoU, else its first, or None: what a student
        gets before choosing (a model a class would not pick should not be the one everyone sees first)."""
        names = self.available(label_set)
        scores = self.comparable_scores()
        scored = [name for name in names if name in scores]
        return max(scored, key=lambda name: scores[name]["miou"]) if scored else next(iter(names), None)

    def default_set(self):
        """The models a tab comparing several starts with: ``DEFAULT_SET`` where available, else the first three."""
        available = self.available()
        return [name for name in DEFAULT_SET if name in available] or available[:3]

    def fastest(self, label_set="regions"):
        """The model of ``label_set`` (else any) with the shortest measured pass, or None: from the
        default set when it holds one, so two models a millisecond apart (the PSPNets on either
        encoder) do not swap places between one start of the app and the next."""
        of_set = self.available(label_set) or self.available()
        names = [name for name in self.default_set() if name in of_set] or of_set
        return min(names, key=lambda n: self.get(n).segmenter.warm_milliseconds) if names else None

    def same_decoder_on_several_encoders(self, names=None):
        """``[((arch, label_set), [(backbone, name), ...])]`` for each decoder the available models
        (or ``names``) hold on more than one encoder: "same decoder, two encoders"."""
        configs = [(name, self.get(name).config) for name in (self.available() if names is None else names)]
        return decoders_on_several_encoders((name, config.arch, config.label_set, config.backbone) for name, config in configs)

    def label_sets(self):
        return sorted({entry.config.label_set for entry in self.entries.values() if entry.available})

    def get(self, name):
        entry = self.entries.get(name)
        if entry is None or not entry.available:
            known = ", ".join(self.available()) or "none"
            raise KeyError(f"model {name!r} is not available (available: {known})")
        return entry

    def segment(self, name, image, **kwargs):
        return self.get(name).segmenter.segment(image, **kwargs)
