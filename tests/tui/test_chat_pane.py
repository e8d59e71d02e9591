"""The tutor pane, driven like a person: a small app hosts it the way LearnApp does
(a key toggles it, the app loads history on `HistoryWanted`), the tutor talks to the
OpenAI-compatible stand-in and logs through the real API into the test database."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Header, Static

from services.config import Settings
from services.errors import LearnError, from_exception
from services.tutor.context import TutorContext
from services.tutor.tutor import Tutor
from tests.services import test_tutor as shared
from tests.services.test_tutor import (
    LEARNER_CODE,
    RESULTS,
    ai_rows,
    assessment_context,
    closed_port,
    lesson_context,
)
from tests.stack.openai_standin import tokens_of
from widgets.chat import ChatPane, toggle_chat
from widgets.chat_exchange import ChatExchange
from widgets.keybar import KeyBar

# The course, the learner, the stand-in and the tutors of the tutor's service tests.
world, learner_api, ai_server, ai = shared.world, shared.learner_api, shared.ai_server, shared.ai
make_tutor, tutor = shared.make_tutor, shared.tutor


class TutorHost(App[None]):
    """What LearnApp does for the pane: the key, the context, the history."""

    BINDINGS = [
        Binding("ctrl+o", "toggle_tutor", "Tutor", id="app.tutor"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self, tutor: Tutor, context: TutorContext | Callable[[], TutorContext], api=None
    ) -> None:
        super().__init__()
        self.tutor = tutor
        self.context = context
        self.api = api

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="body"):
            yield Static("Dictionaries map keys to values. " * 30)
            yield Button("Mark complete", id="lesson-button")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#lesson-button").focus()

    def action_toggle_tutor(self) -> None:
        toggle_chat(self.screen, self.tutor, self.context)

    @on(ChatPane.HistoryWanted)
    def _history_wanted(self, event: ChatPane.HistoryWanted) -> None:
        self.load_chat_history(event.pane, event.context)

    @work(group="chat-history")
    async def load_chat_history(self, pane: ChatPane, context: TutorContext) -> None:
        if self.api is None:
            return
        try:
            entries = await self.api.chat_history(**context.history_args())
        except Exception as exc:
            error = exc if isinstance(exc, LearnError) else from_exception(exc)
            pane.post_message(ChatPane.History([], context, error=str(error)))
            return
        pane.post_message(ChatPane.History(entries, context))


# -- helpers -----------------------------------------------------------------------------


async def until(pilot, predicate: Callable[[], object], what: str, timeout: float = 15) -> None:
    """Let the app run until `predicate()` holds (a generous limit, not a timing check)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)


def screen_text(app: App) -> str:
    """What the terminal shows, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def drawn(app: App, widget) -> list[str]:
    """The lines of the screen inside `widget`."""
    region = widget.region
    strips = app.screen._compositor.render_strips()[region.y : region.bottom]
    return [strip.crop(region.x, region.right).text for strip in strips]


def pane_of(app: App) -> ChatPane:
    return app.query_one(ChatPane)


async def open_pane(pilot) -> ChatPane:
    await pilot.press("ctrl+o")
    await until(
        pilot, lambda: pilot.app.query(ChatPane) and pane_of(pilot.app).display, "the pane to open"
    )
    return pane_of(pilot.app)


async def ask(pilot, question: str) -> None:
    pane = pane_of(pilot.app)
    pane.input.value = question
    pane.input.focus()
    await pilot.press("enter")


async def answered(pilot, count: int = 1) -> ChatExchange:
    """Wait until `count` live exchanges have finished; the last one."""
    pane = pane_of(pilot.app)
    await until(pilot, lambda: not pane.busy and len(live(pane)) >= count, "the answer")
    await pilot.pause()
    return live(pane)[-1]


def live(pane: ChatPane) -> list[ChatExchange]:
    return [e for e in pane.query(ChatExchange) if not e.has_class("-history")]


@pytest.fixture
async def lesson(learner_api, world) -> TutorContext:
    return await lesson_context(learner_api, world)


# -- opening, closing, focus ----------------------------------------------------------------


async def test_opening_focuses_the_question_and_closing_returns_focus(tutor, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        assert app.focused is pane.input
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not pane.display
        assert app.focused is app.query_one("#lesson-button")


async def test_pane_says_which_model_answers(tutor, lesson, ai):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await until(pilot, lambda: "tutor-model ·" in screen_text(app), "the model status")
        assert "Tutor · Lesson: Dictionaries as hash maps" in screen_text(app)


async def test_typed_question_keeps_letters_the_app_binds(tutor, ai, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press(*"quick q", "enter")
        await answered(pilot)
        assert app.is_running
        assert ai.last.messages[-1]["content"] == "quick q"


async def test_esc_closes_the_pane_when_no_answer_runs(tutor, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not pane.display
        assert app.focused is app.query_one("#lesson-button")


async def test_pane_sits_beside_the_screen(tutor, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await pilot.pause()
        body = app.query_one("#body")
        assert pane.region.width == 48  # 40% of 120 columns
        assert body.region.right <= pane.region.x  # beside, not over, the lesson


async def test_history_of_the_context_loads_when_the_pane_opens(tutor, lesson, learner_api):
    await learner_api.log_chat(
        "What did we say about drawers?", "Labels are **hashed**.", **lesson.history_args()
    )
    app = TutorHost(tutor, lesson, learner_api)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await until(pilot, lambda: pane.query(".-history"), "the history")
        await pilot.pause()
        shown = screen_text(app)
        assert "› What did we say about drawers?" in shown
        assert "Labels are hashed." in shown


async def test_another_lesson_replaces_the_conversation(tutor, lesson, learner_api, world):
    other = TutorContext(
        kind="lesson_chat",
        course_id=world["course"],
        lesson_id=world["lessons"]["sets"],
        lesson_title="Sets and membership",
    )
    app = TutorHost(tutor, lesson, learner_api)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "First question")
        await answered(pilot)
        pane.set_context(other)
        await pilot.pause()
        assert live(pane) == []
        assert "Tutor · Lesson: Sets and membership" in screen_text(app)


async def test_switching_context_stops_the_running_answer(tutor, ai, lesson, world):
    scripted = ai.reply(chunks=["One ", "two ", "three."], hold_after=1)
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "A long answer please")
        await until(pilot, lambda: "One" in screen_text(app), "the first delta")
        pane.set_context(
            TutorContext(
                kind="course_guidance", course_id=world["course"], course_title="Hashing in Python"
            )
        )
        await pilot.pause()
        assert ai.last.aborted.wait(10)
        assert not pane.busy and live(pane) == []
        scripted.release.set()


async def test_history_that_fails_to_load_shows_the_error(tutor, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        pane.post_message(ChatPane.History([], lesson, error="Can't reach the server."))
        await until(pilot, lambda: pane.query_one("#chat-error").has_class("-shown"), "the error")
        assert "Can't reach the server." in str(pane.query_one("#chat-error").render())


# -- streaming ------------------------------------------------------------------------------


async def test_answer_renders_incrementally_while_it_streams(tutor, ai, lesson):
    scripted = ai.reply(chunks=["Alpha ", "beta ", "gamma ", "delta ", "epsilon."], hold_after=3)
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Stream please")
        await until(pilot, lambda: "Alpha beta gamma" in screen_text(app), "the first deltas")
        assert "delta" not in screen_text(app)
        assert pane.busy
        scripted.release.set()
        await answered(pilot)
        assert "Alpha beta gamma delta epsilon." in screen_text(app)


async def test_a_streamed_answer_ends_as_it_looks_shown_at_once(tutor, ai, lesson):
    answer = (
        "## Dicts\n\nA **dict** maps keys to values.\n\n- fast lookups\n"
        "- hashable keys\n  1. strings\n  2. tuples\n\n```python\nd = {'a': 1}\n"
        "print(d['a'])\n```\n\nThat's all."
    )
    ai.reply(chunks=tokens_of(answer), chunk_delay=0.01)  # across several frames
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 70)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Stream it")
        streamed = await answered(pilot)
        pane.load_history([("Stream it", answer)])  # the same, rendered at once
        await until(pilot, lambda: pane.query(".-history"), "the history")
        await pilot.pause()
        [at_once] = pane.query(".-history")
        assert drawn(app, streamed.markdown) == drawn(app, at_once.markdown)
        assert "tuples" in "\n".join(drawn(app, streamed.markdown))


async def test_code_blocks_in_answers_render_as_code(tutor, ai, lesson):
    ai.reply("Use a dict:\n\n```python\nseen = {}\n```\n")
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await ask(pilot, "Show code")
        exchange = await answered(pilot)
        assert exchange.query("MarkdownFence")
        assert "```" not in screen_text(app)


async def test_esc_stops_a_running_answer_and_closes_the_request(tutor, ai, lesson):
    scripted = ai.reply(chunks=["One ", "two ", "three ", "four."], hold_after=2)
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Count slowly")
        await until(pilot, lambda: "One two" in screen_text(app), "the first deltas")
        await pilot.press("escape")
        await pilot.pause()
        assert ai.last.aborted.wait(10)  # the stand-in saw the client hang up
        assert ai.last.sent == 2
        assert not pane.busy and pane.display  # esc stopped the answer, not the pane
        assert "Stopped." in screen_text(app)
        scripted.release.set()


async def test_f4_copies_the_last_answer(tutor, ai, lesson):
    ai.reply("Copy **me**.")
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await ask(pilot, "Something to copy")
        await answered(pilot)
        await pilot.press("f4")
        assert app.clipboard == "Copy **me**."


async def test_earlier_exchanges_go_with_the_next_question(tutor, ai, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        ai.reply("First answer.")
        await ask(pilot, "First question")
        await answered(pilot)
        await ask(pilot, "Second question")
        await answered(pilot, 2)
        contents = [m["content"] for m in ai.last.messages[1:]]
        assert contents == ["First question", "First answer.", "Second question"]


# -- quick prompts and context ----------------------------------------------------------------


async def test_lessons_offer_quick_prompts(tutor, lesson):
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await pilot.pause()
        labels = [b.name for b in pane.query(".chat-quick-prompt")]
        assert labels == ["Explain this differently", "Quiz me"]


async def test_general_chat_has_no_quick_prompts(tutor):
    app = TutorHost(tutor, TutorContext())
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await pilot.pause()
        assert not pane.query(".chat-quick-prompt")
        assert not pane.query_one("#chat-quick").display


async def test_quick_prompt_asks_its_question_with_the_assessment_context(
    tutor, ai, learner_api, world
):
    context = await assessment_context(learner_api, world)
    app = TutorHost(tutor, context)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await pilot.pause()
        [hint] = [b for b in pane.query(Button) if b.name == "Give me a hint"]
        await pilot.click(hint)
        await answered(pilot)
        assert ai.last.messages[-1]["content"] == "Give me a hint"
        assert "cannot reuse one position" in ai.last.messages[0]["content"]


async def test_the_context_is_read_again_for_every_question(tutor, ai, learner_api, world):
    detail = await learner_api.assessment_detail(world["assessments"]["two-sum"])
    editor = {"code": LEARNER_CODE}

    def current() -> TutorContext:
        return TutorContext.for_assessment(detail, code=editor["code"], results=RESULTS)

    app = TutorHost(tutor, current)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        editor["code"] = "def two_sum(nums, target):\n    return 'edited'\n"
        await ask(pilot, "Why does my test fail?")
        await answered(pilot)
        assert "return 'edited'" in ai.last.messages[0]["content"]


# -- errors -------------------------------------------------------------------------------------


async def ask_until_it_fails(pilot, question: str):
    """Open the pane, ask, and wait until the pane shows the error; the pane."""
    pane = await open_pane(pilot)
    await ask(pilot, question)
    await until(pilot, lambda: pane.query_one("#chat-error").has_class("-shown"), "the error")
    await pilot.pause()
    return pane


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("401", "rejected the API key"),
        ("429", "rate-limiting"),
        ("500", "failed (HTTP 500)"),
        ("drop", "dropped mid-answer"),
    ],
)
async def test_error_shows_what_to_do_and_keeps_the_question(tutor, ai, lesson, script, says):
    if script == "drop":
        ai.reply("one two three", drop_after=1)
    else:
        ai.fail(int(script))
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ask_until_it_fails(pilot, "Will this work?")
        assert says in str(pane.query_one("#chat-error").render())
        assert pane.input.value == "Will this work?"
        assert not pane.busy


async def test_a_dropped_answer_keeps_what_came_marked_incomplete(tutor, ai, lesson):
    ai.reply("First words then more", drop_after=2)
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask_until_it_fails(pilot, "Will this work?")
        shown = screen_text(app)
        assert "First words" in shown and "then" not in shown
        assert "(incomplete)" in shown


async def test_unknown_model_error_names_the_model(make_tutor, lesson):
    app = TutorHost(make_tutor(model="gpt-nine"), lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Hello?")
        await until(pilot, lambda: pane.query_one("#chat-error").has_class("-shown"), "the error")
        assert "no model 'gpt-nine'" in str(pane.query_one("#chat-error").render())


async def test_retry_after_an_error_sends_the_kept_question(tutor, ai, lesson):
    ai.fail(500)
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Try me twice")
        await until(pilot, lambda: pane.input.value == "Try me twice", "the kept question")
        ai.reply("Second time lucky.")
        pane.input.focus()
        await pilot.press("enter")
        await answered(pilot)
        assert ai.last.messages[-1]["content"] == "Try me twice"
        assert "Second time lucky." in screen_text(app)
        assert not pane.query_one("#chat-error").has_class("-shown")


async def test_unreachable_server_is_reported_in_the_pane(make_tutor, lesson):
    app = TutorHost(make_tutor(base_url=f"http://127.0.0.1:{closed_port()}/v1"), lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await ask(pilot, "Anyone there?")
        await until(pilot, lambda: pane.query_one("#chat-error").has_class("-shown"), "the error")
        assert "Can't reach the AI server" in str(pane.query_one("#chat-error").render())
        assert pane.input.value == "Anyone there?"


# -- no model, and logging -----------------------------------------------------------------------


async def test_without_a_model_the_pane_shows_course_excerpts_not_ai(learner_api, lesson):
    tutor = Tutor(learner_api, settings=Settings(), ollama_url=f"http://127.0.0.1:{closed_port()}")
    app = TutorHost(tutor, lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_pane(pilot)
        await until(pilot, lambda: "No AI model" in screen_text(app), "the model status")
        await ask(pilot, "Why are dictionary lookups fast?")
        await answered(pilot)
        shown = screen_text(app)
        assert "Course excerpts (not AI)" in shown
        assert "Dictionaries as hash maps · Hashing in Python" in shown
        assert "No AI model is set up" in shown
        assert "learn config openai_base_url" in pane.last_answer


async def test_answers_in_the_pane_are_logged_with_tokens(tutor, ai, lesson, learner_api, db):
    ai.reply(
        "Logged answer.", usage={"prompt_tokens": 50, "completion_tokens": 2, "total_tokens": 52}
    )
    app = TutorHost(tutor, lesson, learner_api)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await ask(pilot, "Please log this exchange")
        await answered(pilot)
    history = await learner_api.chat_history(**lesson.history_args())
    assert ("Please log this exchange", "Logged answer.") in [
        (h.question, h.answer) for h in history
    ]
    [row] = ai_rows(db, "Please log this exchange")
    assert row["tokens_used"] == 52
