"""The live count on posted questions ("5 answered, 3 correct"), edited off the answer path.

An answer costs one REST call on its hot path: the interaction callback that tells the user
✅/❌. The count on the question message is brought up to date here instead, coalesced per
message: at most one edit of a message in flight and at most one per `interval` seconds; the
count shown is always the highest one reported (answers may finish out of order), and the
latest is always shown eventually (an edit after the last change). Failures are logged, never
raised to the answer. `close()` sends whatever is still pending before the bot disconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

import discord

from bot.core.models import InstanceCounts

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 1.0  # at most one edit per message per interval; changes in it coalesce
CLOSE_FLUSH_S = 10.0  # how long close() may take to send what is pending
KEPT_MESSAGES = 4096  # messages whose highest count is remembered (to drop late, lower ones)


@dataclass
class _Live:
    channel_id: int
    footer: str
    counts: InstanceCounts
    embed: discord.Embed | None  # the message's embed as last seen (None: fetch it first)
    shown: InstanceCounts | None = None  # what the last edit put on the message
    task: asyncio.Task[None] | None = None


def _newer(counts: InstanceCounts, than: InstanceCounts) -> bool:
    return (counts.answered, counts.correct) > (than.answered, than.correct)


class LiveCounts:
    """Coalescing editor of the count in posted questions' footers (see the module doc)."""

    def __init__(self, client: discord.Client, *, interval: float | None = None) -> None:
        self._client = client
        self._interval = EDIT_INTERVAL_S if interval is None else interval
        self._live: OrderedDict[int, _Live] = OrderedDict()
        self._closed = False

    def update(
        self,
        channel_id: int,
        message_id: int,
        counts: InstanceCounts,
        footer: str,
        embed: discord.Embed | None = None,
    ) -> None:
        """Show `footer` (which says `counts`) on the message, soon; `embed` is the message's
        embed to edit (None: fetched when the edit is made). A lower count than one already
        reported for the message is ignored."""
        if self._closed:
            log.info("live count of message %s after close: not edited", message_id)
            return
        live = self._live.get(message_id)
        if live is None:
            live = self._live[message_id] = _Live(channel_id, footer, counts, embed)
            while len(self._live) > KEPT_MESSAGES:
                self._live.popitem(last=False)
        elif _newer(counts, live.counts):
            live.footer, live.counts = footer, counts
            live.embed = embed if embed is not None else live.embed
        self._live.move_to_end(message_id)
        if live.task is None and live.shown != live.counts:
            live.task = asyncio.create_task(self._run(message_id, live))

    async def _run(self, message_id: int, live: _Live) -> None:
        try:
            while live.shown != live.counts:
                counts = live.counts
                await self._edit(message_id, live)
                live.shown = counts  # also after a failure: the next change tries again
                await asyncio.sleep(self._interval)
        finally:
            live.task = None

    async def _edit(self, message_id: int, live: _Live) -> None:
        try:
            channel = self._client.get_partial_messageable(live.channel_id)
            if live.embed is None:
                fetched = await channel.fetch_message(message_id)
                if not fetched.embeds:
                    return
                live.embed = fetched.embeds[0]
            embed = live.embed.copy()
            embed.set_footer(text=live.footer)
            await channel.get_partial_message(message_id).edit(embed=embed)
        except discord.HTTPException as exc:
            log.info("could not edit the live count of message %s: %s", message_id, exc)
        except Exception:
            log.exception("could not edit the live count of message %s", message_id)

    async def close(self) -> None:
        """Stop the timers and send every count not shown yet (bounded by CLOSE_FLUSH_S)."""
        self._closed = True
        tasks = [live.task for live in self._live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        pending = [(mid, live) for mid, live in self._live.items() if live.shown != live.counts]
        if not pending:
            return
        try:
            async with asyncio.timeout(CLOSE_FLUSH_S):
                await asyncio.gather(*(self._edit(mid, live) for mid, live in pending))
        except TimeoutError:
            log.warning("closing with %d live count(s) not edited", len(pending))
