"""Stanford Background: locating, reading, caching, splitting and feeding the data."""
from segdemo.data.layout import DatasetError
from segdemo.data.split import load_split
from segdemo.data.stanford import StanfordBackground, load_dataset, read_label_matrix, resolve_data_root

__all__ = [
    "DatasetError",
    "StanfordBackground",
    "load_dataset",
    "load_split",
    "read_label_matrix",
    "resolve_data_root",
]
