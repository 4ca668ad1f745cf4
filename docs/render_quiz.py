"""Draw a quiz night as Discord shows it: docs/quiz-reveal.png and docs/quiz-standings.png.

Runs the production bot (the real `content/` bank, the /quiz cog, the deadline scheduler)
against the fake Discord of the end-to-end tests: five players answer a three-question round,
the first question is revealed at its deadline, the others as soon as everyone has answered,
and the standings come with their chart. The captured messages are painted with
docs/render_question.py's painter (Discord's dark theme, Pillow), extended with embed fields,
disabled buttons, the attached chart and a few more emoji. Every word comes from the captured
payloads; the random generator is seeded, and the bot's clock is moved to the deadline rather
than waited for (the players' thinking times too, drawn from a seeded generator), so the same
bank and code give the same pictures.

    .venv/bin/python docs/render_quiz.py
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

import render_question as rq  # noqa: E402

from bench.quiz import WarpClock, is_question, is_revealed  # noqa: E402
from bot.app.wiring import (  # noqa: E402
    discord_services,
    load_content,
    make_checkers,
    open_store,
    wire_engine,
)
from tests.e2e.fakediscord import FakeDiscord, patch_discord, running_client  # noqa: E402
from tests.e2e.harness import E2EBot, settings_for  # noqa: E402

TOPIC, SEED, SECONDS = "activations", 11, 20
PLAYERS = ("alice", "bob", "carol", "dave", "erin")
DOCS = ROOT / "docs"
THINKING = random.Random(SEED)
MORE_EMOJI = {"🔒", "⚡", "🥇", "🥈", "🥉", "🏁", "🛑", "🎯", "⏰"}
MEDALS = {"🥇": ("#f1c40f", "1"), "🥈": ("#bdc3c7", "2"), "🥉": ("#d35400", "3")}


class QuizPainter(rq.Painter):
    """The question painter, plus what a quiz message has: fields, disabled buttons, an
    attached image, and its emoji."""

    images: ClassVar[dict[str, bytes]] = {}

    def emoji(self, char: str, x: float, baseline: float, size: float) -> None:
        top, s = baseline - size * 0.85, size
        if char in MEDALS:
            colour, number = MEDALS[char]
            self.draw.ellipse(self.box(x, top, x + s, top + s), fill=colour)
            self.draw.text(
                (self.px(x + s / 2), self.px(top + s / 2)),
                number,
                font=rq.font("bold", s * 0.55),
                fill="#2b2d31",
                anchor="mm",
            )
        elif char == "🔒":
            self.draw.arc(
                self.box(x + s * 0.25, top, x + s * 0.75, top + s * 0.6),
                180,
                360,
                fill="#c9ccd1",
                width=self.px(s * 0.1),
            )
            self.draw.rounded_rectangle(
                self.box(x + s * 0.15, top + s * 0.4, x + s * 0.85, top + s),
                radius=self.px(s * 0.1),
                fill="#f4bd3d",
            )
        elif char == "⚡":
            points = [(0.6, 0.0), (0.15, 0.58), (0.48, 0.58), (0.35, 1.0), (0.85, 0.4), (0.52, 0.4)]
            self.draw.polygon(
                [(self.px(x + s * a), self.px(top + s * b)) for a, b in points], fill="#ffac33"
            )
        elif char == "🏁":  # a chequered flag: a pole and a 3x3 board
            self.draw.line(
                self.box(x + s * 0.1, top, x + s * 0.1, top + s),
                fill="#99aab5",
                width=self.px(s * 0.08),
            )
            cell = s * 0.8 / 3
            for row in range(3):
                for col in range(3):
                    fill = "#ffffff" if (row + col) % 2 else "#31373d"
                    x0, y0 = x + s * 0.15 + col * cell, top + row * cell * 0.8
                    self.draw.rectangle(self.box(x0, y0, x0 + cell, y0 + cell * 0.8), fill=fill)
        elif char == "🎯":
            for ring, fill in enumerate(("#dd2e44", "#ffffff", "#dd2e44")):
                inset = s * 0.17 * ring
                self.draw.ellipse(
                    self.box(x + inset, top + inset, x + s - inset, top + s - inset), fill=fill
                )
        elif char in ("🛑", "⏰"):
            fill = {"🛑": "#dd2e44", "⏰": "#ffcc4d"}[char]
            self.draw.ellipse(self.box(x, top, x + s, top + s), fill=fill)
        else:
            super().emoji(char, x, baseline, size)

    def embed(self, x: float, y: float, embed: dict[str, Any], max_width: float) -> float:
        fields = embed.get("fields") or []
        image = (embed.get("image") or {}).get("url", "")
        if not fields and not image:
            return super().embed(x, y, embed, max_width)
        # The embed without its footer, then its fields, image and footer in the same box.
        width = max_width
        inner = width - 32
        title, description = embed.get("title", ""), embed.get("description", "")
        footer = (embed.get("footer") or {}).get("text", "")
        picture = self._picture(image, inner)
        height = 8
        if title:
            height += 8 + 22 * len(self.wrap(title, 16, inner))
        if description:
            height += 8 + 18 * len(self.wrap(description, 14, inner))
        for item in fields:
            height += 8 + 18 + 18 * len(self.wrap(item.get("value", ""), 14, inner))
        if picture is not None:
            height += 12 + picture.height / self.k
        if footer:
            height += 8 + 16 * len(self.wrap(footer, 12, inner))
        height += 16
        colour = "#{:06x}".format(embed.get("color", 0x1E1F22))
        self.draw.rounded_rectangle(self.box(x, y, x + width, y + height), self.px(4), colour)
        self.draw.rounded_rectangle(
            self.box(x + 4, y, x + width, y + height), self.px(4), rq.EMBED_BACKGROUND
        )
        self.draw.rectangle(self.box(x + 4, y, x + 8, y + height), rq.EMBED_BACKGROUND)
        left, top = x + 16, y + 8
        if title:
            top = self.text(left, top + 8, f"**{title}**", 16, rq.HEADER, inner, 22)
        if description:
            top = self.text(left, top + 8, description, 14, rq.TEXT, inner, 18)
        for item in fields:
            top = self.text(left, top + 8, f"**{item.get('name', '')}**", 14, rq.HEADER, inner, 18)
            top = self.text(left, top, item.get("value", ""), 14, rq.TEXT, inner, 18)
        if picture is not None:
            self.image.paste(picture, (self.px(left), self.px(top + 12)))
            top += 12 + picture.height / self.k
        if footer:
            top = self.text(left, top + 8, footer, 12, rq.TEXT, inner, 16)
        return y + height

    def _picture(self, url: str, width: float) -> Image.Image | None:
        name = url.removeprefix("attachment://")
        data = self.images.get(name) if url else None
        if data is None:
            return None
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        scale = self.px(width) / picture.width
        return picture.resize((self.px(width), round(picture.height * scale)))

    def buttons(self, x: float, y: float, buttons: list[dict[str, Any]]) -> float:
        for button in buttons:
            label = button.get("label", "")
            w = max(60, self.width(label, "bold", 14) + 32)
            fill = rq.BUTTON_STYLES.get(button.get("style", 2), "#4e5058")
            text = "white"
            if button.get("disabled"):  # Discord dims a disabled button
                fill = _blend(fill, rq.BACKGROUND, 0.5)
                text = _blend("#ffffff", rq.BACKGROUND, 0.5)
            self.draw.rounded_rectangle(self.box(x, y, x + w, y + 32), self.px(4), fill)
            self.draw.text(
                (self.px(x + w / 2), self.px(y + 16)),
                label,
                font=rq.font("bold", 14),
                fill=text,
                anchor="mm",
            )
            x += w + 8
        return y + 32


def _blend(colour: str, under: str, alpha: float) -> str:
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(under[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(
        f"{round(alpha * p + (1 - alpha) * q):02x}" for p, q in zip(a, b, strict=True)
    )


def render(shots: list[rq.Shot], path: Path) -> None:
    painter = QuizPainter()
    y = 16.0
    for index, message in enumerate(shots):
        if index:
            y += 20
        y = painter.message(y, message)
    painter.finish(y + 16, path)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


async def capture() -> tuple[list[rq.Shot], list[rq.Shot]]:
    clock = WarpClock()
    async with FakeDiscord(heartbeat_interval_ms=1000) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                settings = settings_for(fake, Path(tmp) / "bot.sqlite3", ROOT / "content")
                checkers = await asyncio.to_thread(make_checkers)
                bank = load_content(settings, checkers)
                async with open_store(settings, clock) as store:
                    engine = wire_engine(
                        store, bank, checkers, clock, random.Random(SEED), timer=clock
                    )
                    bot = E2EBot(settings, discord_services(engine), guild_ready_timeout=0.05)
                    try:
                        async with running_client(bot, fake):
                            shots = await play(fake, engine.catalog, clock)
                    finally:
                        await engine.aclose()
            fake.assert_clean()
        finally:
            undo()
    return shots


async def play(
    fake: FakeDiscord, catalog: Any, clock: WarpClock
) -> tuple[list[rq.Shot], list[rq.Shot]]:
    users = [fake.user(n) if n in ("alice", "bob") else fake.add_user(n) for n in PLAYERS]
    started = await users[0].slash(
        "quiz start", topic=TOPIC, questions=3, seconds=SECONDS, kind="concept"
    )
    await started.wait_original()
    reveal: list[rq.Shot] = []
    for index in range(3):
        message = await fake.wait_for_message(
            lambda m, i=index: (  # type: ignore[misc]
                is_question(m)
                and not is_revealed(m)
                and f"Question {i + 1}/" in m.embeds[0]["title"]
            )
        )
        ref = message.embeds[0]["footer"]["text"].split(" · ")[0].removeprefix("Ref ")
        right = catalog.question(ref, None).answer
        letters = [c["label"] for row in message.components for c in row["components"]]
        wrong = [x for x in letters if x != right]
        picks = [
            right,
            wrong[0],
            right,
            right if index else wrong[-1],
            right if index else wrong[0],
        ]
        replies = []
        for user, letter in zip(users, picks, strict=True):
            # Thinking time: the bot's clock moves on (seeded), nobody waits for real.
            clock.move_to(clock.now() + timedelta(seconds=THINKING.uniform(0.8, 3.2)))
            custom_id = next(i for i in message.custom_ids if i.endswith(f":{letter}"))
            replies.append(await user.click(message, custom_id))
        if index == 0:
            clock.move_to(clock.now() + timedelta(seconds=SECONDS))  # its deadline
        await fake.wait_until(lambda m=message: m if is_revealed(m) else None)  # type: ignore[misc]
        if index == 0:
            reveal = [rq.shot(replies[1].message), rq.shot(message)]
    standings = await fake.wait_for_message(
        lambda m: bool(m.embeds) and "standings" in (m.embeds[0].get("title") or "")
    )
    QuizPainter.images = {a.filename: a.data for a in standings.attachments}
    return reveal, [rq.shot(started.message), rq.shot(standings)]


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    rq.EMOJI |= MORE_EMOJI
    reveal, standings = asyncio.run(capture())
    render(reveal, DOCS / "quiz-reveal.png")
    render(standings, DOCS / "quiz-standings.png")


if __name__ == "__main__":
    main()
