"""Every language says everything English says, with the same placeholders, and nothing more."""
import re

import pytest

from segdemo.texts import ENGLISH, TEXT

OTHERS = [language for language in TEXT if language != ENGLISH]


def placeholders(template):
    """``{name}`` and ``{name:format}`` fields (a formula's ``\\frac{a}{b}`` counts too: it must match as well)."""
    return sorted(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:[:!][^{}]*)?\}", template))


def test_there_is_english_and_japanese():
    assert {"en", "ja"} <= set(TEXT)


@pytest.mark.parametrize("language", OTHERS)
def test_same_keys_as_english(language):
    assert sorted(set(TEXT[ENGLISH]) - set(TEXT[language])) == [], "missing"
    assert sorted(set(TEXT[language]) - set(TEXT[ENGLISH])) == [], "not in English"


@pytest.mark.parametrize("language", OTHERS)
def test_same_placeholders_as_english(language):
    differ = {key: (placeholders(english), placeholders(TEXT[language][key]))
              for key, english in TEXT[ENGLISH].items()
              if key in TEXT[language] and placeholders(english) != placeholders(TEXT[language][key])}
    assert differ == {}


def test_table_headers_have_as_many_columns_in_every_language():
    """Headers kept as 'a|b|c' line up with the rows by position."""
    for key, english in TEXT[ENGLISH].items():
        for language in OTHERS:
            assert TEXT[language][key].count("|") == english.count("|"), (language, key)


def test_the_checker_sees_a_missing_placeholder():
    assert placeholders("{count} of {total:.0f}") == ["count", "total"]
    assert placeholders("{count} のうち") != placeholders("{count} of {total}")


@pytest.mark.parametrize("language", sorted(TEXT))
def test_numbers_a_label_cannot_format_match_the_code(language):
    """A component's label is translated in the browser, which fills no placeholder: the numbers it
    states are written out, and must be the ones the code uses."""
    from segdemo.serving.class_training import OWN_MIX

    assert re.search(rf"\b{OWN_MIX}\b", TEXT[language]["train.data_info"])
