"""The question bank: loading and validating `content/*.yaml`.

Every problem is reported as `file:line: question-id: field: message`, all at once, so an author
fixes a file in one pass. Nothing here raises on bad content: `load_bank` returns the problems and
the caller decides (the bot refuses to start; `/admin import` refuses the pack).

Packs come from users (`/admin import`), so parsing has budgets: no anchors or aliases (a few
hundred bytes of aliases expand to gigabytes), at most MAX_DEPTH levels of nesting and MAX_NODES
nodes. Each is refused as a located problem, and it is refused as soon as it is seen.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.models import Difficulty, Kind, Question
from bot.core.topics import TOPIC_IDS, topics_in
from bot.core.validation import validation_message

# Each path in a YAML document (a tuple of keys and indices) -> its 1-based line.
LineMap = dict[tuple[str | int, ...], int]


# Budgets of one document (see the module docstring). A question of the bank format is 7 levels
# deep (file, questions, question, choices, choice, why, en) and some 20 to 40 nodes.
MAX_DEPTH = 32
MAX_NODES = 100_000
MAX_PACK_BYTES = 512 * 1024  # an imported pack (`/admin import`), as UTF-8

PackBody = tuple[str, str]  # a validated question as stored: its id and its JSON


BUILT_IN = "the built-in bank"  # where an id clashing with `content/` is said to be


@dataclass(frozen=True, slots=True)
class BankProblem:
    file: str
    line: int
    question: str  # the question id, or "-" when the problem is not about one question
    field: str  # dotted path inside the question, or "-"
    message: str
    message_zh: str | None = None  # the message in Chinese, where there is one

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str) -> str:
        """The problem in that language (schema messages exist in English only)."""
        message = self.message_zh if lang == "zh" and self.message_zh else self.message
        return f"{self.file}:{self.line}: {self.question}: {self.field}: {message}"


@dataclass(slots=True)
class Bank:
    """Validated questions, indexed by id; `problems` is empty for a usable bank."""

    questions: dict[str, Question] = field(default_factory=dict)
    problems: list[BankProblem] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # question id -> file
    # select() results by its arguments, with the question count they were computed at
    # (questions are only ever added: a new count means the entry is stale)
    _selected: dict[tuple[object, ...], tuple[int, list[Question]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def ok(self) -> bool:
        return not self.problems

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, question_id: str) -> Question | None:
        return self.questions.get(question_id)

    def select(
        self,
        topic: str | None = None,
        kinds: Collection[Kind] | None = None,
        difficulty: Difficulty | None = None,
    ) -> list[Question]:
        """Questions matching a topic or area id (None: all), kinds and difficulty (a new
        list: the caller may change it)."""
        key = (topic, frozenset(kinds) if kinds is not None else None, difficulty)
        count, selected = self._selected.get(key, (-1, []))
        if count != len(self.questions):
            topics = set(topics_in(topic)) if topic else None
            selected = [
                q
                for q in self.questions.values()
                if (topics is None or q.topic in topics)
                and (kinds is None or q.kind in kinds)
                and q.serves(difficulty)
            ]
            self._selected[key] = (len(self.questions), selected)
        return list(selected)

    def counts_by_topic(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for q in self.questions.values():
            counts[q.topic] = counts.get(q.topic, 0) + 1
        return counts


class Refused(yaml.YAMLError):
    """A document over one of the parsing budgets (an alias, too deep, too many nodes), at a
    line (1-based)."""

    def __init__(self, event: yaml.Event, en: str, zh: str) -> None:
        super().__init__(en)
        mark = event.start_mark
        self.line = mark.line + 1 if mark is not None else 1
        self.en = en
        self.zh = zh


class _LineLoader(yaml.SafeLoader):
    """A safe loader within the budgets: it refuses anchors and aliases, and stops at
    MAX_DEPTH levels of nesting or MAX_NODES nodes, before building anything more."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise Refused(
                event,
                "anchors and aliases (&name, *name) are not allowed in a question file",
                "题目文件中不允许使用锚点和别名（&name、*name）",
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise Refused(
                event,
                f"more than {MAX_NODES} values: split the file",
                f"值的数量超过 {MAX_NODES} 个：请拆分文件",
            )
        if self._depth >= MAX_DEPTH:
            raise Refused(
                event,
                f"nested more than {MAX_DEPTH} levels deep",
                f"嵌套超过 {MAX_DEPTH} 层",
            )
        self._depth += 1
        try:
            node: yaml.Node | None = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        return node


def _compose_lines(node: yaml.Node, path: tuple[str | int, ...], lines: LineMap) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _compose_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _compose_lines(item, (*path, index), lines)


def _fast_path_ok(text: str) -> bool:
    """Whether libyaml reads the text within the budgets of `_LineLoader` (no anchor or alias,
    nesting, node count): then it can compose the document (in C, far faster). Anything else
    takes the Python composer, which says what is wrong exactly as it always has."""
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.NodeEvent):
                nodes += 1
                if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
                    return False
                if nodes > MAX_NODES or depth >= MAX_DEPTH:
                    return False
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
    except yaml.YAMLError:
        return False
    return True


def _parse(text: str) -> tuple[Any, LineMap]:
    """The document and its line map; raises yaml.YAMLError with a mark on bad syntax.

    A document libyaml reads within the budgets is composed in C: the whole bank in about a
    tenth of the time of the Python composer, which the console's start-up waits for."""
    loader: yaml.SafeLoader | yaml.CSafeLoader
    loader = yaml.CSafeLoader(text) if _fast_path_ok(text) else _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: LineMap = {}
        _compose_lines(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _line_for(lines: LineMap, path: tuple[str | int, ...]) -> int:
    """The line of the deepest existing node along `path`."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _field_name(loc: Iterable[str | int]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "-"


@dataclass(frozen=True, slots=True)
class LocatedQuestion:
    question: Question
    line: int  # the line of its `id:`


@dataclass(slots=True)
class ParsedDocument:
    questions: list[LocatedQuestion] = field(default_factory=list)
    problems: list[BankProblem] = field(default_factory=list)
    ids: list[tuple[str, int]] = field(default_factory=list)  # every id written, with its line


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (for as long as any thread is in here).

    Parsing a large pack allocates hundreds of thousands of objects, which sets off full
    collections; a full collection stops every thread, the event loop's too, for as long as it
    walks the whole heap (torch's is large): up to a second on a busy machine. The objects of a
    parse are freed by reference counting all the same."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def parse_document(
    text: str,
    file: str,
    known_families: Collection[str] | None = None,
) -> ParsedDocument:
    """Validate one YAML document of the bank format; returns its questions and problems.

    A file is a mapping with `questions:` (a list) and optionally `topic:`, the default topic of
    its questions. Unknown families are problems only when `known_families` is given. Takes a
    while for a large pack: call it in a worker thread from async code.
    """
    with _gc_paused():
        return _parse_document(text, file, known_families)


def _parse_document(text: str, file: str, known_families: Collection[str] | None) -> ParsedDocument:
    parsed = ParsedDocument()
    problems = parsed.problems

    def problem(line: int, qid: str, where: str, message: str, zh: str | None = None) -> None:
        problems.append(BankProblem(file, line, qid, where, message, zh))

    try:
        data, lines = _parse(text)
    except Refused as exc:
        problem(exc.line, "-", "-", exc.en, exc.zh)
        return parsed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem(line, "-", "-", f"YAML syntax error: {reason}")
        return parsed

    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        problem(1, "-", "questions", "the file must be a mapping with a list under 'questions:'")
        return parsed
    unknown_keys = sorted(set(data) - {"topic", "questions"})
    for key in unknown_keys:
        problem(_line_for(lines, (key,)), "-", str(key), "unknown top-level key")
    default_topic = data.get("topic")
    if default_topic is not None and default_topic not in TOPIC_IDS:
        problem(_line_for(lines, ("topic",)), "-", "topic", f"unknown topic {default_topic!r}")
        default_topic = None

    for index, raw in enumerate(data["questions"]):
        base = ("questions", index)
        line = _line_for(lines, base)
        if not isinstance(raw, dict):
            problem(line, f"#{index + 1}", "-", "each question must be a mapping")
            continue
        qid = str(raw.get("id") or f"#{index + 1}")
        if raw.get("id") is not None:
            parsed.ids.append((qid, _line_for(lines, (*base, "id"))))
        item = dict(raw)
        if "topic" not in item and default_topic is not None:
            item["topic"] = default_topic
        try:
            question = Question.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                if error["type"] == "missing":
                    message = "missing"
                where = _line_for(lines, (*base, *loc))
                zh = validation_message(error, "zh")  # pydantic's own wording is English only
                problem(where, qid, _field_name(loc), message, zh)
            continue
        if question.topic not in TOPIC_IDS:
            problem(
                _line_for(lines, (*base, "topic")),
                qid,
                "topic",
                f"unknown topic {question.topic!r} (the topics: /topics in Discord, "
                "`python -m bot topics` in a shell)",
                f"未知主题 {question.topic!r}（主题列表：Discord 中用 /topics，命令行用 "
                "`python -m bot topics`）",
            )
            continue
        if (
            known_families is not None
            and question.family is not None
            and question.family not in known_families
        ):
            problem(
                _line_for(lines, (*base, "family")),
                qid,
                "family",
                f"unknown checker family {question.family!r}",
            )
            continue
        parsed.questions.append(LocatedQuestion(question, _line_for(lines, (*base, "id"))))
    return parsed


def pack_bodies(parsed: ParsedDocument) -> list[PackBody]:
    """The validated questions of a parsed pack, as stored (see `PackBody`)."""
    return [(q.question.id, q.question.model_dump_json()) for q in parsed.questions]


def too_large(file: str, size: int | None = None) -> BankProblem:
    """The problem of a pack over MAX_PACK_BYTES (`size`: its size in bytes, if known)."""
    limit = MAX_PACK_BYTES // 1024
    has = f"{(size + 1023) // 1024} KiB, " if size is not None else ""
    has_zh = f"{(size + 1023) // 1024} KiB，" if size is not None else ""
    return BankProblem(
        file,
        1,
        "-",
        "-",
        f"the file is too large ({has}limit {limit} KiB): split it into smaller packs",
        f"文件太大（{has_zh}上限 {limit} KiB）：请拆分成较小的题包",
    )


def content_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The YAML files named by `paths` (folders are searched recursively), sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        else:
            yield path


def load_bank(
    paths: Iterable[Path],
    known_families: Collection[str] | None = None,
    read: Callable[[Path], str] = lambda p: p.read_text(encoding="utf-8"),
) -> Bank:
    """Load and validate every file; duplicate ids across files are problems too."""
    bank = Bank()
    files = list(content_files(paths))
    for path in files:
        name = str(path)
        try:
            text = read(path)
        except (OSError, UnicodeDecodeError) as exc:
            bank.problems.append(BankProblem(name, 1, "-", "-", f"cannot read: {exc}"))
            continue
        merge_document(bank, text, name, known_families)
    if not files:
        bank.problems.append(BankProblem("-", 1, "-", "-", "no question files found"))
    return bank


def merge_document(
    bank: Bank, text: str, file: str, known_families: Collection[str] | None = None
) -> None:
    """Validate one document into `bank`; an id seen before (valid or not) is a duplicate."""
    merge_parsed(bank, parse_document(text, file, known_families), file)


def merge_parsed(bank: Bank, parsed: ParsedDocument, file: str) -> None:
    """Add a parsed document to `bank` (see `merge_document`)."""
    bank.problems.extend(parsed.problems)
    duplicates: set[str] = set()
    for qid, line in parsed.ids:
        if qid in bank.origin:
            duplicates.add(qid)
            other = bank.origin[qid]
            bank.problems.append(
                BankProblem(
                    file,
                    line,
                    qid,
                    "id",
                    f"duplicate id (also in {other})",
                    f"编号重复（{'内置题库' if other == BUILT_IN else other} 中已有）",
                )
            )
        else:
            bank.origin[qid] = file
    for located in parsed.questions:
        if located.question.id not in duplicates:
            bank.questions[located.question.id] = located.question
