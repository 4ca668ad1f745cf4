"""Draw a posted question as Discord shows it: docs/question-mcq.png and docs/question-numeric.png.

Runs the real bot (with the real `content/` bank) against the fake Discord of the end-to-end
tests, posts `/question` as a user, answers it, and paints the captured messages (embed,
buttons, the ephemeral feedback) in Discord's dark theme with Pillow. Every word in the
pictures comes from the captured payloads; the engine's random generator is seeded, so the
same bank and code give the same pictures.

    .venv/bin/python docs/render_question.py
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

MCQ_TOPIC, MCQ_SEED, MCQ_PICK = "activations", 7, "A"
NUMERIC_TOPIC, NUMERIC_SEED = "lstm_gru", 7
TIMESTAMP = "Today at 09:41"  # fixed, so that the pictures are reproducible

# Discord's dark theme, in CSS pixels (drawn at SCALE x SUPERSAMPLE, then downsampled).
WIDTH = 660
SCALE = 900 / WIDTH
SUPERSAMPLE = 2
BACKGROUND = "#313338"
EMBED_BACKGROUND = "#2b2d31"
CODE_BACKGROUND = "#1e1f22"
TEXT = "#dbdee1"
HEADER = "#f2f3f5"
MUTED = "#949ba4"
LINK = "#00a8fc"
SPINE = "#4e5058"
BLURPLE = "#5865f2"
BUTTON_STYLES = {1: BLURPLE, 2: "#4e5058", 3: "#248046", 4: "#da373c"}
AVATARS = ["#5865f2", "#757e8a", "#3ba55c", "#faa61a", "#ed4245", "#eb459e"]
EMBED_MAX_WIDTH = 516
CONTENT_X = 72  # where the text column starts (after the avatar)

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILES = {
    "normal": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "code": "DejaVuSansMono.ttf",
}
INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`")
EMOJI = {"✅", "❌", "⚠"}


# -- capturing the bot's messages --------------------------------------------------------------


@dataclass
class Shot:
    """One message as the channel shows it."""

    author: str
    app: bool
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    command: str | None = None  # "alice used /question" above a slash command's reply
    command_user: str | None = None


def shot(record: Any) -> Shot:
    meta = record.interaction_metadata or {}
    return Shot(
        author=record.author.global_name or record.author.username,
        app=record.author.bot,
        content=record.content,
        embeds=copy.deepcopy(record.embeds),
        components=copy.deepcopy(record.components),
        ephemeral=record.ephemeral,
        command=meta.get("name"),
        command_user=(meta.get("user") or {}).get("username"),
    )


def labels(record: Any) -> list[str]:
    return [c.get("label", "") for row in record.components for c in row.get("components", [])]


async def feedback_of(sent: Any) -> Any:
    """The message that told the user how they did (a follow-up after an update, or the reply)."""
    from tests.e2e.harness import told

    await told(sent)
    return sent.followups[-1] if sent.followups else sent.message


async def capture() -> tuple[list[Shot], list[Shot]]:
    """Post an MCQ and a numeric question, answer both; the messages as they end up."""
    sys.path.insert(0, str(ROOT))
    from bot.checkers import TorchCheckers
    from tests.e2e.fakediscord import FakeDiscord, patch_discord
    from tests.e2e.harness import button_ids, ref_of, running_bot

    async with FakeDiscord(heartbeat_interval_ms=1000) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bot.sqlite3"
                async with running_bot(fake, db, ROOT / "content") as bot:
                    alice = fake.user("alice")

                    # A multiple-choice question: the first seed from MCQ_SEED that draws one
                    # (`concept` also draws open questions).
                    for attempt in range(20):
                        bot.services.making.reseed(MCQ_SEED + attempt)
                        posted = await alice.slash("question", topic=MCQ_TOPIC, kind="concept")
                        mcq = posted.message
                        if mcq is not None and len(labels(mcq)) > 1:
                            break
                    else:
                        raise SystemExit(f"no multiple-choice question drawn in {MCQ_TOPIC}")
                    pick = button_ids(mcq)[labels(mcq).index(MCQ_PICK)]
                    picked = await feedback_of(await alice.click(mcq, pick))
                    mcq_shots = [shot(mcq), shot(picked)]

                    # A numeric question, answered with its first known mistake (if any).
                    bot.services.making.reseed(NUMERIC_SEED)
                    posted = await alice.slash("question", topic=NUMERIC_TOPIC, kind="numeric")
                    numeric = posted.message
                    assert numeric is not None
                    family, seed = ref_of(numeric).split(":")
                    problem = TorchCheckers().problem_for_seed(family, int(seed))
                    typed = problem.mistakes[0].value if problem.mistakes else problem.expected
                    opened = await alice.click(numeric, button_ids(numeric)[0])
                    answered = await alice.submit_modal(opened, {"answer": str(typed)})
                    told = await feedback_of(answered)
                    print(f"{family}:{seed}: alice typed {typed} (expected {problem.expected})")
                    numeric_shots = [shot(numeric), shot(told)]
            fake.assert_clean()
        finally:
            undo()
    return mcq_shots, numeric_shots


# -- painting ----------------------------------------------------------------------------------


Token = tuple[str, str, float]  # text, style ("normal", "bold", "code", "emoji"), width


@cache
def font(style: str, size: float) -> ImageFont.FreeTypeFont:
    name = FONT_FILES.get(style, FONT_FILES["normal"])
    return ImageFont.truetype(str(FONTS / name), round(size * SCALE * SUPERSAMPLE))


def parse(text: str) -> list[list[tuple[str, str]]]:
    """Discord markdown, the part the bot uses: lines of (text, style) with **bold** and `code`."""
    lines = []
    for raw in text.replace("\ufe0f", "").split("\n"):
        spans: list[tuple[str, str]] = []
        position = 0
        for match in INLINE.finditer(raw):
            if match.start() > position:
                spans.append((raw[position : match.start()], "normal"))
            if match.group(1) is not None:
                spans.append((match.group(1), "bold"))
            else:
                spans.append((match.group(2), "code"))
            position = match.end()
        if position < len(raw):
            spans.append((raw[position:], "normal"))
        lines.append(spans)
    return lines


def pieces(spans: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Words, runs of spaces and emoji: the units a line may break between."""
    for text, style in spans:
        for piece in re.findall(r"\s+|[^\s]+", text):
            chunk = ""
            for char in piece:
                if char in EMOJI:
                    if chunk:
                        yield chunk, style
                    chunk = ""
                    yield char, "emoji"
                else:
                    chunk += char
            if chunk:
                yield chunk, style


class Painter:
    """Draws on a tall canvas in CSS pixels; `finish` crops, downsamples and saves."""

    def __init__(self) -> None:
        self.k = SCALE * SUPERSAMPLE
        self.image = Image.new("RGB", (self.px(WIDTH), self.px(2400)), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, value: float) -> int:
        return round(value * self.k)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return self.px(x0), self.px(y0), self.px(x1), self.px(y1)

    def width(self, text: str, style: str, size: float) -> float:
        if style == "emoji":
            return size * 1.45
        return font(style, size).getlength(text) / self.k + (4 if style == "code" else 0)

    # text

    def wrap(self, text: str, size: float, max_width: float) -> list[list[Token]]:
        lines: list[list[Token]] = []
        for spans in parse(text):
            line: list[Token] = []
            x = 0.0
            for piece, style in pieces(spans):
                w = self.width(piece, style, size)
                if piece.isspace():
                    if line:
                        line.append((piece, style, w))
                        x += w
                    continue
                if x + w > max_width and line:
                    while line and line[-1][0].isspace():
                        x -= line.pop()[2]
                    lines.append(line)
                    line, x = [], 0.0
                line.append((piece, style, w))
                x += w
            while line and line[-1][0].isspace():
                line.pop()
            lines.append(line)
        return lines

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        colour: str,
        max_width: float,
        line_height: float,
    ) -> float:
        """Markdown text wrapped to max_width from (x, y); returns the y below it."""
        for line in self.wrap(text, size, max_width):
            baseline = y + line_height / 2 + size * 0.36
            cursor = x
            for piece, style, w in line:
                if style == "emoji":
                    self.emoji(piece, cursor + size * 0.05, baseline, size * 1.3)
                elif style == "code":
                    top, bottom = baseline - size * 0.95, baseline + size * 0.3
                    self.draw.rounded_rectangle(
                        self.box(cursor, top, cursor + w, bottom),
                        radius=self.px(3),
                        fill=CODE_BACKGROUND,
                    )
                    self.run(cursor + 2, baseline, piece, "code", size * 0.9, colour)
                else:
                    self.run(cursor, baseline, piece, style, size, colour)
                cursor += w
            y += line_height
        return y

    def run(self, x: float, baseline: float, text: str, style: str, size: float, fill: str) -> None:
        self.draw.text(
            (self.px(x), self.px(baseline)), text, font=font(style, size), fill=fill, anchor="ls"
        )

    def line_width(self, text: str, size: float) -> float:
        return max(
            (sum(w for _, _, w in line) for line in self.wrap(text, size, 10_000)), default=0.0
        )

    # shapes

    def emoji(self, char: str, x: float, baseline: float, size: float) -> None:
        """Twemoji-like ✅, ❌ and ⚠️ (DejaVu Sans has no colour emoji)."""
        top = baseline - size * 0.85
        s = size
        if char == "✅":
            self.draw.rounded_rectangle(
                self.box(x, top, x + s, top + s), radius=self.px(s * 0.16), fill="#77b255"
            )
            points = [(0.22, 0.52), (0.42, 0.72), (0.79, 0.3)]
            self.draw.line(
                [(self.px(x + s * a), self.px(top + s * b)) for a, b in points],
                fill="white",
                width=self.px(s * 0.14),
                joint="curve",
            )
        elif char == "❌":
            width = self.px(s * 0.2)
            for (a, b), (c, d) in (((0.15, 0.15), (0.85, 0.85)), ((0.85, 0.15), (0.15, 0.85))):
                self.draw.line(
                    self.box(x + s * a, top + s * b, x + s * c, top + s * d),
                    fill="#dd2e44",
                    width=width,
                )
        else:  # ⚠
            self.draw.polygon(
                [
                    (self.px(x + s / 2), self.px(top + s * 0.05)),
                    (self.px(x + s * 0.98), self.px(top + s * 0.92)),
                    (self.px(x + s * 0.02), self.px(top + s * 0.92)),
                ],
                fill="#ffcc4d",
            )
            self.run(x + s * 0.41, top + s * 0.84, "!", "bold", s * 0.6, "#231f20")

    def avatar(self, x: float, y: float, size: float, name: str) -> None:
        colour = AVATARS[sum(name.encode()) % len(AVATARS)]
        self.draw.ellipse(self.box(x, y, x + size, y + size), fill=colour)
        self.draw.text(
            (self.px(x + size / 2), self.px(y + size / 2)),
            name[:1].upper(),
            font=font("bold", size * 0.5),
            fill="white",
            anchor="mm",
        )

    def eye(self, x: float, cy: float) -> None:
        self.draw.chord(self.box(x, cy - 5, x + 16, cy + 9), 200, 340, outline=MUTED, width=2)
        self.draw.chord(self.box(x, cy - 9, x + 16, cy + 5), 20, 160, outline=MUTED, width=2)
        self.draw.ellipse(self.box(x + 5.5, cy - 2.5, x + 10.5, cy + 2.5), fill=MUTED)

    # Discord's pieces

    def message(self, y: float, message: Shot) -> float:
        """One message group (avatar, name, content, embeds, buttons); returns the y below."""
        if message.command:
            y = self.command_line(y, message.command_user or "someone", message.command)
        self.avatar(16, y + 2, 40, message.author)
        x = CONTENT_X
        baseline = y + 16
        self.run(x, baseline, message.author, "bold", 16, HEADER)
        x += self.width(message.author, "bold", 16) + 5
        if message.app:
            w = self.width("APP", "bold", 10) + 8
            self.draw.rounded_rectangle(
                self.box(x, baseline - 13, x + w, baseline + 2), radius=self.px(3), fill=BLURPLE
            )
            self.run(x + 4, baseline - 1.5, "APP", "bold", 10, "white")
            x += w + 6
        self.run(x, baseline - 0.5, TIMESTAMP, "normal", 12, MUTED)
        y += 22
        column = WIDTH - CONTENT_X - 16
        if message.content:
            y = self.text(CONTENT_X, y, message.content, 16, TEXT, column, 22)
        for embed in message.embeds:
            y = self.embed(CONTENT_X, y + 4, embed, min(EMBED_MAX_WIDTH, column))
        for row in message.components:
            y = self.buttons(CONTENT_X, y + 8, row.get("components", []))
        if message.ephemeral:
            y = self.ephemeral_note(CONTENT_X, y + 4)
        return y

    def command_line(self, y: float, user: str, command: str) -> float:
        """`(avatar) alice used /question` above a slash command's reply, with its spine."""
        spine = [
            (self.px(36), self.px(y + 20)),
            (self.px(36), self.px(y + 13)),
            (self.px(41), self.px(y + 9)),
            (self.px(66), self.px(y + 9)),
        ]
        self.draw.line(spine, fill=SPINE, width=self.px(2), joint="curve")
        self.avatar(CONTENT_X, y + 1, 16, user)
        x = CONTENT_X + 20
        baseline = y + 14
        for text, style, colour in (
            (user, "bold", TEXT),
            (" used ", "normal", MUTED),
            (f"/{command}", "normal", LINK),
        ):
            self.run(x, baseline, text, style, 14, colour)
            x += self.width(text, style, 14)
        return y + 22

    def embed(self, x: float, y: float, embed: dict[str, Any], max_width: float) -> float:
        title = embed.get("title", "")
        description = embed.get("description", "")
        footer = (embed.get("footer") or {}).get("text", "")
        natural = max(
            self.line_width(title, 16) if title else 0,
            self.line_width(description, 14) if description else 0,
            self.line_width(footer, 12) if footer else 0,
        )
        width = min(max_width, natural + 32 + 2)
        inner = width - 32
        # measure, then draw the box, then the text on it
        height = 8
        if title:
            height += 8 + 22 * len(self.wrap(title, 16, inner))
        if description:
            height += 8 + 18 * len(self.wrap(description, 14, inner))
        if footer:
            height += 8 + 16 * len(self.wrap(footer, 12, inner))
        height += 16
        colour = "#{:06x}".format(embed.get("color", 0x1E1F22))
        self.draw.rounded_rectangle(self.box(x, y, x + width, y + height), self.px(4), colour)
        self.draw.rounded_rectangle(
            self.box(x + 4, y, x + width, y + height), self.px(4), EMBED_BACKGROUND
        )
        self.draw.rectangle(self.box(x + 4, y, x + 8, y + height), EMBED_BACKGROUND)
        left, top = x + 16, y + 8
        if title:
            top = self.text(left, top + 8, f"**{title}**", 16, HEADER, inner, 22)
        if description:
            top = self.text(left, top + 8, description, 14, TEXT, inner, 18)
        if footer:
            top = self.text(left, top + 8, footer, 12, TEXT, inner, 16)
        return y + height

    def buttons(self, x: float, y: float, buttons: list[dict[str, Any]]) -> float:
        for button in buttons:
            label = button.get("label", "")
            w = max(60, self.width(label, "bold", 14) + 32)
            fill = BUTTON_STYLES.get(button.get("style", 2), "#4e5058")
            self.draw.rounded_rectangle(self.box(x, y, x + w, y + 32), self.px(4), fill)
            self.draw.text(
                (self.px(x + w / 2), self.px(y + 16)),
                label,
                font=font("bold", 14),
                fill="white",
                anchor="mm",
            )
            x += w + 8
        return y + 32

    def ephemeral_note(self, x: float, y: float) -> float:
        """Discord's line under an ephemeral message (the client's words, not the bot's)."""
        self.eye(x, y + 8)
        x += 20
        for text, colour in (("Only you can see this", MUTED), (" • ", MUTED)):
            self.run(x, y + 12, text, "normal", 12, colour)
            x += self.width(text, "normal", 12)
        self.run(x, y + 12, "Dismiss message", "normal", 12, LINK)
        return y + 16

    def finish(self, height: float, path: Path) -> None:
        cropped = self.image.crop((0, 0, self.image.width, self.px(height)))
        final = cropped.resize(
            (round(WIDTH * SCALE), round(height * SCALE)), Image.Resampling.LANCZOS
        )
        # A flat picture: a 256-colour palette keeps it sharp at a fraction of the size.
        final.quantize(256, Image.Quantize.FASTOCTREE).save(path, optimize=True)


def render(shots: list[Shot], path: Path) -> None:
    painter = Painter()
    y = 16.0
    for index, message in enumerate(shots):
        if index:
            y += 20
        y = painter.message(y, message)
    painter.finish(y + 16, path)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    mcq, numeric = asyncio.run(capture())
    render(mcq, DOCS / "question-mcq.png")
    render(numeric, DOCS / "question-numeric.png")


if __name__ == "__main__":
    main()
