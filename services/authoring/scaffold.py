"""`learn course new SLUG`: a course folder that validates and previews as it is — one
lesson, one assessment with starter, reference solution and tests — for an author to
change (docs/authoring.md describes every file)."""

from __future__ import annotations

from pathlib import Path

from services.authoring.model import SLUG
from services.errors import LearnError

COURSE_TOML = """\
# The course: what the catalog shows. The folder's name is the course's slug.
title = "{title}"
short_description = "One line for the catalog: what a learner can do after this course."
difficulty_level = "Beginner"          # Beginner | Intermediate | Advanced
duration = "1 week"
estimated_hours = 2
tags = ["python"]
description = \'\'\'
A few paragraphs of Markdown for the course page: who it is for, what it covers,
what a learner needs before starting.
\'\'\'
"""

LESSON_MD = '''\
+++
title = "First steps"
duration = "10 min"
difficulty = "Beginner"
key_points = [
    "A function takes values in and gives one value back with return",
    "print() shows a value; return hands it to the caller",
]
+++

The lesson's text, in Markdown. Explain one idea, with small examples:

```python
>>> def double(n):
...     return n * 2
...
>>> double(21)
42
```

## Explanation

Why it works the way it does: the part a learner reads after trying it.

## Code example

```python
def add(a, b):
    """Return the sum of a and b."""
    return a + b


print(add(2, 3))  # 5
```
'''

ASSESSMENT_TOML = '''\
title = "Add two numbers"
description = "Write a function that returns the sum of two numbers."
difficulty = "Beginner"
time_limit = 10                 # minutes; leave it out for an untimed exercise
language = "python"
entry = "add"                   # the function that `args` tests call
lesson = "01-first-steps"       # the lesson file (without .md) it belongs to
instructions = \'\'\'
Write `add(a, b)` that returns the sum of `a` and `b`.

```python
add(2, 3)    # 5
add(-1, 1)   # 0
```
\'\'\'
starter_code = \'\'\'
def add(a, b):
    """Return the sum of a and b."""
    return 0
\'\'\'
# The reference solution: it must pass every test (`learn course validate` runs it). It
# stays with you: learners never see it.
solution = \'\'\'
def add(a, b):
    """Return the sum of a and b."""
    return a + b
\'\'\'

[[tests]]
name = "small numbers"
args = [2, 3]
expected = 5

[[tests]]
name = "a negative number"
args = [-1, 1]
expected = 0

[[tests]]
name = "large numbers"
args = [1000000, 2000000]
expected = 3000000
hidden = true                   # shown to learners as pass/fail only
'''


def new_course(parent: Path, slug: str) -> list[Path]:
    """Create parent/slug with a course, one lesson and one assessment; the files
    written. Refuses a slug the catalog cannot use and a folder that is not empty."""
    if not SLUG.match(slug):
        raise LearnError(
            f"{slug!r} cannot be a course's slug: use lowercase letters, "
            "digits and dashes (e.g. intro-to-sql)."
        )
    folder = parent / slug
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LearnError(
            f"{folder} already exists and is not empty: choose another slug or folder."
        )
    title = slug.replace("-", " ").capitalize()
    files = {
        folder / "course.toml": COURSE_TOML.format(title=title),
        folder / "lessons" / "01-first-steps.md": LESSON_MD,
        folder / "assessments" / "add-two.toml": ASSESSMENT_TOML,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
