"""Issue 12's console rough edges, through a pipe as a person would meet them: a real process,
a real SQLite file, the fixture bank (or the shipped one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.timeout(180)

#: Runs the console like `python -m bot console`, then reports which heavy modules it loaded.
PROBE = (
    "import sys\n"
    "from bot.__main__ import main\n"
    "code = main(['console', '--user', 'pat'])\n"
    "print('LOADED', json.dumps({m: m in sys.modules for m in ('torch', 'matplotlib')}),"
    " file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def env_for(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(
        BOT_DB=str(folder / "bot.sqlite3"),
        BOT_CONTENT=str(FIXTURE_BANK),
        LANG="en_US.UTF-8",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def console(
    folder: Path, script: str, *, probe: bool = False, cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """The console fed `script`, run in `folder` (its current folder unless `cwd`)."""
    command = ["-c", "import json\n" + PROBE] if probe else ["-m", "bot", "console"]
    if not probe:
        command += ["--user", "pat"]
    run = subprocess.run(
        [sys.executable, *command],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd or folder,
        env=env_for(folder, **extra),
        timeout=150,
    )
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run


def loaded(run: subprocess.CompletedProcess[str]) -> dict[str, bool]:
    line = next(line for line in run.stderr.splitlines() if line.startswith("LOADED "))
    result: dict[str, bool] = json.loads(line.removeprefix("LOADED "))
    return result


# --- start-up: torch only where a question needs it ------------------------------------------


def test_importing_the_console_and_its_composition_loads_neither_torch_nor_matplotlib() -> None:
    code = (
        "import sys, bot.console, bot.app.wiring, bot.shared.calculator, bot.app.lazy_checkers\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_a_session_without_numeric_questions_never_loads_torch(tmp_path: Path) -> None:
    script = "help\ntopics\nquestion vanishing_gradients mcq\nB\nstats\nhistory\nquit\n"
    run = console(tmp_path, script, probe=True)
    assert run.returncode == 0, run.stderr
    assert "✅ Correct: B." in run.stdout
    assert loaded(run) == {"torch": False, "matplotlib": False}
    assert "Loading the numeric checker" not in run.stdout


def test_the_first_numeric_question_loads_torch_and_says_so(tmp_path: Path) -> None:
    run = console(tmp_path, "question conv_output numeric\nskip\nquit\n", probe=True)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert loaded(run)["torch"] is True
    loading = out.index("Loading the numeric checker (first time only, a few seconds)…")
    assert loading < out.index("[Output sizes · numeric")  # said before the wait


# --- quit leaves from every prompt, and is never an answer -------------------------------------


def answered(folder: Path) -> str:
    """The stats line of the user, from a fresh session."""
    run = console(folder, "stats\n")
    return next(line for line in run.stdout.splitlines() if line.startswith("pat: "))


def test_quit_at_an_open_questions_answer_prompt_leaves(tmp_path: Path) -> None:
    run = console(tmp_path, "question initialization open\nquit\nhelp\n")
    assert run.returncode == 0
    assert "answer> quit\nBye." in run.stdout
    assert "Model answer:" not in run.stdout
    assert "question [TOPIC]" not in run.stdout  # `help` after quit never ran


def test_quit_at_the_rating_prompt_leaves_unrated(tmp_path: Path) -> None:
    run = console(tmp_path, "question initialization open\n\nquit\nhelp\n")
    assert run.returncode == 0
    assert "Model answer:" in run.stdout
    assert "rating> quit\nBye." in run.stdout
    assert "Please answer" not in run.stdout and "Rated" not in run.stdout
    assert "0/0 correct" in answered(tmp_path)


def test_a_peek_at_an_open_question_can_be_left_unrated_and_says_so(tmp_path: Path) -> None:
    run = console(tmp_path, "question initialization open\n\n\nskip\nstats\n")
    assert "Model answer:" in run.stdout
    assert "⚠️ Please answer again/hard/good/easy, or `skip` to leave it unrated." in run.stdout
    assert "rating> skip\nSkipped: not rated." in run.stdout
    assert "0/0 correct" in answered(tmp_path)


def test_quit_in_an_interview_pauses_it_and_is_not_graded(tmp_path: Path) -> None:
    run = console(tmp_path, "interview start vanishing_gradients questions=3\nquit\nhelp\n")
    assert run.returncode == 0
    out = run.stdout
    left = (
        "You left the interview: `interview status` takes you back to it (its clock keeps running)."
    )
    assert f"answer> quit\n{left}\nBye." in out
    assert "❌" not in out and "⚠️" not in out  # `quit` was not taken for an answer
    assert "0/0 correct" in answered(tmp_path)
    again = console(tmp_path, "help\n").stdout  # the next start names it
    assert "You have a mock interview in progress (its clock keeps running)" in again
    assert "mock interview in progress" not in out  # not before there was one
    resumed = console(tmp_path, "interview status\nB\nexit\n")
    assert "sigmoid" in resumed.stdout and "✅" in resumed.stdout


def test_quit_at_an_interviews_rating_prompt_pauses_it(tmp_path: Path) -> None:
    run = console(tmp_path, "interview start initialization questions=3\n\nexit\nhelp\n")
    assert run.returncode == 0
    assert "rating> exit\nYou left the interview" in run.stdout
    assert "0/0 correct" in answered(tmp_path)


# --- what was not understood is said ----------------------------------------------------------


def test_conflicting_or_unknown_words_are_named(tmp_path: Path) -> None:
    script = (
        "question numeric open\n"
        "question easy hard\n"
        "stats nonsense\n"
        "review abc\n"
        "review 50\n"
        "history many\n"
        "quit\n"
    )
    out = console(tmp_path, script).stdout
    assert "⚠️ `numeric` and `open` are both a kind: give one kind" in out
    assert "⚠️ `easy` and `hard` are both a difficulty" in out
    assert "⚠️ `nonsense` is not understood. Usage: stats [chart" in out
    assert "⚠️ `abc` is not a count: review [COUNT], COUNT from 1 to 10" in out
    assert "⚠️ `50` is not a count" in out
    assert "⚠️ `many` is not a count: history [COUNT]" in out
    assert "your answer" not in out  # no question was asked


def test_stats_chart_paths(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_bytes(b"my own file")
    (tmp_path / "afile").write_text("x")
    script = (
        "question vanishing_gradients mcq\nB\n"  # an answer: something to draw
        "stats Chart\n"  # any case: the chart, in the current folder
        "stats chart\n"  # again: a new name, the first one is kept
        "stats chart --force\n"  # unless asked to replace it
        "stats chart new/dir/x.png\n"  # missing folders are made, as `demo --out` does
        "stats chart pics/\n"  # a trailing / is a folder
        "stats chart notes.png\n"  # an existing file is not replaced...
        "stats chart notes.png --force\n"  # ...unless asked to
        "stats chart afile/x.png\n"  # a file in the way: said, not a traceback
        "quit\n"
    )
    run = console(tmp_path, script)
    out = run.stdout
    assert f"Chart: {tmp_path / 'stats.png'}" in out
    assert f"Chart: {tmp_path / 'stats-2.png'}" in out
    assert not (tmp_path / "stats-3.png").exists()  # `--force`: stats.png again
    assert out.count(f"Chart: {tmp_path / 'stats.png'}") == 2
    assert f"Chart: {tmp_path / 'new' / 'dir' / 'x.png'}" in out
    assert f"Chart: {tmp_path / 'pics' / 'stats.png'}" in out
    assert "⚠️ notes.png exists: give another name, or add --force to replace it." in out
    assert f"Chart: {tmp_path / 'notes.png'}" in out
    assert "⚠️ Could not save the chart to afile: Not a directory" in out
    for png in ("stats.png", "stats-2.png", "new/dir/x.png", "pics/stats.png", "notes.png"):
        assert (tmp_path / png).read_bytes().startswith(PNG_SIGNATURE), png
    assert (tmp_path / "afile").read_text() == "x"
    assert run.stderr == ""  # no log line either


# --- asking again by reference, and history ---------------------------------------------------


def test_question_by_reference_and_history(tmp_path: Path) -> None:
    script = (
        "question fx-sigmoid-max\n"
        "B\n"
        "question conv_output:1790127\n"
        "1\n"
        "question nosuch:12\n"
        "question conv_output:99999999999999999999999\n"
        "history\n"
        "history 1\n"
        "quit\n"
    )
    out = console(tmp_path, script).stdout
    assert "[Vanishing and exploding gradients · multiple choice · easy · fx-sigmoid-max]" in out
    assert "· conv_output:1790127]" in out  # exactly that variant
    assert "⚠️ No question has the reference `nosuch:12`" in out
    assert "⚠️ No question has the reference `conv_output:99999999999999999999999`" in out
    history = out.split("> history\n", 1)[1]
    lines = history.splitlines()
    assert lines[0] == "Your last answers (ask one again: question REF):"
    assert "❌ 0 points" in lines[1] and "conv_output:1790127" in lines[1]
    assert lines[1].endswith("·  1")  # the answer as typed
    assert "✅" in lines[2] and "fx-sigmoid-max" in lines[2]
    one = out.split("> history 1\n", 1)[1].splitlines()
    assert one[1] == lines[1] and one[2] == "> quit"


def test_topics_say_which_have_numeric_questions(tmp_path: Path) -> None:
    out = console(tmp_path, "topics\n").stdout
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert rows["conv_output"].endswith("🔢")  # the fixture bank's numeric question
    assert not rows["vanishing_gradients"].endswith("🔢")
    assert "🔢: has numeric questions" in out


# --- logs, and the bank when run from elsewhere -----------------------------------------------


def bank_with_unknown_family(folder: Path) -> Path:
    bank = folder / "bank"
    bank.mkdir()
    text = (FIXTURE_BANK / "practice.yaml").read_text(encoding="utf-8")
    (bank / "practice.yaml").write_text(
        text.replace("family: conv_output", "family: no_such_family"), encoding="utf-8"
    )
    return bank


def test_console_logs_are_plain_warnings_on_stderr_or_json_in_a_file(tmp_path: Path) -> None:
    bank = bank_with_unknown_family(tmp_path)
    script = "check conv_output n=5 k=3\nquit\n"  # loads the checkers, which check the bank
    run = console(tmp_path, script, BOT_CONTENT=str(bank))
    assert run.returncode == 0, run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith("WARNING bot.app.lazy_checkers: the question bank names the family")
    assert "'no_such_family'" in line and not line.startswith("{")
    assert "WARNING" not in run.stdout

    log_file = tmp_path / "console.log"
    quiet = console(tmp_path, script, BOT_CONTENT=str(bank), BOT_LOG_FILE=str(log_file))
    assert quiet.returncode == 0 and quiet.stderr == ""
    (entry,) = [json.loads(row) for row in log_file.read_text().splitlines()]
    assert entry["level"] == "WARNING" and "no_such_family" in entry["msg"]


@pytest.mark.parametrize("setting", [None, ""])  # not set, or `BOT_CONTENT=` as in .env.example
def test_the_console_finds_its_own_bank_from_any_folder(
    tmp_path: Path, setting: str | None
) -> None:
    env = env_for(tmp_path)
    del env["BOT_CONTENT"]
    if setting is not None:
        env["BOT_CONTENT"] = setting
    run = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "pat"],
        input="question vanishing_gradients mcq\nskip\nquit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the repository
        env=env,
        timeout=150,
    )
    assert run.returncode == 0, run.stderr
    assert "cannot read" not in run.stderr
    assert "[Vanishing and exploding gradients · multiple choice" in run.stdout
    if setting is not None:
        return

    missing = console(tmp_path, "quit\n", BOT_CONTENT=str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"question bank: there is no {tmp_path / 'nowhere'}; set BOT_CONTENT to the folder"
        " of question files (YAML), e.g. BOT_CONTENT=/path/to/content"
    )


def test_a_reader_that_goes_away_ends_the_console_quietly(tmp_path: Path) -> None:
    """`python -m bot console < script | head -3`: no traceback when head stops reading."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--user", "pat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env_for(tmp_path),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"help\n" * 400)  # far more than a pipe holds (64 kB)
    process.stdin.close()
    assert process.stdout.readline().startswith(b"Hello pat!")
    process.stdout.close()  # the reader goes away
    assert process.wait(timeout=150) == 0
    assert process.stderr is not None
    assert process.stderr.read() == b""


def test_the_topics_command_line_marks_numeric_topics(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "topics"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env_for(tmp_path),
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    rows = {line.split(":")[0].strip(): line for line in run.stdout.splitlines()}
    assert rows["conv_output"].endswith("(1 question)  🔢 numeric")
    assert rows["vanishing_gradients"].endswith("(1 question)")
    assert "🔢: the topic has numeric questions" in run.stdout


# --- Chinese without English words; no chart of nothing ---------------------------------------


def test_chinese_stats_leaderboard_history_and_rating_prompt_name_things_in_chinese(
    tmp_path: Path,
) -> None:
    empty = console(tmp_path, "language zh\nstats chart\nquit\n")
    assert "还没有作答记录" in empty.stdout
    assert "图表：" not in empty.stdout and not list(tmp_path.glob("*.png"))  # no empty picture
    script = (
        "language zh\nquestion vanishing_gradients mcq\nB\n"
        "question initialization open\n\ngood\nstats\nleaderboard\nhistory\nquit\n"
    )
    out = console(tmp_path, script).stdout
    assert "good（答上了）" in out and "easy（很轻松）" in out
    assert "名字" in out and "积分" in out and "正确率" in out
    assert "自评：答上了" in out
    for english in (" pts", " acc", "rated good", "name "):
        assert english not in out, english


def test_a_chart_file_must_be_a_png_and_an_interview_chart_replaces_nothing(
    tmp_path: Path,
) -> None:
    script = (
        "question vanishing_gradients mcq\nB\nstats chart nonsense\nstats chart notes.txt\nquit\n"
    )
    out = console(tmp_path, script).stdout
    assert "⚠️ `chart nonsense` is not understood" in out
    assert "⚠️ `chart notes.txt` is not understood" in out
    assert not (tmp_path / "nonsense").exists() and not (tmp_path / "notes.txt").exists()
    (tmp_path / "interview-1.png").write_bytes(b"an older chart")
    # one answer, so that the report has a chart (none without any)
    run = console(tmp_path, "interview start vanishing_gradients questions=3\nB\nstop\nquit\n")
    assert f"Chart: {tmp_path / 'interview-1-2.png'}" in run.stdout
    assert (tmp_path / "interview-1.png").read_bytes() == b"an older chart"
    assert (tmp_path / "interview-1-2.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_console_says_where_the_scores_are_kept(tmp_path: Path) -> None:
    """BOT_DB is read relative to the current folder: the console says which file it uses."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = console(tmp_path, "quit\n", cwd=elsewhere, BOT_DB="data/bot.sqlite3")
    assert f"Your scores are kept in {elsewhere / 'data' / 'bot.sqlite3'} (BOT_DB)." in run.stdout


def test_options_given_twice_are_named(tmp_path: Path) -> None:
    script = (
        "interview start questions=3 questions=4\ninterview start minutes=2.5\n"
        "leaderboard week week\nleaderboard week month\nquit\n"
    )
    out = console(tmp_path, script).stdout
    assert "⚠️ questions is given twice: give it once." in out
    assert "⚠️ minutes must be a whole number." in out
    assert "⚠️ `week` and `week` are both a period: give one period (e.g. leaderboard week)." in out
    assert "⚠️ `week` and `month` are both a period" in out
    assert "Mock interview" not in out


def test_check_and_demo_mistakes_are_told_in_chinese(tmp_path: Path) -> None:
    """In Chinese, a mistaken `check` or `demo` is told in Chinese: the request's own Chinese
    wording, not the English one after a Chinese lead-in."""
    run = console(
        tmp_path,
        "language zh\ncheck foo\ncheck conv_output --seed abc\ncheck conv_output n=abc k=3\n"
        "demo foo\ndemo gan extra\ndemo gan --out\n",
    )
    said = [line for line in run.stdout.splitlines() if line.startswith("⚠️")]
    assert said == [
        "⚠️ 请求有误：没有题型族 'foo'；可用的题型族：" + said[0].split("：", 2)[2],
        "⚠️ 请求有误：`seed` 应为非负整数，不能是 'abc'",
        "⚠️ 请求有误：conv_output：参数 'n'：应为整数（收到 'abc'）",
        "⚠️ 参数有误：没有演示 'foo'；可用的演示：gan、rnn、vanishing",
        "⚠️ 参数有误：参数的写法是 k=v，不是 'extra'",
        "⚠️ 参数有误：`--out` 后面要写文件或文件夹：`--out PATH`",
    ], run.stdout
    assert "conv_output、pool_output" in said[0]


def test_a_leaderboard_word_that_is_neither_topic_nor_period_names_both(tmp_path: Path) -> None:
    run = console(tmp_path, "leaderboard year\nlanguage zh\nleaderboard year\n")
    said = [line for line in run.stdout.splitlines() if line.startswith("⚠️")]
    assert len(said) == 2, run.stdout
    assert said[0].startswith("⚠️ Unknown topic `year`. Known: ") and "backprop" in said[0]
    assert said[0].endswith(". Periods: week, month, all.")
    assert said[1].startswith("⚠️ 没有这个主题：`year`。")
    assert said[1].endswith("时间范围：week、month、all。")
    assert "backprop、" in said[1] and ", " not in said[1]  # a Chinese list: 、 between items


def test_a_huge_line_is_refused_not_echoed_back(tmp_path: Path) -> None:
    huge, word = "question " + "a" * 200_000, "b" * 300
    run = console(tmp_path, f"{huge}\n{word}\nhelp\n")
    assert "⚠️ That line is 200,009 characters long: too long for a command" in run.stdout
    assert f"⚠️ Unknown command `{'b' * 40}…`. Type `help` for the list." in run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) < 1_000
    assert "question [TOPIC]" in run.stdout  # the console went on: `help` answered


def test_stats_columns_line_up_in_chinese_and_with_long_names(tmp_path: Path) -> None:
    """A Chinese character takes two terminal cells; a long topic name widens its column."""
    from bot.console._columns import cells

    script = "question vanishing_gradients mcq\nA\nquestion conv_output numeric\n1\nstats\n"
    for lang in ("en", "zh"):
        run = console(tmp_path, f"language {lang}\n{script}")
        stats = run.stdout.rpartition("> stats\n")[2].splitlines()
        rows = [line for line in stats if line.startswith("  ")]
        assert len(rows) == 2, stats
        unit = "分" if lang == "zh" else "point"
        ends = {cells(row[: row.index(unit)]) for row in rows}
        assert len(ends) == 1, rows  # the points column ends in the same cell on every row
    assert cells("梯度 ab") == 7


def test_the_daily_question_is_not_asked_again_once_answered(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    lines = (FIXTURE_BANK / "practice.yaml").read_text(encoding="utf-8").splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("  - id: fx-zero-init"))
    (bank / "one.yaml").write_text("\n".join(lines[:end]) + "\n", encoding="utf-8")  # one MCQ
    run = console(tmp_path, "daily\nB\ndaily\nstats\n", BOT_CONTENT=str(bank))
    second = run.stdout.partition("> daily\n")[2].partition("> daily\n")[2]
    assert "You answered it today (right): a new question comes tomorrow (UTC)." in second
    assert "answer>" not in second and "only the first answer counts" not in second
    assert "1/1 correct" in second  # `stats`: one answer, counted once


def test_an_interview_stopped_before_any_answer_has_a_report_but_no_chart(tmp_path: Path) -> None:
    run = console(tmp_path, "interview start vanishing_gradients questions=3\nstop\n")
    assert "Report (stopped early): " in run.stdout
    assert "Chart:" not in run.stdout and not list(tmp_path.glob("interview-*.png"))


def test_a_topic_is_understood_in_any_case(tmp_path: Path) -> None:
    run = console(tmp_path, "question Vanishing-Gradients mcq\nskip\nleaderboard CNN\n")
    assert "Unknown topic" not in run.stdout and "⚠️" not in run.stdout, run.stdout
    assert "Skipped" in run.stdout
