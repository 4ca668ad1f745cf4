"""`/admin reset` and `/admin import` through the fake Discord."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fakediscord import FakeDiscord, Upload
from .harness import button_ids, running_bot, told

pytestmark = pytest.mark.timeout(60)

GOOD_PACK = """\
questions:
  - id: club-adam-default-lr
    topic: optimizers
    kind: mcq
    difficulty: easy
    text:
      en: "What is Adam's default learning rate in torch.optim?"
      zh: "torch.optim 中 Adam 的默认学习率是多少?"
    choices:
      - {en: "1e-3", zh: "1e-3"}
      - {en: "1e-2", zh: "1e-2"}
      - {en: "0.1", zh: "0.1"}
    answer: A
    explanation: {en: "torch.optim.Adam(lr=0.001).", zh: "torch.optim.Adam 默认 lr=0.001。"}
"""

BAD_PACK = """\
questions:
  - id: club-one
    topic: optimizers
    kind: mcq
    difficulty: easy
    text: {en: "Only English"}
    choices:
      - {en: "a", zh: "甲"}
      - {en: "b", zh: "乙"}
    answer: C
    explanation: {en: "x", zh: "x"}
  - id: club-two
    topic: quantum_chemistry
    kind: open
    difficulty: hard
    text: {en: "Explain attention.", zh: "解释注意力机制。"}
    model_answer: {en: "...", zh: "..."}
    key_points: [{en: "a", zh: "甲"}]
    explanation: {en: "x", zh: "x"}
  - id: club-adam-step
    topic: optimizers
    kind: numeric
    family: attention_weights
  - id: club-sgd-step
    topic: optimizers
    kind: numeric
    family: optimizer_step
"""


async def answer_one(fake: FakeDiscord, user_name: str) -> None:
    user = fake.user(user_name)
    posted = await user.slash("question", topic="vanishing_gradients", kind="concept")
    assert posted.message is not None
    answered = await user.click(posted.message, button_ids(posted.message)[1])
    assert (await told(answered)).startswith("✅")


async def points_of(fake: FakeDiscord, user_name: str) -> str:
    stats = await fake.user(user_name).slash("stats")
    assert stats.message is not None
    return str(stats.message.embeds[0]["description"])


async def test_reset_needs_manage_server_and_a_confirmation(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        await answer_one(fake_discord, "alice")
        await answer_one(fake_discord, "bob")

        # bob lacks Manage Server: refused on our side even if Discord lets the command through.
        refused = await bob.slash("admin reset", check_permissions=False)
        assert (await told(refused)).startswith("⚠️") and "Manage Server" in (await told(refused))
        assert (await points_of(fake_discord, "bob")).startswith("**1** point")

        asked = await alice.slash("admin reset", member=bob)
        assert asked.message is not None and asked.message.ephemeral
        confirm, _cancel = button_ids(asked.message)
        assert (await points_of(fake_discord, "bob")).startswith("**1** point")  # not yet

        # Someone else pressing the confirm button (a forwarded id) is refused too.
        stolen = await bob.click(asked.message, confirm)
        assert (await told(stolen)).startswith("⚠️")
        assert (await points_of(fake_discord, "bob")).startswith("**1** point")

        done = await alice.click(asked.message, confirm)
        assert done.response_type == 7 and (await told(done)).startswith("✅ Done: 1 answer")
        assert (await points_of(fake_discord, "bob")).startswith("**0** points")
        assert (await points_of(fake_discord, "alice")).startswith("**1** point")

        everyone = await alice.slash("admin reset")
        cancelled = await alice.click(everyone.message or everyone, button_ids(everyone.message)[1])
        assert "Cancelled" in (await told(cancelled))
        assert (await points_of(fake_discord, "alice")).startswith("**1** point")
        fake_discord.assert_clean()


async def test_import_good_and_bad_packs(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        refused = await bob.slash(
            "admin import", file=Upload("club.yaml", GOOD_PACK.encode()), check_permissions=False
        )
        assert (await told(refused)).startswith("⚠️")

        bad = await alice.slash("admin import", file=Upload("bad.yaml", BAD_PACK.encode()))
        report = await told(bad)
        assert report.startswith("⚠️ bad.yaml was not imported: 4 problem(s)")
        assert "bad.yaml:6: club-one: text.zh: missing" in report
        assert "bad.yaml:10: club-one: answer:" in report
        assert "bad.yaml:13: club-two: topic: unknown topic 'quantum_chemistry'" in report
        assert "bad.yaml:23: club-adam-step: family: unknown checker family" in report
        assert "club-sgd-step" not in report  # that one is fine...
        # ...but nothing of the bad pack was imported, not even its valid question.
        none = await alice.slash("question", topic="optimizers")  # the fixture bank has none
        assert (await told(none)).startswith("⚠️")

        good = await alice.slash("admin import", file=Upload("club.yaml", GOOD_PACK.encode()))
        assert await told(good) == "✅ Imported 1 question(s) from club.yaml for this server."
        posted = await bob.slash("question", topic="optimizers")
        assert posted.message is not None
        assert "Adam's default learning rate" in posted.message.embeds[0]["description"]

        # The same ids from another file: refused. The same file corrected: it replaces the
        # pack (a typo can be fixed), in one step.
        other = await alice.slash("admin import", file=Upload("other.yaml", GOOD_PACK.encode()))
        assert "duplicate id" in (await told(other))
        fixed = GOOD_PACK.replace("default learning rate", "default lr")
        again = await alice.slash("admin import", file=Upload("club.yaml", fixed.encode()))
        assert await told(again) == (
            "✅ Replaced the earlier club.yaml (1 question(s)) with this one: 1 question(s) for "
            "this server."
        )
        posted = await bob.slash("question", topic="optimizers")
        assert posted.message is not None
        assert "Adam's default lr" in posted.message.embeds[0]["description"]

    async with running_bot(fake_discord, db):  # packs survive a restart
        posted = await bob.slash("question", topic="optimizers")
        assert posted.message is not None
        assert "Adam's default lr" in posted.message.embeds[0]["description"]
        answered = await bob.click(posted.message, button_ids(posted.message)[0])
        assert (await told(answered)).startswith("✅")
        fake_discord.assert_clean()
