"""`learn review` and `learn practice`: spaced review and practice in your own editor.

    learn review                    the app, on the review screen
    learn review --due [--json]     the cards due now, for scripts
    learn practice ASSESSMENT       write the assessment to a file, watch it, run its tests

Imports stay inside the handlers: `learn --help` loads none of this.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def add_commands(sub, supabase_flag) -> None:
    review = sub.add_parser(
        "review", help="review what you learned (spaced repetition); --due lists the cards due now"
    )
    review.add_argument("--due", action="store_true", help="list the due cards and exit")
    review.add_argument("--json", action="store_true", help="with --due: JSON for scripts")
    supabase_flag(review)
    practice = sub.add_parser(
        "practice",
        help="solve an assessment in your own editor: "
        "learn practice ASSESSMENT (slug or title prefix)",
    )
    practice.add_argument("assessment", help="the assessment's slug, title prefix or id")
    practice.add_argument(
        "--dir", help="the workspace folder (default: the practice_dir setting, or ~/learn)"
    )
    practice.add_argument(
        "--once",
        action="store_true",
        help="write the file and run the visible tests once; do not watch",
    )
    supabase_flag(practice)


def _backend(args: argparse.Namespace):
    from tui.offline_cli import offline_backend

    return offline_backend(args)


async def _signed_in(backend) -> None:
    from services.errors import NotSignedIn

    await backend.connect()
    if backend.current_user is None:
        raise NotSignedIn(
            "Nobody is signed in here: start `learn` once to make your profile (or `learn login`)."
        )


def _review(args: argparse.Namespace) -> int:
    if not args.due:
        if args.json:
            print("learn: --json goes with --due (learn review --due --json)", file=sys.stderr)
            return 2
        from tui.cli import run_app

        args.start = "review"
        return run_app(args)
    import asyncio
    import json

    from services.data.api import LearningAPI
    from services.review.practice import printable
    from services.review.spaced import Reviews, due_json, when

    backend = _backend(args)

    async def fetch():
        try:
            await _signed_in(backend)
            return await Reviews(LearningAPI(backend)).queue(), backend.online
        finally:
            await backend.close()

    queue, online = asyncio.run(fetch())
    if args.json:
        print(json.dumps(due_json(queue), indent=2, ensure_ascii=False))
        return 0
    summary = queue.summary
    if not queue.cards:
        following = f"; the next come {when(summary.next_due)}" if summary.next_due else ""
        print(f"Nothing is due for review{following}.")
    import shutil

    columns = shutil.get_terminal_size((100, 24)).columns
    where_width = max(16, min(40, columns // 3))
    prompt_width = max(20, columns - where_width - 14)
    for card in queue.cards:
        kind = "assessment" if card.assessment_id else "key point "
        where = _fit(printable(card.where), where_width)
        prompt = _fit(printable(card.prompt).splitlines()[0], prompt_width)
        print(f"{kind}  {where:<{where_width}}  {prompt}")
    if queue.cards:
        print(
            f"{len(queue.cards)} due now · {summary.due_today} today · "
            f"review them with `learn review`"
        )
    if queue.pending:
        print(f"{queue.pending} reviews made here wait to sync (learn sync).")
    if not online:
        print("(offline: as saved on this machine)")
    return 0


async def find_assessment(api, wanted: str):
    """(AssessmentDetail, course slug) by id, slug, or a unique title prefix."""
    import re

    from services.errors import InvalidInput, NotFound

    if re.fullmatch(r"[0-9a-fA-F-]{36}", wanted):
        detail = await api.assessment_detail(wanted)
        return detail, None
    catalog = await api.catalog(limit=200)
    found = []
    for course in catalog.courses:
        detail = await api.course_detail(course.id)
        for a in detail.assessments:
            found.append((a, course.slug or course.title))
    key = wanted.strip().lower()
    exact = [(a, c) for a, c in found if (a.slug or "").lower() == key]
    prefix = exact or [
        (a, c)
        for a, c in found
        if a.title.lower().startswith(key) or (a.slug or "").lower().startswith(key)
    ]
    if not prefix:
        raise NotFound(
            f"No assessment matches {wanted!r}: give its slug or the start of its "
            "title (the course screen lists them)."
        )
    if len({a.id for a, _ in prefix}) > 1:
        names = ", ".join(sorted({a.slug or a.title for a, _ in prefix}))[:300]
        raise InvalidInput(f"{wanted!r} matches several assessments: {names}. Say which.")
    summary, course_slug = prefix[0]
    return await api.assessment_detail(summary.id), course_slug


def _practice(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console

    from services import config
    from services.data.api import LearningAPI
    from services.review.practice import Practice, key_presses, run_practice
    from services.review.workspace import prepare_file, workspace_file, workspace_root
    from services.runner import assessment_from_row

    backend = _backend(args)
    console = Console(highlight=False)

    async def run() -> int:
        try:
            await _signed_in(backend)
            api = LearningAPI(backend)
            detail, course_slug = await find_assessment(api, args.assessment)
            a = detail.assessment
            course = course_slug or (detail.course.slug if detail.course else None)
            root = workspace_root(args.dir or config.load().practice_dir)
            path = workspace_file(root, course, a.slug or a.title, a.language)
            source = prepare_file(path, a.id, a.starter_code or "")
            spec = assessment_from_row(a.__dict__)
            practice = Practice(api, detail, spec, path, console)
            console.print(
                f"[bold]{_safe(a.title)}[/bold]  ·  {_safe(a.difficulty or '')}  ·  "
                f"{a.time_limit or 'no'} min limit  ·  "
                f"{sum(1 for t in spec.tests if not t.hidden)} visible tests"
            )
            console.print(f"{_safe(source)} [bold]{_safe(str(path))}[/bold]")
            if args.once:
                await practice.check(path.read_text(encoding="utf-8"), label="checked")
                return 0
            console.print(
                "Open it in your editor: every save runs the visible tests here.", style="dim"
            )
            keys = key_presses() if sys.stdin and not sys.stdin.closed else None
            return await run_practice(practice, keys=keys)
        finally:
            await backend.close()

    return asyncio.run(run())


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _safe(text: str) -> str:
    from rich.markup import escape

    from services.review.practice import printable

    return escape(printable(text))


COMMANDS = {"review": _review, "practice": _practice}
