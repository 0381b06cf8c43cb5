"""The texts of ``segdemo/locales`` in the page: the browser's language, English otherwise.

Labels and page text are translated by the page itself (``t``).  Text the server writes at
request time (legends, tables, messages, figures) follows the request's language (``say``).
"""
import gradio as gr

from segdemo.texts import ENGLISH, TEXT, say

I18N = gr.I18n(**TEXT)
EN = TEXT[ENGLISH]


def t(key):
    """A translatable label for a component (translated in the browser)."""
    return I18N(key)


def language_of(request):
    """'ja' when the browser's first language is Japanese, else 'en'.

    The page cannot translate what the server writes, so that text follows the request's
    Accept-Language; API clients, which send none, get English.
    """
    header = request.headers.get("accept-language", "") if request is not None else ""
    return "ja" if header.split(",")[0].strip().lower().startswith("ja") else "en"


def say_columns(language, key):
    """A table's column headers, kept in the text tables as one 'a|b|c' string."""
    return say(language, key).split("|")


def table(headers, rows):
    """A Dataframe value whose columns each show their numbers with one count of decimals.

    The cells keep their numbers (the table still sorts by value); only what is shown is
    aligned, so a score rounded to 0.85 reads 0.850 beside 0.869 instead of looking shorter.
    """
    places = [max((decimals(cell) for cell in column if isinstance(cell, float)), default=0) for column in zip(*rows)]
    shown = [[f"{cell:.{places[i]}f}" if isinstance(cell, float) else ("" if cell is None else str(cell))
              for i, cell in enumerate(row)] for row in rows]
    return {"headers": headers, "data": rows,
            "metadata": {"display_value": shown, "styling": [[""] * len(row) for row in rows]}}


def decimals(number):
    """How many decimals a rounded float has in its shortest form (0.85 -> 2, 12.0 -> 0)."""
    whole, _, fraction = str(float(number)).partition(".")
    return 0 if "e" in whole + fraction or fraction == "0" else len(fraction)


def say_table(language, key, rows):
    """A Dataframe value: ``rows`` under the column headers ``key`` in ``language``."""
    return table(say_columns(language, key), rows)


def say_metric_titles(language, metrics):
    """The page's titles of these ``networks.checkpoint.ReportedMetric`` (``metric.<key>``)."""
    return [say(language, f"metric.{metric.key}") for metric in metrics]


def say_class(language, name):
    """A class name in ``language``; classes of a checkpoint unknown here keep their own name."""
    return TEXT.get(language, EN).get(f"class.{name}", name)


def say_engine(language, engine):
    """How a model runs, in plain words ("LiteRT int8 weights" -> "exported network, 8-bit weights")."""
    return TEXT.get(language, EN).get(f"engine.{engine}", EN.get(f"engine.{engine}", engine))


def say_message(language, message):
    """A ``segdemo.imaging.Message`` (error or note about an upload) in ``language``."""
    return say(language, f"{message.namespace}.{message.key}", **message.values)
