"""How numbers read in a numeric question's text: the word counts of noise_distribution are a
dict literal, where a thousands comma ('sat': 2,500) would read as one more entry."""

from __future__ import annotations

import re

from bot.checkers import TorchCheckers

CHECKERS = TorchCheckers()


def test_the_word_counts_dict_has_one_entry_per_word() -> None:
    for seed in range(200):
        question = CHECKERS.generate("noise_distribution", seed)
        counts = question.params["counts"]
        for text in (question.text.en, question.text.zh):
            inside = re.search(r"\{(.*?)\}", text)
            assert inside is not None, text
            entries = inside.group(1).split(", ")
            assert [int(e.split(": ")[1]) for e in entries] == counts, (seed, text)
