"""Domain models shared by every front end: the bank format, grades, users and results.

Pure data (pydantic); nothing here knows about Discord, SQLite or torch.
"""

from __future__ import annotations

import hashlib
import json
import string
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
LanguagePref = Literal["auto", "en", "zh"]

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
QuestionId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{1,79}$", strip_whitespace=True)
]
LETTERS = string.ascii_uppercase


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Localized(_Frozen):
    """A text in English and Simplified Chinese; both are required."""

    en: NonEmpty
    zh: NonEmpty

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    @classmethod
    def same(cls, text: str) -> Localized:
        """A language-neutral text (a number, a formula) used for both languages."""
        return cls(en=text, zh=text)


class KeyPointMatch(_Frozen):
    """How the checker finds a key point in a typed answer (docs/rubrics.md): patterns per
    language, each `alt|alt & alt|alt`; the point is covered when one pattern matches."""

    en: list[NonEmpty] = Field(min_length=1, max_length=12)
    zh: list[NonEmpty] = Field(min_length=1, max_length=12)

    @field_validator("en", "zh")
    @classmethod
    def _patterns(cls, value: list[str], info: ValidationInfo) -> list[str]:
        from bot.core.rubric import PatternError, parse_pattern

        lang: Lang = "zh" if info.field_name == "zh" else "en"
        for number, text in enumerate(value, start=1):
            try:
                parse_pattern(text, lang)
            except PatternError as exc:
                raise ValueError(f"pattern {number} ({text!r}): {exc}") from None
        return value


class KeyPoint(Localized):
    """A key point of an open question; `match`: its rubric (None until one is written)."""

    match: KeyPointMatch | None = None


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"

    @property
    def level(self) -> int:
        return list(Difficulty).index(self)


class Kind(StrEnum):
    MCQ = "mcq"
    OPEN = "open"
    NUMERIC = "numeric"


class Choice(_Frozen):
    """One option of a multiple-choice question; `why` says why it is right or wrong."""

    en: NonEmpty
    zh: NonEmpty
    why: Localized | None = None

    @property
    def text(self) -> Localized:
        return Localized(en=self.en, zh=self.zh)


def letter(index: int) -> str:
    return LETTERS[index]


class Question(_Frozen):
    """One entry of the question bank (`content/*.yaml`).

    mcq: text, explanation, choices, answer (a letter). open: text, explanation, model_answer,
    key_points. numeric: a template that points at a checker family; the family generates the
    question itself, so text (an optional lead-in) and difficulty (default: every level) are
    optional.
    """

    id: QuestionId
    topic: NonEmpty
    kind: Kind
    difficulty: Difficulty | None = Field(default=None, validate_default=True)
    text: Localized | None = Field(default=None, validate_default=True)
    explanation: Localized | None = Field(default=None, validate_default=True)
    choices: list[Choice] = Field(default_factory=list, validate_default=True)
    answer: str | None = Field(default=None, validate_default=True)
    model_answer: Localized | None = Field(default=None, validate_default=True)
    key_points: list[KeyPoint] = Field(default_factory=list, validate_default=True)
    family: str | None = Field(default=None, validate_default=True)
    tags: list[NonEmpty] = Field(default_factory=list)
    source: str | None = None

    @staticmethod
    def _kind(info: ValidationInfo) -> Kind | None:
        kind = info.data.get("kind")
        return kind if isinstance(kind, Kind) else None

    @field_validator("difficulty", "text", "explanation")
    @classmethod
    def _required_unless_numeric(cls, value: Any, info: ValidationInfo) -> Any:
        kind = cls._kind(info)
        if value is None and kind is not None and kind is not Kind.NUMERIC:
            raise ValueError(f"required for a {kind.value} question")
        return value

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: list[Choice], info: ValidationInfo) -> list[Choice]:
        kind = cls._kind(info)
        if kind is Kind.MCQ:
            if not 2 <= len(value) <= 6:
                raise ValueError(
                    f"a multiple-choice question needs 2 to 6 choices, not {len(value)}"
                )
            for lang in ("en", "zh"):
                texts = [getattr(c, lang).casefold() for c in value]
                if len(set(texts)) != len(texts):
                    raise ValueError(f"two choices have the same {lang} text")
        elif value and kind is not None:
            raise ValueError(f"only multiple-choice questions have choices, not {kind.value}")
        return value

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = cls._kind(info)
        if kind is not Kind.MCQ:
            if value is not None and kind is not None:
                raise ValueError("only multiple-choice questions have an answer letter")
            return value
        if value is None:
            raise ValueError("required for a multiple-choice question (a letter such as B)")
        choices = info.data.get("choices")
        answer = value.strip().upper()
        if choices is not None:
            valid = LETTERS[: len(choices)]
            if len(answer) != 1 or answer not in valid:
                raise ValueError(f"{value!r} is not among the choices {valid[0]}-{valid[-1]}")
        return answer

    @field_validator("model_answer")
    @classmethod
    def _model_answer(cls, value: Localized | None, info: ValidationInfo) -> Localized | None:
        if value is None and cls._kind(info) is Kind.OPEN:
            raise ValueError("required for an open question")
        return value

    @field_validator("key_points")
    @classmethod
    def _key_points(cls, value: list[KeyPoint], info: ValidationInfo) -> list[KeyPoint]:
        kind = cls._kind(info)
        if kind is Kind.OPEN and not 1 <= len(value) <= 8:
            raise ValueError(f"an open question needs 1 to 8 key points, not {len(value)}")
        with_match = [p.match is not None for p in value]
        if any(with_match) and not all(with_match):
            missing = ", ".join(str(i) for i, has in enumerate(with_match) if not has)
            raise ValueError(
                f"a rubric needs `match:` on every key point; key_points[{missing}] have none"
            )
        if any(with_match) and kind is not Kind.OPEN:
            raise ValueError("only open questions have a rubric (`match:`)")
        return value

    @field_validator("family")
    @classmethod
    def _family(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = cls._kind(info)
        if kind is Kind.NUMERIC and not value:
            raise ValueError("required for a numeric template (a checker family name)")
        if kind is not None and kind is not Kind.NUMERIC and value:
            raise ValueError("only numeric templates name a family")
        return value

    @property
    def has_rubric(self) -> bool:
        """Whether the key points carry `match:` patterns (an open question's rubric)."""
        return bool(self.key_points) and all(p.match is not None for p in self.key_points)

    @property
    def answer_index(self) -> int:
        assert self.answer is not None
        return LETTERS.index(self.answer)

    def serves(self, difficulty: Difficulty | None) -> bool:
        """Whether this entry can serve a question of that difficulty (None: any)."""
        return difficulty is None or self.difficulty is None or self.difficulty is difficulty


class Verdict(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    UNREADABLE = "unreadable"

    @property
    def marker(self) -> str:
        return {"correct": "✅", "incorrect": "❌", "unreadable": "⚠️"}[self.value]


class NearMiss(StrEnum):
    """A wrong numeric answer that no known mistake explains but that is close: rounded where
    a count is exact, or not precise enough (one number, or a list)."""

    ROUNDED = "rounded"
    IMPRECISE = "imprecise"
    IMPRECISE_LIST = "imprecise_list"


class FormShape(StrEnum):
    LETTER = "letter"  # one option letter, among `count`
    WHOLE = "whole"  # a whole number
    NUMBER = "number"  # a real number
    WHOLE_LIST = "whole_list"  # `count` whole numbers (a shape)
    NUMBER_LIST = "number_list"  # a list of `count` numbers


class AnswerForm(_Frozen):
    """The form an answer takes, for an answer that could not be read (the front ends word
    it: bot/shared/feedback.py `form_text`); `percent_ok`: a number may be given as 25%."""

    shape: FormShape
    count: int = 1
    percent_ok: bool = False


class Refusal(StrEnum):
    """A number that was read but cannot be graded."""

    TOO_LARGE = "too_large"  # more than MAX_DIGITS digits, or beyond 1e300
    TOO_SMALL = "too_small"  # an exponent below -MAX_EXPONENT
    TOO_LONG = "too_long"  # more than MAX_DIGITS significant digits


class Grade(_Frozen):
    """The verdict on one answer, and what the front ends word its feedback from
    (bot/shared/texts.py `grade_text`; a numeric one: bot/shared/feedback.py)."""

    verdict: Verdict
    numeric: bool = False  # graded by the numeric reader (its own wording of the feedback)
    expected: str | None = None  # the correct answer, for display
    mistake: str | None = None  # id of the known mistake the answer matches, if any
    mistake_note: Localized | None = None  # numeric: the known mistake's explanation
    near_miss: NearMiss | None = None  # numeric: close, though no known mistake explains it
    picked: str | None = None  # multiple choice: the letter chosen
    why: Localized | None = None  # multiple choice: why the chosen option is right or wrong
    expected_form: AnswerForm | None = None  # unreadable: the form an answer takes
    refusal: Refusal | None = None  # unreadable: a number read but refused, and why
    rating: str | None = None  # an open question: the user's own rating (`good`)

    @property
    def correct(self) -> bool:
        return self.verdict is Verdict.CORRECT


class NumericQuestion(_Frozen):
    """A generated question: reproducible from (family, seed)."""

    family: str
    seed: int
    difficulty: Difficulty
    params: dict[str, Any]
    text: Localized
    expected: Any
    solution: Localized
    hint: Localized | None = None  # an interview hint: the method, not the answer

    @property
    def ref(self) -> str:
        return f"{self.family}:{self.seed}"

    @property
    def key(self) -> str:
        """What it asks: the same for every seed that draws the same parameters."""
        return question_key(self.family, self.params)


def question_key(family: str, params: dict[str, Any]) -> str:
    """The canonical key of a generated question: `FAMILY#` and a short hash of its parameters
    (canonical JSON, sorted keys). The question's text follows from its parameters alone, so
    two seeds with the same key ask the same question (points and serving go by this key)."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{family}#{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


class ServedQuestion(_Frozen):
    """A question as a front end shows it, with everything needed to grade it later."""

    ref: str  # bank id, or FAMILY:SEED for generated questions
    kind: Kind
    topic: str
    difficulty: Difficulty
    text: Localized
    choices: list[Localized] = Field(default_factory=list)
    source: str | None = None
    family: str | None = None
    seed: int | None = None
    question_id: str | None = None  # the bank entry it came from (the template, if generated)
    key: str | None = None  # a generated question's canonical key (NumericQuestion.key)

    @property
    def generated(self) -> bool:
        return self.family is not None

    @property
    def question_key(self) -> str:
        """What it asks (see `question_key`): a written question's key is its bank id."""
        return self.key or self.ref


class User(_Frozen):
    id: int
    platform: str
    external_id: str
    name: str
    language: LanguagePref = "auto"


class Server(_Frozen):
    id: int
    platform: str
    external_id: str
    name: str


class QuestionInstance(_Frozen):
    """A question posted somewhere; attempts are recorded against it."""

    id: int
    ref: str
    kind: Kind
    topic: str
    difficulty: Difficulty
    server_id: int | None
    channel_id: str | None
    message_id: str | None
    lang: Lang = "en"  # the language the question was posted in
    created_at: datetime
    daily_day: date | None = None  # set for a server's daily question

    @classmethod
    def of(
        cls,
        served: ServedQuestion,
        instance_id: int,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        created_at: datetime,
        message_id: str | None = None,
        daily_day: date | None = None,
    ) -> QuestionInstance:
        """The instance of a served question posted there, then."""
        return cls(
            id=instance_id,
            ref=served.ref,
            kind=served.kind,
            topic=served.topic,
            difficulty=served.difficulty,
            server_id=server_id,
            channel_id=channel_id,
            message_id=message_id,
            lang=lang,
            created_at=created_at,
            daily_day=daily_day,
        )


class NewInstance(_Frozen):
    """A posted question to store: its row, and (for the served note) to whom it was served
    as which bank question."""

    instance: QuestionInstance
    question_id: str | None = None
    served_to: int | None = None


class QuestionPack(_Frozen):
    """A question pack a server imported; `content` is the YAML as written."""

    id: int
    server_id: int
    name: str
    content: str
    questions: int
    created_at: datetime


class DailySetting(_Frozen):
    server_id: int
    server_external_id: str
    channel_id: str
    time_utc: str  # HH:MM
    last_day: date | None = None
    lang: Lang | None = None  # the language it was set in; None: the server's locale


class ReviewCard(_Frozen):
    """A user's spaced-repetition card for one item (`question-id` or `family:NAME`)."""

    item: str
    topic: str
    card: dict[str, Any]  # fsrs Card.to_dict()
    due: datetime
    reviews: int = 0


class AttemptRecord(_Frozen):
    """An attempt to write: one per user per question instance. The review card and the
    streak day, when given, are written in the same transaction, or not at all."""

    instance_id: int
    user_id: int
    server_id: int | None
    topic: str
    ref: str
    answer: str
    correct: bool
    points: int
    at: datetime
    question_key: str | None = None  # what it asked (see `question_key`); None: the ref
    review: ReviewCard | None = None
    # Instead of `review`, for a store that computes the card later (`AnswerContext`): the
    # FSRS rating (1-4) of the item `review_item(ref)` at `at`.
    review_rating: int | None = None
    streak_day: date | None = None  # a correct daily answer on that UTC day


class InstanceCounts(_Frozen):
    answered: int
    correct: int


class AnswerOutcome(_Frozen):
    """What happened to an answer: graded, and whether it counted."""

    grade: Grade
    counted: bool  # False: unreadable, or this user had already answered this question
    points: int  # points this answer earned (0 unless counted and correct)
    previous_correct: bool | None = None  # the verdict that counted, when this one did not
    explanation: Localized | None = None  # the bank's explanation or the worked solution
    counts: InstanceCounts | None = None
    # why a right answer got 0 (`seen`: answered in the reward window, its solution shown)
    unpaid: Literal["hint", "repeat", "seen", "self_rated"] | None = None


class TopicStats(_Frozen):
    topic: str
    answered: int
    correct: int
    points: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


class HistoryEntry(_Frozen):
    """One of a user's counted answers, as `history` lists it (newest first)."""

    at: datetime
    ref: str  # FAMILY:SEED or the bank id: `question REF` asks it again
    topic: str
    kind: Kind
    answer: str  # as typed (an open question's: the self-rating)
    correct: bool
    points: int


class UserStats(_Frozen):
    user: User
    by_topic: list[TopicStats]
    streak: int = 0
    best_streak: int = 0

    @property
    def answered(self) -> int:
        return sum(t.answered for t in self.by_topic)

    @property
    def correct(self) -> int:
        return sum(t.correct for t in self.by_topic)

    @property
    def points(self) -> int:
        return sum(t.points for t in self.by_topic)

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


class Scope(StrEnum):
    SERVER = "server"
    GLOBAL = "global"


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class LeaderboardEntry(_Frozen):
    rank: int
    user_id: int
    name: str
    points: int
    answered: int
    correct: int
    streak: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


class Leaderboard(_Frozen):
    scope: Scope
    period: Period
    topic: str | None
    top: list[LeaderboardEntry]
    me: LeaderboardEntry | None = None  # the caller's own row (also when outside the top)
