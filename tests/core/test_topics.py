"""The outline: every topic and every area can be chosen on its own."""

from __future__ import annotations

from bot.core.boards import topic_key
from bot.core.topics import AREA_IDS, AREAS, TOPIC_IDS, TOPICS, topic_id, topics_in


def test_area_ids_differ_from_topic_ids() -> None:
    # A shared id would make the topic unreachable: topics_in reads an area first, and the
    # leaderboard would file the topic's board under the area's key.
    assert not AREA_IDS & TOPIC_IDS


def test_every_topic_selects_itself_alone() -> None:
    assert {t.id: topics_in(t.id) for t in TOPICS} == {t.id: (t.id,) for t in TOPICS}
    assert all(topic_key(t.id) == t.id for t in TOPICS)


def test_every_area_selects_its_topics() -> None:
    for area in AREAS:
        own = tuple(t.id for t in TOPICS if t.area == area.id)
        assert own, f"area {area.id} has no topic"
        assert topics_in(area.id) == own
        assert topic_key(area.id) == f"area:{area.id}"
    assert {t.area for t in TOPICS} <= AREA_IDS


def test_attention_area() -> None:
    assert topics_in("attn") == ("attention", "transformers")
    area = next(a for a in AREAS if a.id == "attn")
    assert area.name.en == "Attention and Transformers"
    assert area.name.zh == "注意力机制与 Transformer"


def test_a_topic_is_found_whatever_its_case_hyphens_or_spaces() -> None:
    assert topic_id("CNN") == "cnn"
    assert topic_id(" Vanishing-Gradients ") == "vanishing_gradients"
    assert topic_id("vanishing gradients") == "vanishing_gradients"
    assert topic_id("LSTM_GRU") == "lstm_gru"
    assert topic_id("quantum_chemistry") == "quantum_chemistry"  # unknown: as typed
