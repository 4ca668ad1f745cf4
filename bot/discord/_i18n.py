"""Localisation at the Discord edge: command descriptions through discord.py's `Translator`,
and the reply language of an interaction."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.models import Lang, User
from bot.core.services.identities import language_for

# English text as written in the command definitions -> Simplified Chinese.
ZH: dict[str, str] = {
    # /question
    "Get a deep-learning interview question": "来一道深度学习面试题",
    "Topic or area (autocomplete)": "主题或领域（自动补全）",
    "concept (multiple choice or open), numeric, or any": "概念题（选择或问答）、计算题或任意",
    "easy, medium or hard": "简单、中等或困难",
    "Only you see the question": "只有你能看到这道题",
    "concept": "概念题",
    "numeric": "计算题",
    "any": "任意",
    "easy": "简单",
    "medium": "中等",
    "hard": "困难",
    # /topics /stats /leaderboard
    "Topics, question counts and your accuracy": "各主题、题量和你的正确率",
    "Accuracy and points by topic, streak": "各主题的正确率与得分、连续天数",
    "Whose stats (default: yours)": "查看谁的统计（默认自己）",
    "Top 10 with points, accuracy and streak": "前 10 名：得分、正确率与连续天数",
    "This server or everyone": "本服务器或全部",
    "This week, this month or all time": "本周、本月或全部时间",
    "Only this topic or area": "只看这个主题或领域",
    "server": "本服务器",
    "global": "全局",
    "week": "本周",
    "month": "本月",
    "all": "全部",
    # /check
    "The numeric checker as a calculator": "数值题计算器",
    "Question family (autocomplete)": "题型族（自动补全）",
    "Parameters as k=v, space-separated": "参数，格式 k=v，用空格分隔",
    "Your answer, to grade it": "你的答案（用于判分）",
    # /language /help
    "Preferred reply language": "首选回复语言",
    "auto (your Discord language), en or zh": "auto（跟随 Discord 语言）、en 或 zh",
    "What each command does": "各命令的用途",
    # /interview /review /daily
    "A mock interview": "模拟面试",
    "Start a mock interview": "开始一场模拟面试",
    "Topics or areas, comma-separated (default: all)": "主题或领域，用逗号分隔（默认全部）",
    "How many questions (3-20)": "题目数量（3-20）",
    "Minutes per question (1-10)": "每题分钟数（1-10）",
    "End your interview now, with a report": "立即结束面试并查看报告",
    "Where you are in your interview": "查看面试进度",
    "Questions due for your review": "到期需要复习的题目",
    "How many (1-10)": "数量（1-10）",
    "The daily question": "每日一题",
    "Post a daily question in a channel": "在频道中发布每日一题",
    "Where to post it": "发布到哪个频道",
    "HH:MM in UTC, e.g. 09:30": "UTC 时间 HH:MM，例如 09:30",
    "Stop the daily question": "关闭每日一题",
    # /quiz
    "A live quiz round for the channel": "频道里的实时抢答",
    "Start a quiz round in this channel": "在本频道开始一轮抢答",
    "How many questions (3-30, default 10)": "题目数量（3-30，默认 10）",
    "Seconds per question (10-120, default 20)": "每题秒数（10-120，默认 20）",
    "concept (multiple choice), numeric, or any": "概念题（选择题）、计算题或任意",
    "End the quiz round now, with the standings": "立即结束抢答并公布排名",
    "Where the quiz round of this channel is": "查看本频道抢答的进度",
    # /history
    "Your last answers with their references": "你最近的作答及题目编号",
    "How many (1-25, default 10)": "数量（1-25，默认 10）",
    # /admin
    "Server administration": "服务器管理",
    "Reset this server's scores (asks for confirmation)": "重置本服务器的分数（需确认）",
    "Only this member (default: everyone)": "只重置这位成员（默认所有人）",
    "Add a question pack (YAML) for this server": "为本服务器导入题库（YAML）",
    "A YAML file in the question-bank format": "题库格式的 YAML 文件",
    # /demo
    "Mini demos: a GAN training, RNN gradients, vanishing gradients": (
        "小演示：训练 GAN、RNN 的梯度、梯度消失"
    ),
    "Train a tiny GAN on a 2-D toy distribution": "在二维玩具分布上训练一个小 GAN",
    "Generator loss: minimax, nonsaturating (default) or wgan (WGAN-GP)": (
        "生成器损失：minimax、nonsaturating（默认）或 wgan（WGAN-GP）"
    ),
    "Generator steps (default 1200; wgan allows fewer)": (
        "生成器训练步数（默认 1200；wgan 上限更低）"
    ),
    "Random seed (same seed, same picture)": "随机种子（相同种子，相同图片）",
    "How far back the gradient reaches: RNN, LSTM and GRU": "梯度能传回多远：RNN、LSTM 与 GRU",
    "rnn, lstm, gru or all (default)": "rnn、lstm、gru 或全部（默认）",
    "Sequence length T (default 100)": "序列长度 T（默认 100）",
    "Gradient norm per layer of a deep MLP": "深层 MLP 每一层的梯度范数",
    "sigmoid, tanh, relu or all (default)": "sigmoid、tanh、relu 或全部（默认）",
    "Number of layers (default 20)": "层数（默认 20）",
}


_CHINESE = (discord.Locale.chinese, discord.Locale.taiwan_chinese)
_TRANSLATED = (
    app_commands.TranslationContextLocation.command_description,
    app_commands.TranslationContextLocation.group_description,
    app_commands.TranslationContextLocation.parameter_description,
    app_commands.TranslationContextLocation.choice_name,
)


class Translator(app_commands.Translator):
    """Chinese descriptions for both Chinese locales; other locales see English."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location not in _TRANSLATED or locale not in _CHINESE:
            return None  # names stay as the contract spells them
        return ZH.get(string.message)


def lang_of(interaction: discord.Interaction) -> Lang:
    """The language of the user's Discord client (before their `/language` choice is known)."""
    return language_for("auto", str(interaction.locale))


def reply_language(user: User, interaction: discord.Interaction) -> Lang:
    """The user's `/language` choice, else the locale of their Discord client."""
    return language_for(user.language, str(interaction.locale))


def description(text: str, lang: Lang) -> str:
    """A command's description as Discord shows it in `lang` (`/help` lists these)."""
    return ZH.get(text, text) if lang == "zh" else text
