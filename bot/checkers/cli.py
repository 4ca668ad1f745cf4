"""`python -m bot check`: answer keys, grading and whole-bank verification from the shell.

    python -m bot check FAMILY key=value ... [--answer TEXT]
    python -m bot check FAMILY --seed N [--answer TEXT]
    python -m bot check --list [--json]
    python -m bot check --batch FILE|-

One JSON object on stdout (one per line with --batch). `--list` is JSON too (an array), except
on a terminal without `--json`, where people get a table. A bad request exits with code 2 and a
one-line message on stderr, never a traceback; in --batch mode a bad line gets {"error": ...}
and the batch goes on. The arguments are parsed by hand rather than with argparse, whose
errors print a usage block, and so that `--answer -0.5` takes a negative number as the answer.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterable
from typing import IO, Any

from bot.shared.calculator import parse_value

USAGE = """\
usage: python -m bot check FAMILY key=value ... [--answer TEXT]
       python -m bot check FAMILY --seed N [--answer TEXT]
       python -m bot check --list [--json]  (a table on a terminal, else JSON)
       python -m bot check --batch FILE|-   (one JSON request per line)
"""

_BATCH_KEYS = {"family", "params", "seed", "answer", "id"}


class UsageError(Exception):
    """A malformed command line (exit code 2)."""


def _parse_seed(text: Any) -> int:
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise UsageError(f"--seed needs a whole number, not {text!r}")
    try:
        seed = int(text)
    except ValueError:
        raise UsageError(f"--seed needs a whole number, not {text!r}") from None
    if seed < 0:
        raise UsageError(f"--seed must be 0 or more, not {seed}")
    return seed


def _parse_args(argv: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"params": {}, "family": None}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("-h", "--help"):
            options["help"] = True
        elif token == "--list":
            options["list"] = True
        elif token == "--json":
            options["json"] = True
        elif token.split("=", 1)[0] in ("--seed", "--answer", "--batch"):
            name, has_value, inline = token.partition("=")
            if not has_value:
                i += 1
                if i >= len(argv):
                    raise UsageError(f"{name} needs a value")
                inline = argv[i]
            key = name[2:]
            if key in options:
                raise UsageError(f"{name} given twice")
            options[key] = inline
        elif token.startswith("-") and "=" not in token:
            raise UsageError(f"unknown option {token!r}")
        elif "=" in token:
            key, _, value = token.partition("=")
            if not key:
                raise UsageError(f"parameter without a name: {token!r}")
            if key in options["params"]:
                raise UsageError(f"parameter {key!r} given twice")
            options["params"][key] = parse_value(value)
        elif options["family"] is None:
            options["family"] = token
        else:
            raise UsageError(f"unexpected argument {token!r}; parameters are written key=value")
        i += 1
    return options


def main(
    argv: list[str],
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command; returns the exit code (0 ok, 2 bad request, 1 internal error)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        options = _parse_args(argv)
        if options.get("help"):
            out.write(USAGE)
            return 0
        return _run(options, stdin if stdin is not None else sys.stdin, out)
    except UsageError as error:
        err.write(f"error: {error}\n")
        return 2
    except Exception as error:  # the one fallback: report, never a traceback
        from bot.checkers import CheckRequestError

        if isinstance(error, CheckRequestError):
            err.write(f"error: {error.message}\n")
            return 2
        err.write(f"internal error: {type(error).__name__}: {_one_line(str(error))}\n")
        return 1


def _run(options: dict[str, Any], stdin: IO[str], out: IO[str]) -> int:
    family = options["family"]
    if options.get("list"):
        if family or options["params"] or {"seed", "answer", "batch"} & options.keys():
            raise UsageError("--list takes no other arguments")
    elif "batch" in options:
        if family or options["params"] or {"seed", "answer"} & options.keys():
            raise UsageError("--batch takes only the file name (or - for stdin)")
    elif family is None:
        raise UsageError("name a family (see --list), or use --list or --batch")
    elif "seed" in options and options["params"]:
        raise UsageError("give either key=value parameters or --seed, not both")

    # torch is imported here, once per process, whatever the mode; on one thread, as in the bot
    # (the tensors are tiny: a second thread only spins, and costs 10-100x under load).
    from bot.checkers import make_checkers

    checkers = make_checkers(cache_size=256)
    if options.get("list"):
        families = [info.to_json() for info in checkers.families()]
        if options.get("json") or not _is_terminal(out):
            _emit(out, families)
        else:
            out.write(family_table(families, shutil.get_terminal_size().columns))
        return 0
    if "batch" in options:
        return _batch(checkers, options["batch"], stdin, out)
    seed = _parse_seed(options["seed"]) if "seed" in options else None
    result = checkers.check(family, options["params"], options.get("answer"), seed=seed)
    _emit(out, result)
    return 0


def _batch(checkers: Any, source: str, stdin: IO[str], out: IO[str]) -> int:
    if source == "-":
        _answer_lines(checkers, stdin, out)
        return 0
    try:
        handle = open(source, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {source!r}: {error.strerror}") from None
    with handle:
        _answer_lines(checkers, handle, out)
    return 0


def _answer_lines(checkers: Any, lines: Iterable[str], out: IO[str]) -> None:
    from bot.checkers import CheckRequestError

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        request: Any = None
        try:
            request = json.loads(line)
        except ValueError as error:
            _emit(out, {"error": f"line {number}: not valid JSON: {_one_line(str(error))}"})
            continue
        try:
            result = _answer_request(checkers, request)
        except (CheckRequestError, UsageError) as error:
            result = {"error": f"line {number}: {error}"}
        except Exception as error:  # keep the batch going whatever one line does
            result = {
                "error": f"line {number}: internal error: {type(error).__name__}: "
                f"{_one_line(str(error))}"
            }
        if isinstance(request, dict) and "id" in request:
            result = {"id": request["id"], **result}
        _emit(out, result)


def _answer_request(checkers: Any, request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise UsageError("each line must be a JSON object")
    unknown = set(request) - _BATCH_KEYS
    if unknown:
        raise UsageError(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_BATCH_KEYS)}")
    family = request.get("family")
    if not isinstance(family, str):
        raise UsageError('"family" (a string) is required')
    if "params" in request and "seed" in request:
        raise UsageError('give either "params" or "seed", not both')
    params = request.get("params", {})
    if not isinstance(params, dict):
        raise UsageError('"params" must be a JSON object')
    seed = _parse_seed(request["seed"]) if "seed" in request else None
    answer = request.get("answer")
    if answer is not None and not isinstance(answer, str):
        if isinstance(answer, bool) or not isinstance(answer, int | float | list):
            raise UsageError('"answer" must be a string or a number')
        answer = json.dumps(answer)  # 34944 -> "34944", [0.5, 0.5] -> "[0.5, 0.5]"
    result: dict[str, Any] = checkers.check(family, params, answer, seed=seed)
    return result


def _emit(out: IO[str], value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()  # line by line, so a co-process reading the pipe sees each answer at once


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: not a person
        return False


def family_table(families: list[dict[str, Any]], width: int = 100) -> str:
    """`--list` for people: each family, its parameters with defaults, what it computes."""
    width = max(60, width)
    name_width = max(len(str(f["name"])) for f in families) + 2 if families else 2
    indent = " " * name_width
    lines: list[str] = []
    for family in families:
        signature = textwrap.wrap(
            str(family["signature"]) or "(no parameters)",
            width - name_width,
            break_on_hyphens=False,
        )
        lines.append(f"{family['name']:<{name_width}}{signature[0]}")
        lines.extend(indent + more for more in signature[1:])
        lines.extend(
            f"{indent}→ {part}" if i == 0 else f"{indent}  {part}"
            for i, part in enumerate(textwrap.wrap(str(family["expected"]), width - name_width - 2))
        )
    lines.append(f"\n{len(families)} families. python -m bot check FAMILY k=v ... [--answer A]")
    lines.append("(--list --json: every parameter's type and description, as JSON)")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
