"""Reading the console's command arguments: conflicting words in `question`, where
`stats chart` saves, a demo's parameters and where its PNG goes."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from bot.core.models import Localized
from bot.core.services.answering import SelfRating
from bot.demos import DemoParamsError, demo_names, get_spec, parse_params
from bot.shared.texts import RATING_NAMES

_SLOT_NAMES = {
    "kind": Localized(en="kind", zh="题型"),
    "difficulty": Localized(en="difficulty", zh="难度"),
    "topic": Localized(en="topic", zh="主题"),
    "period": Localized(en="period", zh="时间范围"),
}


_RATINGS = "/".join(r.value for r in SelfRating)
_RATINGS_ZH = "/".join(RATING_NAMES[r].zh for r in SelfRating)
RATING_WORDS = Localized(
    en=f"⚠️ Please answer {_RATINGS}.", zh=f"⚠️ 请输入 {_RATINGS} 或 {_RATINGS_ZH}。"
)
RATING_OR_SKIP = Localized(  # a practice question's rating, which may be left out
    en=f"⚠️ Please answer {_RATINGS}, or `skip` to leave it unrated.",
    zh=f"⚠️ 请输入 {_RATINGS} 或 {_RATINGS_ZH}，或输入 `skip` 不评分。",
)


def read_rating(word: str) -> SelfRating | None:
    """A self-rating typed at `rating>`: again/hard/good/easy, or its Chinese name as the
    prompt shows it (没答上, 勉强, 答上了, 很轻松); None for anything else."""
    word = word.strip().lower()
    for rating in SelfRating:
        if word in (rating.value, RATING_NAMES[rating].zh):
            return rating
    return None


def whole_number(text: str) -> int | None:
    """`text` as a whole number when it is ASCII digits only (`str.isdigit` also takes `²`,
    which `int` refuses); else None."""
    return int(text) if text.isascii() and text.isdigit() else None


def conflict(slot: str, first: str, second: str, command: str = "question") -> Localized:
    name = _SLOT_NAMES[slot]
    return Localized(
        en=f"⚠️ `{first}` and `{second}` are both a {name.en}: give one {name.en} "
        f"(e.g. {command} {first}).",
        zh=f"⚠️ `{first}` 和 `{second}` 都是{name.zh}：只能选一个{name.zh}"
        f"（例如 `{command} {first}`）。",
    )


@dataclass(frozen=True, slots=True)
class ChartTarget:
    """Where a chart is saved: a file, or a folder (`DIR/` or an existing one) where the
    first free `STEM.png`, `STEM-2.png`... goes (with `force`: `STEM.png`, replaced)."""

    path: Path
    folder: bool
    force: bool
    stem: str = "stats"

    def write(self, png: bytes) -> Path:
        """Write the PNG; the file written. FileExistsError rather than replace a file
        (unless `force`); OSError for a folder that cannot be made or written."""
        if self.folder or self.path.is_dir():
            _make_folder(self.path)
            if self.force:
                return _replace(self.path / f"{self.stem}.png", png)
            number = 1
            while True:
                name = f"{self.stem}.png" if number == 1 else f"{self.stem}-{number}.png"
                try:
                    return _write_new(self.path / name, png)
                except FileExistsError:
                    number += 1
        _make_folder(self.path.parent)
        if self.force:
            return _replace(self.path, png)
        return _write_new(self.path, png)


def _make_folder(path: Path) -> None:
    """mkdir -p; a file in the way is "not a directory" (mkdir would say it "exists")."""
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(part))
    path.mkdir(parents=True, exist_ok=True)


def _replace(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path.absolute()


def _write_new(path: Path, data: bytes) -> Path:
    with path.open("xb") as handle:  # never replaces a file
        handle.write(data)
    return path.absolute()


def parse_chart_words(args: list[str]) -> ChartTarget | None:
    """`[chart [PATH] [--force]]` -> where to save the chart (None: no chart); ValueError for
    anything else. A path ending in `/` (or an existing folder) is a folder; no path: the
    current folder; a file must be named `.png` (a bare word is more likely a typo)."""
    if not args:
        return None
    if args[0].lower() != "chart":
        raise ValueError(args[0])
    rest = args[1:]
    force = "--force" in rest
    rest = [word for word in rest if word != "--force"]
    if len(rest) > 1 or (rest and rest[0].startswith("-")):
        raise ValueError(" ".join(rest))
    if not rest:
        return ChartTarget(Path.cwd(), folder=True, force=force)
    raw = rest[0]
    path = Path(raw).expanduser()
    folder = raw.endswith(("/", os.sep)) or path.is_dir()
    if not folder and path.suffix.lower() != ".png":
        raise ValueError(raw)
    return ChartTarget(path, folder=folder, force=force)


#: Other names the console accepts for a demo's parameters (the Discord option names).
DEMO_ALIASES: dict[str, dict[str, str]] = {"rnn": {"steps": "T"}}


def parse_demo_words(words: list[str]) -> tuple[str, dict[str, str], Path | None]:
    """`NAME k=v ... [--out PATH]` -> the demo, its raw parameters and the output path.

    Keys are matched without regard to case (`t=50` is `T=50`); values stay strings for the
    demo's model to convert. The parameters are validated here, before any worker starts;
    :class:`DemoParamsError` says what is wrong.
    """
    name = words[0].lower()
    spec = get_spec(name)
    fields = {field.lower(): field for field in spec.params.model_fields}
    aliases = DEMO_ALIASES.get(name, {})
    params: dict[str, str] = {}
    out: Path | None = None
    rest = iter(words[1:])
    for word in rest:
        if word == "--out" or word.startswith("--out="):
            value = word.partition("=")[2] if "=" in word else next(rest, "")
            if not value:
                raise DemoParamsError(
                    "--out needs a file or folder: --out PATH",
                    zh="`--out` 后面要写文件或文件夹：`--out PATH`",
                )
            out = Path(value).expanduser()
            if value.endswith(("/", os.sep)):  # a folder, even one that does not exist yet
                out = out / f"demo-{name}.png"
            continue
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DemoParamsError(
                f"parameters are written k=v, not {word!r}", zh=f"参数的写法是 k=v，不是 {word!r}"
            )
        key = aliases.get(key.lower(), fields.get(key.lower(), key))
        params[key] = value
    parse_params(spec.params, params, name)
    return name, params, out


def demo_output_path(name: str, out: Path | None) -> Path:
    """Where the PNG goes: `--out` (a file, or a folder for `demo-NAME.png`), else the
    current folder."""
    default = f"demo-{name}.png"
    if out is None:
        return Path.cwd() / default
    if out.is_dir():
        return (out / default).absolute()
    return out.absolute()


def demo_usage() -> str:
    """The demos and their parameters with defaults, e.g. `rnn  cell=all T=100 ...`."""
    lines = ["demo NAME [k=v ...] [--out PATH]"]
    for name in demo_names():
        fields = get_spec(name).params.model_fields
        defaults = " ".join(f"{key}={field.default}" for key, field in fields.items())
        lines.append(f"  {name:<10} {defaults}")
    return "\n".join(lines)


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
