"""The label sets of Stanford Background and how each class is drawn."""
from dataclasses import dataclass

UNKNOWN = -1  # the dataset marks unlabelled pixels with negative values


@dataclass(frozen=True)
class LabelSet:
    """One semantic labelling of the dataset: the file suffix it lives in and its classes."""

    name: str
    suffix: str
    classes: tuple
    colours: tuple  # one RGB triple per class, chosen to be told apart on a photo

    @property
    def num_classes(self) -> int:
        return len(self.classes)


REGIONS = LabelSet(
    name="regions",
    suffix="regions",
    classes=("sky", "tree", "road", "grass", "water", "building", "mountain", "foreground object"),
    colours=(
        (70, 130, 180),
        (34, 139, 34),
        (128, 64, 128),
        (152, 251, 152),
        (0, 60, 255),
        (220, 120, 60),
        (140, 110, 80),
        (230, 30, 80),
    ),
)

SURFACES = LabelSet(
    name="surfaces",
    suffix="surfaces",
    classes=("sky", "horizontal", "vertical"),
    colours=((70, 130, 180), (128, 64, 128), (220, 120, 60)),
)

LABEL_SETS = {label_set.name: label_set for label_set in (REGIONS, SURFACES)}


def get_label_set(name: str) -> LabelSet:
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise ValueError(f"unknown label set {name!r}; choose one of {sorted(LABEL_SETS)}") from None
