"""The operators' report as text (`learn admin report`): the monitoring views that
`AuthoringAPI.admin_report` reads, as sparklines, bars and columns.

    report_text(report)   the whole report
    spark, text_bar       a one-line sparkline; a bar of a value out of a maximum
"""

from __future__ import annotations

from typing import Any

from services.words import plural

SPARKS = "▁▂▃▄▅▆▇█"


def spark(values: list[float]) -> str:
    """A one-line sparkline, e.g. ▁▃▅█▂."""
    if not values:
        return ""
    top = max(values) or 1
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] if v else SPARKS[0]
        for v in values
    )


def text_bar(value: float | None, maximum: float = 100, width: int = 20) -> str:
    """█████░░░░░ — `value` of `maximum`."""
    share = 0.0 if not value or not maximum else max(0.0, min(1.0, float(value) / maximum))
    filled = round(width * share)
    return "█" * filled + "░" * (width - filled)


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    number = float(value)
    return f"{number:,.{digits}f}"


def _clip(text: Any, width: int) -> str:
    text = str(text or "")
    return text if len(text) <= width else text[: width - 1] + "…"


def report_text(report: dict[str, Any]) -> str:
    """`admin_report()` as the lines `learn admin report` prints."""
    days = report.get("days", 30)
    when = str(report.get("generated_at", ""))[:16].replace("T", " ")
    out = [
        f"learn — platform report, {when} UTC (last {plural(days, 'day')})",
        f"Learners: {report.get('learners', 0)}",
        "",
    ]

    daily = report.get("daily_active") or []
    out.append(
        f"Daily active learners, {daily[0]['day']} to {daily[-1]['day']}"
        if daily
        else "Daily active learners"
    )
    if any(d["learners"] for d in daily):
        peak = max(daily, key=lambda d: d["learners"])
        out.append(
            f"  {spark([d['learners'] for d in daily])}  peak {peak['learners']} on "
            f"{peak['day']}, latest {daily[-1]['learners']}"
        )
    else:
        out.append("  no learning recorded in this period")

    weekly = report.get("weekly_active") or []
    out += ["", "Weekly active learners"]
    top = max((w["learners"] for w in weekly), default=0)
    out += [f"  {w['week']}  {text_bar(w['learners'], top)}  {w['learners']}" for w in weekly] or [
        "  none yet"
    ]

    courses = report.get("courses") or []
    out += ["", "Course completion                 enrolled  completed"]
    for c in courses:
        rate = c.get("completion_rate")
        out.append(
            f"  {_clip(c['title'], 30):<30} {c['enrollments']:>8}  "
            f"{text_bar(rate, 100, 16)} {_num(rate):>3}%  "
            f"avg progress {_num(c.get('average_progress'))}%"
            + ("" if c.get("is_published") else "  (draft)")
        )
    if not courses:
        out.append("  no courses")

    assessments = [a for a in report.get("assessments") or [] if a.get("attempts")]
    out += ["", "Assessment performance            attempts  pass rate (score ≥ 70)"]
    for a in assessments:
        name = f"{a.get('course_slug') or '-'}/{a.get('slug') or a['title']}"
        out.append(
            f"  {_clip(name, 30):<30} {a['attempts']:>8}  "
            f"{text_bar(a.get('pass_rate'), 100, 16)} {_num(a.get('pass_rate')):>3}%  "
            f"avg score {_num(a.get('average_score'))}"
        )
    if not assessments:
        out.append("  no submitted attempts yet")

    ai_daily = report.get("ai_daily") or []
    by_type = report.get("ai_by_type") or []
    out += ["", "AI interactions"]
    if any(d["requests"] for d in ai_daily):
        out.append(
            f"  {spark([d['requests'] for d in ai_daily])}  requests per day "
            f"(peak {max(d['requests'] for d in ai_daily)}, "
            f"{sum(d['tokens'] for d in ai_daily):,} tokens in {plural(days, 'day')})"
        )
    if by_type:
        out.append(
            f"  {'type':<22} {'requests':>8} {'learners':>8} {'tokens':>10} "
            f"{'avg tok':>8} {'avg ms':>8} {'p95 ms':>8}"
        )
        for t in by_type:
            out.append(
                f"  {_clip(t['interaction_type'], 22):<22} {t['requests']:>8} "
                f"{t['learners']:>8} {_num(t.get('tokens')):>10} "
                f"{_num(t.get('average_tokens')):>8} {_num(t.get('average_ms')):>8} "
                f"{_num(t.get('p95_ms')):>8}"
            )
    else:
        out.append("  none recorded")

    tutor = report.get("tutor") or []
    out += ["", "Tutor questions by context"]
    top = max((t["questions"] for t in tutor), default=0)
    out += [
        f"  {t['context']:<18} {text_bar(t['questions'], top, 16)} {t['questions']:>6} "
        f"from {t['learners']} learner{'' if t['learners'] == 1 else 's'}"
        + (f", {t['unanswered']} unanswered" if t.get("unanswered") else "")
        for t in tutor
    ] or ["  none yet"]

    streaks = report.get("streaks") or []
    out += ["", "Current streaks (days or weeks in a row)"]
    top = max((s["learners"] for s in streaks), default=0)
    out += [
        f"  {s['bucket']:<6} {text_bar(s['learners'], top, 20)} {s['learners']}" for s in streaks
    ]

    achievements = report.get("achievements") or []
    out += ["", "Achievements                      learners  share of learners"]
    out += [
        f"  {_clip(a['title'], 30):<30} {a['learners']:>8}  "
        f"{text_bar(a.get('share_of_learners'), 100, 16)} "
        f"{_num(a.get('share_of_learners'))}%"
        for a in achievements
    ] or ["  none earned yet"]
    return "\n".join(out)
