"""`/interview start topics`: a list of areas and topics, completed one entry at a time."""

from __future__ import annotations

from bot.discord._topics import split_topics, topic_list_choices


def test_entries_are_separated_by_commas_or_spaces() -> None:
    assert split_topics("cnn, rnn  initialization,,attention") == [
        "cnn",
        "rnn",
        "initialization",
        "attention",
    ]
    assert split_topics(" ") == []


def test_the_entry_being_typed_is_completed_and_the_others_kept() -> None:
    values = [c.value for c in topic_list_choices("cnn, grad", "en")]
    assert "cnn, vanishing_gradients" in values and "cnn, gradient_clipping" in values
    assert all(value.startswith("cnn, ") for value in values)


def test_after_a_separator_every_other_topic_is_offered() -> None:
    for typed in ("cnn,", "cnn, ", "cnn "):
        values = [c.value for c in topic_list_choices(typed, "en")]
        assert values and all(value.startswith("cnn, ") for value in values), typed
        assert "cnn, cnn" not in values  # an entry already chosen is not offered again


def test_choices_fit_discord_limits() -> None:
    long = ", ".join(["vanishing_gradients"] * 4) + ", gra"  # 86 characters typed
    for choice in topic_list_choices(long, "zh"):
        assert len(choice.name) <= 100 and len(choice.value) <= 100
    assert len(topic_list_choices("", "en")) == 25
