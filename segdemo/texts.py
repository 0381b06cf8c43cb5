"""Every user-facing text, in one file per language (``segdemo/locales/<language>.json``).

Keys are dotted by where they are used (``tab.*``, ``predict.*``, ``image.*`` for the upload
messages, ...); values may hold ``{placeholders}`` filled at request time.  Every language
has the same keys and the same placeholders (``tests/test_locales.py``).  Besides our own
keys, ``common.*`` holds Gradio's own texts that its Japanese translation lacks, under
Gradio's keys.  Adding a language is one more JSON file.
"""
import json
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
TEXT = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(LOCALES.glob("*.json"))}
ENGLISH = "en"


def say(language, key, **values):
    """The text for ``key`` in ``language`` (English where the language is unknown), filled with ``values``."""
    return TEXT.get(language, TEXT[ENGLISH])[key].format(**values)
