"""Domain errors. They carry data; front ends turn them into localised messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.bank import BankProblem


class DomainError(Exception):
    """Base class of the errors a user can cause (as opposed to bugs)."""


class NoQuestionFound(DomainError):
    def __init__(self, topic: str | None, kind: str | None, difficulty: str | None) -> None:
        super().__init__(f"no question for topic={topic} kind={kind} difficulty={difficulty}")
        self.topic = topic
        self.kind = kind
        self.difficulty = difficulty


class UnknownTopic(DomainError):
    def __init__(self, topic: str) -> None:
        super().__init__(f"unknown topic {topic!r}")
        self.topic = topic


class UnknownQuestion(DomainError):
    """The posted question is not in the database (or no longer in the bank)."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"unknown question {ref}")
        self.ref = ref


class WrongKind(DomainError):
    """An action that does not fit the question (self-rating a multiple-choice question...)."""

    def __init__(self, ref: str, kind: str) -> None:
        super().__init__(f"{ref} is a {kind} question")
        self.ref = ref
        self.kind = kind


class ForgedComponent(DomainError):
    """A button or form whose custom_id is not one the bot put on that message (a modified
    client, or a garbled id): refused before anything is looked up or written."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(f"not a component of this message: {custom_id[:100]!r}")
        self.custom_id = custom_id[:100]


class PackInvalid(DomainError):
    """An imported question pack has problems; nothing of it was imported."""

    def __init__(self, name: str, problems: list[BankProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in {name}")
        self.name = name
        self.problems = problems


class DuplicatePackQuestion(DomainError):
    """A pack has a question id that another pack of the same server already stored."""

    def __init__(self, question: str, pack: str) -> None:
        super().__init__(f"question id {question!r} is already in {pack}")
        self.question = question
        self.pack = pack


class BadTime(DomainError):
    """A time of day that is not HH:MM (24-hour, UTC)."""

    def __init__(self, text: str) -> None:
        super().__init__(f"not a time of day (HH:MM, UTC): {text!r}")
        self.text = text


class StorageUnavailable(DomainError):
    """The database cannot take writes right now (disk full, read-only, locked): nothing of
    the action was saved, and the user should try again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"storage unavailable: {reason}")
        self.reason = reason


class CheckRequestError(ValueError):
    """A request the numeric checkers (the `Checkers` port) cannot answer: unknown family or
    parameter, a value of the wrong type, an impossible configuration. `message` is one line that
    names the problem; `zh`, the same in Chinese where there is one. Not a `DomainError`: the
    front ends that take check requests (`/check`, the console, `python -m bot check`) answer it
    themselves."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh

    def __str__(self) -> str:
        return self.message

    def text(self, lang: str) -> str:
        """The message in `lang` (English where no Chinese was written)."""
        return self.zh if lang == "zh" and self.zh else self.message
