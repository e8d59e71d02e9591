"""Words and numbers the command line prints: the version, counted nouns, bad days."""

from __future__ import annotations

import pytest

from services.authoring.report import report_text
from services.words import plural
from tui.cli import main


def test_learn_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "learn 0.1.0"


@pytest.mark.parametrize("days", ["-5", "0", "367", "many"])
def test_admin_report_refuses_days_it_cannot_show_in_one_line(days, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["admin", "report", "--days", days])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("learn admin report: error: argument --days:")


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "lesson", "1 lesson"),
        (0, "lesson", "0 lessons"),
        (2, "day", "2 days"),
        (1, "achievement", "1 achievement"),
    ],
)
def test_counted_nouns_agree_with_their_count(count, noun, expected):
    assert plural(count, noun) == expected


def test_the_report_of_one_day_says_last_1_day():
    assert "(last 1 day)" in report_text({"days": 1, "learners": 1}).splitlines()[0]
