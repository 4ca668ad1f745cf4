"""Discord polish through the fake Discord: who sees which command, `/help` generated from the
command tree, readable footers and feedback, and Chinese replies without English left in them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fakediscord import FakeDiscord
from .harness import button_ids, counted, footer, running_bot, told

pytestmark = pytest.mark.timeout(60)


MANAGE_GUILD = 1 << 5
GUILD_CONTEXT = 0


def leaf_commands(commands: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(full name, definition) of every command a user can run, from the synced payload."""
    for command in commands:
        subs = [o for o in command.get("options") or [] if o["type"] in (1, 2)]
        if not subs:
            yield command["name"], command
        for sub in subs:
            if sub["type"] == 1:
                yield f"{command['name']} {sub['name']}", sub
            else:
                for leaf in sub.get("options") or []:
                    yield f"{command['name']} {sub['name']} {leaf['name']}", leaf


async def test_admin_and_daily_are_for_server_managers_only(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        commands = {c["name"]: c for c in fake_discord.global_commands}
        for name in ("admin", "daily"):
            group = commands[name]
            assert group["default_member_permissions"] == str(MANAGE_GUILD), name
            assert group["dm_permission"] is False, name
            assert group["contexts"] == [GUILD_CONTEXT], name
        for name in ("question", "stats", "help", "interview", "demo"):
            assert commands[name]["default_member_permissions"] is None, name
            assert commands[name]["dm_permission"] is not False, name

        # Discord does not even offer them to a plain member...
        for command in ("admin reset", "admin import", "daily set", "daily off"):
            with pytest.raises(AssertionError, match="default_member_permissions"):
                await bob.slash(command, wait=False)
        # ...but does to a member with Manage Server.
        asked = await alice.slash("admin reset")
        assert asked.message is not None and len(button_ids(asked.message)) == 2
        off = await alice.slash("daily off")
        assert "no daily question" in await told(off)
        fake_discord.assert_clean()


async def test_help_lists_every_command_of_the_tree_in_both_languages(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        leaves = dict(leaf_commands(fake_discord.global_commands))
        for required in ("interview start", "review", "demo gan", "daily set", "admin import"):
            assert required in leaves
        english = await alice.slash("help")
        chinese = await alice.slash("help", locale="zh-CN")
        assert english.message is not None and chinese.message is not None
        en_text = english.message.embeds[0]["description"]
        zh_text = chinese.message.embeds[0]["description"]
        for name, definition in leaves.items():
            zh = definition["description_localizations"]["zh-CN"]
            assert f"**/{name}** — {definition['description']}" in en_text, name
            assert f"**/{name}** — {zh}" in zh_text, name
        assert en_text.count("**/") == zh_text.count("**/") == len(leaves)
        assert "**/admin reset** — Reset this server's scores (asks for confirmation) (Manage" in (
            en_text
        )
        assert "（需要“管理服务器”权限）" in zh_text
        fake_discord.assert_clean()


async def test_every_description_has_a_chinese_translation(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Commands, subcommands, options and choices: Chinese users see no English description."""
    missing: list[str] = []

    def visit(where: str, item: dict[str, Any]) -> None:
        if "description" in item and not (item.get("description_localizations") or {}).get("zh-CN"):
            missing.append(where)
        for choice in item.get("choices") or []:
            if (
                not (choice.get("name_localizations") or {}).get("zh-CN")
                and not str(choice["value"]).isascii()
            ):
                missing.append(f"{where} choice {choice['name']}")
        for option in item.get("options") or []:
            visit(f"{where} {option['name']}", option)

    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        for command in fake_discord.global_commands:
            visit(command["name"], command)
    assert not missing, missing


async def test_footer_shows_the_reference_as_one(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="conv_output", kind="numeric")
        assert posted.message is not None
        assert re.fullmatch(
            r"Ref conv_output:\d+ · 0 answered, 0 correct", footer(posted.message)
        ), footer(posted.message)
        chinese = await alice.slash("question", topic="vanishing_gradients", locale="zh-CN")
        assert chinese.message is not None
        assert footer(chinese.message).startswith("编号：")
        assert footer(chinese.message).endswith("0 人作答，0 人答对")
        # The reference still identifies the question: answering works from the message.
        right = await alice.click(chinese.message, button_ids(chinese.message)[1])
        assert (await told(right)).startswith("✅")
        await counted(fake_discord, chinese.message, "1 人作答，1 人答对")
        fake_discord.assert_clean()


async def test_unreadable_answer_is_explained_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        for locale, count in (("en-US", "did not count"), ("zh-CN", "不计入")):
            posted = await alice.slash("question", topic="conv_output", kind="numeric")
            assert posted.message is not None
            (answer,) = button_ids(posted.message)
            opened = await alice.click(posted.message, answer, locale=locale)
            sent = await alice.submit_modal(opened, {"answer": "about twelve"}, locale=locale)
            text = await told(sent)
            assert text.startswith("⚠️") and text.count(count) == 1, text
        fake_discord.assert_clean()


async def test_points_and_area_leaderboard_read_well(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        assert posted.message is not None
        await alice.click(posted.message, button_ids(posted.message)[1])
        board = await bob.slash("leaderboard", topic="basics")
        assert board.message is not None
        embed = board.message.embeds[0]
        assert embed["title"].endswith(" · Neural-network basics"), embed["title"]
        assert "— 1 point · 100%" in embed["description"]
        mine = await alice.slash("leaderboard", topic="basics")
        assert mine.message is not None
        assert "You: #1 with 1 point" in mine.message.embeds[0]["description"]
        zh = await bob.slash("leaderboard", topic="basics", locale="zh-CN")
        assert zh.message is not None
        assert zh.message.embeds[0]["title"].endswith(" · 神经网络基础")
        stats = await alice.slash("stats")
        assert stats.message is not None
        fields = stats.message.embeds[0]["fields"]
        assert fields[0]["value"].startswith("1 point · 1/1"), fields
        fake_discord.assert_clean()


async def test_stats_of_nobody_is_a_sentence_not_a_chart(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        empty = await alice.slash("stats")
        assert empty.message is not None and empty.message.attachments == []
        embed = empty.message.embeds[0]
        assert "image" not in embed or not embed["image"]
        assert "No answers yet: try `/question`." in embed["fields"][0]["value"]
        zh = await alice.slash("stats", locale="zh-CN")
        assert zh.message is not None and zh.message.attachments == []
        assert "还没有作答记录" in zh.message.embeds[0]["fields"][0]["value"]

        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        assert posted.message is not None
        await alice.click(posted.message, button_ids(posted.message)[1])
        charted = await alice.slash("stats")
        assert charted.message is not None
        assert [a.filename for a in charted.message.attachments] == ["stats.png"]
        assert charted.message.attachments[0].data.startswith(b"\x89PNG")
        fake_discord.assert_clean()


async def test_chinese_replies_use_chinese_punctuation(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        await alice.slash("language", language="zh")
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        assert posted.message is not None
        await alice.click(posted.message, button_ids(posted.message)[1])
        stats = await alice.slash("stats")
        assert stats.message is not None
        embed = stats.message.embeds[0]
        assert "（100%）" in embed["description"], embed["description"]
        assert embed["fields"][0]["value"] == "1 分 · 1/1（100%）"
        topics = await alice.slash("topics")
        assert topics.message is not None
        assert "你的正确率：100%（1/1）" in topics.message.embeds[0]["description"]
        again = await alice.click(posted.message, button_ids(posted.message)[0])
        assert "你已经答过这道题（✅），" in await told(again)
        fake_discord.assert_clean()


async def test_check_explains_bad_parameters_in_chinese(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        bad = await alice.slash("check", family="conv_output", params="n=abc k=3", locale="zh-CN")
        assert await told(bad) == "⚠️ 请求有误：conv_output：参数 'n'：应为整数（收到 'abc'）"
        low = await alice.slash("check", family="conv_output", params="n=0 k=3", locale="zh-CN")
        assert "应大于或等于 1（收到 0）" in await told(low)
        ok = await alice.slash(
            "check", family="conv_output", params="n=224 k=11 s=4 p=2", locale="zh-CN"
        )
        assert "答案：**55**" in await told(ok)
        unread = await alice.slash("check", family="conv_output", params="n=8 k", locale="zh-CN")
        assert await told(unread) == "⚠️ 请求有误：参数的写法是 k=v，不是 'k'"
        english = await alice.slash("check", family="conv_output", params="n=abc k=3")
        assert (await told(english)).startswith("⚠️ conv_output: parameter 'n': Input should")
        fake_discord.assert_clean()
