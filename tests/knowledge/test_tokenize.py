"""Sub-words of Chinese compounds, used to find a question's focus in a passage."""

from __future__ import annotations

import pytest

from knowledge.tokenize import chinese_subwords


def test_a_compound_yields_the_dictionary_words_inside_it() -> None:
    parts = chinese_subwords("电话号码")
    assert "电话" in parts
    assert "号码" in parts
    assert "电话号码" not in parts


def test_longer_sub_words_come_first() -> None:
    parts = chinese_subwords("行业平均水平")
    assert parts[0] == "平均水平"
    assert {"行业", "平均", "水平"} <= set(parts)


@pytest.mark.parametrize("word", ["目标", "年假", "target", "value", ""])
def test_two_character_and_english_words_have_no_sub_words(word: str) -> None:
    assert chinese_subwords(word) == []
