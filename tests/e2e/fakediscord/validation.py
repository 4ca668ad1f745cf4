"""The limits Discord enforces server-side, so a bot that breaks them fails in tests too.

Each checker returns a list of ``(field path, message)`` problems; an empty list means
the payload is accepted. :func:`form_error` turns problems into the 400 body Discord
sends (code 50035 "Invalid Form Body"), which discord.py surfaces as ``HTTPException``.
"""

from __future__ import annotations

from typing import Any

from .models import COMPONENTS_V2, Json, iter_components

Problem = tuple[str, str]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_MODAL_TITLE = 45
MAX_CHOICES = 25


def _too_long(path: str, value: Any, limit: int) -> list[Problem]:
    if isinstance(value, str) and len(value) > limit:
        return [(path, f"Must be {limit} or fewer in length (got {len(value)}).")]
    return []


def check_embeds(embeds: list[Json]) -> list[Problem]:
    problems: list[Problem] = []
    if len(embeds) > MAX_EMBEDS:
        problems.append(("embeds", f"Must be {MAX_EMBEDS} or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            problems += _too_long(f"embeds.{i}.{key}", embed.get(key), limit)
            total += len(embed.get(key) or "")
        fields = embed.get("fields", [])
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "Must be 25 or fewer in length."))
        for j, f in enumerate(fields):
            problems += _too_long(f"embeds.{i}.fields.{j}.name", f.get("name"), 256)
            problems += _too_long(f"embeds.{i}.fields.{j}.value", f.get("value"), 1024)
            if not f.get("name") or not f.get("value"):
                problems.append((f"embeds.{i}.fields.{j}", "Field name and value are required."))
            total += len(f.get("name") or "") + len(f.get("value") or "")
        footer = (embed.get("footer") or {}).get("text")
        problems += _too_long(f"embeds.{i}.footer.text", footer, 2048)
        author = (embed.get("author") or {}).get("name")
        problems += _too_long(f"embeds.{i}.author.name", author, 256)
        total += len(footer or "") + len(author or "")
    if total > MAX_EMBED_TOTAL:
        problems.append(("embeds", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"))
    return problems


def check_components(components: list[Json], flags: int) -> list[Problem]:
    problems: list[Problem] = []
    if not flags & COMPONENTS_V2:
        if len(components) > MAX_ROWS:
            problems.append(("components", f"Must be {MAX_ROWS} or fewer in length."))
        for i, row in enumerate(components):
            if row.get("type") != 1:
                problems.append((f"components.{i}", "Top-level components must be action rows."))
                continue
            children = row.get("components", [])
            buttons = [c for c in children if c.get("type") == 2]
            if len(buttons) > MAX_BUTTONS_PER_ROW or (buttons and len(buttons) != len(children)):
                problems.append((f"components.{i}", "A row holds up to 5 buttons or 1 select."))
    seen: set[str] = set()
    for comp in iter_components(components):
        custom_id = comp.get("custom_id")
        if comp.get("type") == 2 and comp.get("style") not in (5, 6) and not custom_id:
            problems.append(("components", "Non-link buttons need a custom_id."))
        if custom_id is not None:
            problems += _too_long("components.custom_id", custom_id, MAX_CUSTOM_ID)
            if custom_id in seen:
                problems.append(("components", f"Duplicate custom_id {custom_id!r}."))
            seen.add(custom_id)
        if comp.get("type") == 2:
            problems += _too_long("components.label", comp.get("label"), MAX_BUTTON_LABEL)
    return problems


def check_message(data: Json, *, attachments: int, creating: bool) -> list[Problem]:
    """Validate a message create/edit body (``attachments`` = files it will carry)."""
    problems = _too_long("content", data.get("content"), MAX_CONTENT)
    problems += check_embeds(data.get("embeds") or [])
    problems += check_components(data.get("components") or [], int(data.get("flags") or 0))
    if creating:
        has_body = bool(
            data.get("content")
            or data.get("embeds")
            or data.get("components")
            or data.get("sticker_ids")
            or data.get("poll")
            or attachments
        )
        if not has_body:
            problems.append(("", "Cannot send an empty message"))
    return problems


def check_modal(data: Json) -> list[Problem]:
    problems = _too_long("data.title", data.get("title"), MAX_MODAL_TITLE)
    if not data.get("title"):
        problems.append(("data.title", "This field is required"))
    if not data.get("custom_id"):
        problems.append(("data.custom_id", "This field is required"))
    problems += _too_long("data.custom_id", data.get("custom_id"), MAX_CUSTOM_ID)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        problems.append(("data.components", "Must be between 1 and 5 in length."))
    for comp in iter_components(comps):
        if comp.get("type") == 4:
            problems += _too_long("data.components.label", comp.get("label"), 45)
            problems += _too_long("data.components.value", comp.get("value"), 4000)
            problems += _too_long("data.components.placeholder", comp.get("placeholder"), 100)
    return problems


def check_choices(data: Json) -> list[Problem]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        return [("data.choices", "This field is required")]
    problems: list[Problem] = []
    if len(choices) > MAX_CHOICES:
        problems.append(("data.choices", f"Must be {MAX_CHOICES} or fewer in length."))
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            problems.append((f"data.choices.{i}.name", "Must be between 1 and 100 in length."))
        problems += _too_long(f"data.choices.{i}.value", choice.get("value"), 100)
    return problems


def form_error(problems: list[Problem]) -> Json:
    """Discord's 50035 body; discord.py flattens ``errors`` into the exception text."""
    errors: Json = {}
    for path, message in problems:
        node = errors
        for part in [p for p in path.split(".") if p]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": "INVALID", "message": message})
    if problems and not problems[0][0] and len(problems) == 1:
        return {"message": problems[0][1], "code": 50006}
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
