"""The tutor against the OpenAI-compatible stand-in, logging through the real API into
the test PostgreSQL (LocalBackend), as the app does."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from services.config import Settings
from services.data.api import LearningAPI
from services.data.backend import LocalBackend
from services.tutor.context import TutorContext
from services.tutor.endpoint import Endpoint
from services.tutor.errors import TutorError
from services.tutor.fallback import EXCERPTS_HEADING, clean_excerpt
from services.tutor.policy import asks_for_solution
from services.tutor.prompts import message_type_of
from services.tutor.stream import sse_data
from services.tutor.tutor import Tutor
from tests.stack.openai_standin import OpenAIStandIn

ROOT = Path(__file__).resolve().parents[2]

# The reference solution carries a marker that must never reach a model.
SOLUTION_MARKER = "first_index_REFERENCE_ONLY"
SOLUTION = f"""def two_sum(nums, target):
    {SOLUTION_MARKER} = {{}}
    for j, x in enumerate(nums):
        if target - x in {SOLUTION_MARKER}:
            return [{SOLUTION_MARKER}[target - x], j]
        {SOLUTION_MARKER}.setdefault(x, j)
    return []
"""

COURSE = {
    "slug": "tutor-hashing",
    "title": "Hashing in Python",
    "description": "Dictionaries, sets and the problems they make easy.",
    "short_description": "Hash maps in practice",
    "difficulty_level": "Beginner",
    "lessons": [
        {
            "slug": "dicts",
            "title": "Dictionaries as hash maps",
            "order_index": 0,
            "content": "A dictionary maps keys to values. Looking up a key takes constant time "
            "on average, because Python hashes the key to find its slot.",
            "explanation": "Think of a dictionary as a wall of labelled drawers: the label is "
            "hashed to find the drawer at once.",
            "code_example": "ages = {'ada': 36}\nprint(ages['ada'])",
            "key_points": ["Dictionary lookups are O(1) on average", "Keys must be hashable"],
        },
        {
            "slug": "sets",
            "title": "Sets and membership",
            "order_index": 1,
            "content": "A set keeps unique items. Membership tests with `in` are fast because "
            "sets are hashed like dictionary keys.",
            "key_points": ["Sets drop duplicates"],
        },
    ],
    "assessments": [
        {
            "slug": "two-sum",
            "title": "Two sum",
            "lesson_slug": "dicts",
            "instructions": "Write `two_sum(nums, target)` returning the indices of two "
            "different positions whose values add up to target.",
            "starter_code": "def two_sum(nums, target):\n    ...\n",
            "test_cases": [
                {"name": "classic", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]},
                {
                    "name": "zeros far apart",
                    "args": [[0, 4, 3, 0], 0],
                    "expected": [0, 3],
                    "hidden": True,
                },
            ],
            "language": "python",
            "entry": "two_sum",
            "time_limit": 20,
            "difficulty": "Beginner",
            "solution": SOLUTION,
        },
        {
            "slug": "unique",
            "title": "Unique words",
            "lesson_slug": "sets",
            "instructions": "Write `unique(words)` returning the distinct words in order.",
            "starter_code": "def unique(words):\n    ...\n",
            "test_cases": [{"name": "basic", "args": [["a", "b", "a"]], "expected": ["a", "b"]}],
            "language": "python",
            "entry": "unique",
            "time_limit": 10,
            "solution": "def unique(words):\n    return list(dict.fromkeys(words))\n",
        },
    ],
}

LEARNER_CODE = """def two_sum(nums, target):
    index_of = {}
    for j, x in enumerate(nums):
        index_of[x] = j
        if target - x in index_of:
            return [index_of[target - x], j]
    return []
"""

RESULTS = {
    "version": 1,
    "status": "fail",
    "message": None,
    "score": {"passed": 1, "total": 3, "percent": 33},
    "tests": [
        {
            "name": "classic",
            "status": "pass",
            "message": None,
            "expected": "[0, 1]",
            "actual": "[0, 1]",
            "output": None,
        },
        {
            "name": "cannot reuse one position",
            "status": "fail",
            "message": "two_sum([3, 2, 4], 6) returned the wrong value",
            "expected": "[1, 2]",
            "actual": "[0, 0]",
            "output": "debug: seen 3",
        },
        {
            "name": "zeros far apart",
            "status": "fail",
            "message": "hidden test",
            "expected": None,
            "actual": None,
            "output": None,
        },
    ],
}


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(db):
    """The course published by its author (solutions stored where only authors read)."""
    author = db.new_user(f"author-{uuid.uuid4().hex[:8]}@example.test", {"full_name": "Ada Author"})
    course_id = db.run_as(author, "select public.publish_course(%s) as r", (Jsonb(COURSE),))[0][
        "r"
    ]["course_id"]
    rows = db.su("select slug, id::text from lessons where course_id = %s", (course_id,))
    lessons = {r["slug"]: r["id"] for r in rows}
    rows = db.su("select slug, id::text from assessments where course_id = %s", (course_id,))
    assessments = {r["slug"]: r["id"] for r in rows}
    return {
        "author": author,
        "course": str(course_id),
        "lessons": lessons,
        "assessments": assessments,
    }


@pytest.fixture(scope="module")
async def learner_api(db_url, world, tmp_path_factory):
    """A signed-up learner's LearningAPI over LocalBackend on the module's database."""
    session = tmp_path_factory.mktemp("tutor-session") / "session.json"
    backend = LocalBackend(db_url, migrate=False, session_path=session)
    await backend.connect()
    await backend.sign_up(
        f"learner-{uuid.uuid4().hex[:8]}@example.test",
        "correct horse battery",
        full_name="Lee Learner",
    )
    yield LearningAPI(backend)
    await backend.close()


@pytest.fixture(scope="module")
def ai_server():
    with OpenAIStandIn(models=["tutor-model", "other-model"]) as server:
        yield server


@pytest.fixture
def ai(ai_server):
    ai_server.reset()
    ai_server.api_key = None
    ai_server.ollama = False
    yield ai_server
    ai_server.reset()


@pytest.fixture
async def make_tutor(ai, learner_api):
    """make_tutor(model=…, base_url=…, timeout=…) → a Tutor on the stand-in (closed after)."""
    made: list[Tutor] = []

    def factory(
        *, model: str = "tutor-model", base_url: str | None = None, timeout: float = 10
    ) -> Tutor:
        endpoint = Endpoint(base_url or ai.base_url, "sk-test", model, "config")
        made.append(Tutor(learner_api, endpoint=endpoint, timeout=timeout))
        return made[-1]

    yield factory
    for tutor in made:
        await tutor.aclose()


@pytest.fixture
def tutor(make_tutor) -> Tutor:
    return make_tutor()


async def lesson_context(api: LearningAPI, world) -> TutorContext:
    return TutorContext.for_lesson(await api.lesson_detail(world["lessons"]["dicts"]))


async def assessment_context(api: LearningAPI, world, slug: str = "two-sum", **kw) -> TutorContext:
    detail = await api.assessment_detail(world["assessments"][slug])
    kw.setdefault("code", LEARNER_CODE)
    kw.setdefault("results", RESULTS)
    return TutorContext.for_assessment(detail, **kw)


async def answer_of(
    tutor: Tutor, question: str, context: TutorContext | None = None, history=()
) -> tuple[str, object]:
    answer = tutor.ask(question, context, history)
    text = "".join([delta async for delta in answer])
    return text, answer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ai_rows(db, user_question: str) -> list[dict]:
    return db.su(
        "select * from ai_interactions where input_data ->> 'question' = %s", (user_question,)
    )


# -- streaming -----------------------------------------------------------------------------


async def test_answer_streams_the_servers_deltas_in_order(tutor, ai):
    ai.reply(chunks=["A dict ", "hashes ", "its keys."])
    answer = tutor.ask("How do dicts work?")
    deltas = [delta async for delta in answer]
    assert deltas == ["A dict ", "hashes ", "its keys."]
    assert answer.text == "A dict hashes its keys."


async def test_request_streams_and_asks_for_usage(tutor, ai):
    await answer_of(tutor, "Hello?")
    body = ai.last.body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["model"] == "tutor-model"
    assert ai.last.headers["authorization"] == "Bearer sk-test"


async def test_closing_an_answer_closes_the_http_response(tutor, ai):
    scripted = ai.reply("one two three four five six", hold_after=2)
    answer = tutor.ask("Count for me")
    assert await answer.__anext__() == "one"
    await answer.aclose()
    assert ai.last.aborted.wait(5)
    assert ai.last.sent == 2
    scripted.release.set()


async def test_server_sent_events_follow_the_sse_rules():
    async def lines():
        for line in [
            ": keep-alive comment",
            "event: message",
            'data: {"a":',
            "data:1}",
            "",
            "",
            "data:[DONE]",
            "",
        ]:
            yield line

    assert [d async for d in sse_data(lines())] == ['{"a":\n1}', "[DONE]"]


async def test_earlier_turns_are_sent_before_the_question(tutor, ai):
    await answer_of(tutor, "And sets?", history=[("What is a dict?", "A hash map.")])
    roles = [(m["role"], m["content"]) for m in ai.last.messages[1:]]
    assert roles == [
        ("user", "What is a dict?"),
        ("assistant", "A hash map."),
        ("user", "And sets?"),
    ]


# -- context -------------------------------------------------------------------------------


async def test_lesson_context_sends_content_explanation_and_key_points(
    tutor, ai, learner_api, world
):
    context = await lesson_context(learner_api, world)
    await answer_of(tutor, "Explain this differently", context)
    system = ai.last.messages[0]["content"]
    assert "Dictionaries as hash maps" in system
    assert "Python hashes the key to find its slot" in system
    assert "wall of labelled drawers" in system
    assert "- Keys must be hashable" in system


async def test_assessment_context_has_the_code_and_failing_tests_first(
    tutor, ai, learner_api, world
):
    context = await assessment_context(learner_api, world)
    await answer_of(tutor, "Why does my test fail?", context)
    system = ai.last.messages[0]["content"]
    assert "index_of[x] = j" in system  # the learner's current code
    assert "Write `two_sum(nums, target)`" in system  # the instructions
    failing = system.index("cannot reuse one position")
    assert failing < system.index("Passing tests: classic")
    assert "expected: [1, 2]" in system and "actual: [0, 0]" in system
    assert "debug: seen 3" in system


async def test_hidden_tests_contribute_only_name_and_status(tutor, ai, learner_api, world):
    results = {
        "status": "fail",
        "tests": [
            {
                "name": "zeros far apart",
                "status": "fail",
                "message": "secret detail",
                "expected": "[0, 3]",
                "actual": "[1, 2]",
                "output": "leak",
                "hidden": True,
            }
        ],
    }
    context = await assessment_context(learner_api, world, results=results)
    await answer_of(tutor, "Why does my test fail?", context)
    system = ai.last.messages[0]["content"]
    assert "zeros far apart (hidden test): fail" in system
    for detail in ("secret detail", "[0, 3]", "leak"):
        assert detail not in system


async def test_reference_solution_is_never_sent(tutor, ai, learner_api, world, db):
    stored = db.su_one(
        "select solution from assessment_solutions where assessment_id = %s",
        (world["assessments"]["two-sum"],),
    )
    assert SOLUTION_MARKER in stored  # the solution exists in the database
    context = await assessment_context(learner_api, world, attempted=True)
    await answer_of(tutor, "Give me a hint", context)
    await answer_of(tutor, "Show me the full solution", context)

    class AuthorsCopy:  # the author's folder: a solution attached
        id = world["assessments"]["two-sum"]
        title = "Two sum"
        instructions = "Write two_sum."
        solution = SOLUTION

    authored = TutorContext.for_assessment(AuthorsCopy(), code="", results=[])
    await answer_of(tutor, "Show me the full solution", authored)
    assert len(ai.completions) == 3
    for record in ai.completions:
        assert SOLUTION_MARKER not in json.dumps(record.body)


async def test_course_context_lists_the_lessons(tutor, ai, learner_api, world):
    detail = await learner_api.course_detail(world["course"])
    await answer_of(tutor, "What should I learn next?", TutorContext.for_course(detail))
    system = ai.last.messages[0]["content"]
    assert "- Dictionaries as hash maps" in system and "- Sets and membership" in system


# -- the hint ladder and the solution rule ------------------------------------------------


def rung_of(record) -> str:
    system = record.messages[0]["content"]
    for rung in ("Rung 1 of 3", "Rung 2 of 3", "Rung 3 of 3"):
        if rung in system:
            return rung
    return "solution" if "give a complete, working solution" in system else "none"


async def test_hint_ladder_climbs_with_each_help_request(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world)
    for _ in range(4):
        await answer_of(tutor, "Give me a hint", context)
    assert [rung_of(r) for r in ai.completions] == [
        "Rung 1 of 3",
        "Rung 2 of 3",
        "Rung 3 of 3",
        "Rung 3 of 3",
    ]
    assert tutor.hint_level(context) == 3


async def test_failed_help_requests_do_not_climb_the_ladder(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world)
    ai.fail(500)
    with pytest.raises(TutorError):
        await answer_of(tutor, "Give me a hint", context)
    await answer_of(tutor, "Give me a hint", context)
    assert [rung_of(r) for r in ai.completions] == ["Rung 1 of 3", "Rung 1 of 3"]


async def test_hint_ladder_is_kept_per_assessment(tutor, ai, learner_api, world):
    two_sum = await assessment_context(learner_api, world)
    unique = await assessment_context(learner_api, world, "unique", code="", results=[])
    await answer_of(tutor, "Give me a hint", two_sum)
    await answer_of(tutor, "Give me a hint", two_sum)
    await answer_of(tutor, "Give me a hint", unique)
    assert rung_of(ai.last) == "Rung 1 of 3"


async def test_hint_ladder_continues_from_a_reloaded_conversation(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world)
    earlier = [("Give me a hint", "What do you store?"), ("Another hint", "Store indices.")]
    await answer_of(tutor, "One more hint", context, history=earlier)
    assert rung_of(ai.last) == "Rung 3 of 3"


async def test_lessons_have_no_hint_ladder(tutor, ai, learner_api, world):
    await answer_of(tutor, "Give me a hint", await lesson_context(learner_api, world))
    assert rung_of(ai.last) == "none"


async def test_no_full_solution_while_the_timer_runs(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world, attempted=True, timer_running=True)
    text, answer = await answer_of(tutor, "Show me the full solution", context)
    assert text.startswith("⏱ No full solution while the attempt's timer is running")
    assert answer.guidance.solution_allowed is False
    system = ai.last.messages[0]["content"]
    assert rung_of(ai.last) == "Rung 1 of 3"
    assert "timer is running: whatever the learner asks, do not give the full solution" in system


async def test_full_solution_needs_an_attempt_first(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world, attempted=False, results=None)
    text, _ = await answer_of(tutor, "Just give me the solution", context)
    assert text.startswith("Have a go first")
    assert rung_of(ai.last) == "Rung 1 of 3"


async def test_full_solution_after_an_attempt_with_no_timer(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world, attempted=True, timer_running=False)
    text, answer = await answer_of(tutor, "Show me the full solution", context)
    assert answer.guidance.solution_allowed
    assert rung_of(ai.last) == "solution"
    assert not text.startswith(("⏱", "Have a go"))


def test_only_explicit_asks_count_as_asking_for_the_solution():
    for question in (
        "Show me the full solution",
        "just give me the answer",
        "What's the complete code?",
        "solution?",
        "Please solve it for me",
    ):
        assert asks_for_solution(question), question
    for question in (
        "Give me a hint",
        "Why does my test fail?",
        "Is my solution on the right track?",
        "What does the answer list hold?",
        "I have working code but one test fails",
    ):
        assert not asks_for_solution(question), question


# -- logging -------------------------------------------------------------------------------


async def test_exchange_is_logged_to_chat_history_and_ai_interactions(
    tutor, ai, learner_api, world, db
):
    context = await lesson_context(learner_api, world)
    ai.reply(
        "A dict hashes each key.",
        usage={"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127},
    )
    _, answer = await answer_of(tutor, "What does hashing do here?", context)
    assert answer.logged and answer.log_error is None
    history = await learner_api.chat_history(**context.history_args())
    assert [(h.question, h.answer, h.message_type) for h in history][-1] == (
        "What does hashing do here?",
        "A dict hashes each key.",
        "explanation",
    )
    [row] = ai_rows(db, "What does hashing do here?")
    assert row["tokens_used"] == 127
    assert row["processing_time"] == answer.processing_ms
    assert row["interaction_type"] == "lesson_chat"
    assert row["input_data"]["lesson_id"] == world["lessons"]["dicts"]
    assert row["output_data"]["prompt_tokens"] == 120
    assert row["output_data"]["completion_tokens"] == 7
    assert row["output_data"]["answer"] == "A dict hashes each key."


async def test_mostly_code_answers_are_logged_as_code(tutor, ai, learner_api, world):
    context = await assessment_context(learner_api, world, attempted=True)
    ai.reply("Here:\n```python\ndef two_sum(nums, target):\n    return []\n```\n")
    await answer_of(tutor, "Show me the full solution", context)
    history = await learner_api.chat_history(**context.history_args())
    assert history[-1].message_type == "code"


def test_message_type_is_text_for_plain_answers_outside_lessons():
    assert message_type_of("Try a dict.", TutorContext(), "How?") == "text"


async def test_missing_usage_is_estimated_and_flagged(tutor, ai, db):
    ai.reply("word " * 40, send_usage=False)
    _, answer = await answer_of(tutor, "A question without usage")
    assert answer.usage_estimated and answer.tokens_used > 0
    [row] = ai_rows(db, "A question without usage")
    assert row["output_data"]["usage_estimated"] is True
    assert row["tokens_used"] == answer.tokens_used


async def test_server_rejecting_stream_options_is_asked_again_without(tutor, ai):
    ai.fail(400, "Unrecognized request argument supplied: stream_options")
    ai.reply("Fine without usage.")
    text, answer = await answer_of(tutor, "Old server?")
    assert text == "Fine without usage."
    assert "stream_options" not in ai.last.body
    assert answer.usage_estimated


# -- errors --------------------------------------------------------------------------------


async def ask_expecting_error(tutor: Tutor, question: str = "Will this fail?") -> TutorError:
    with pytest.raises(TutorError) as caught:
        await answer_of(tutor, question)
    return caught.value


async def test_bad_api_key_says_to_set_the_key(tutor, ai):
    ai.api_key = "sk-right"
    error = await ask_expecting_error(tutor)
    assert error.kind == "auth"
    assert "rejected the API key" in str(error) and "openai_api_key" in str(error)
    assert "sk-test" not in str(error)


async def test_unknown_model_says_to_choose_another(make_tutor):
    error = await ask_expecting_error(make_tutor(model="no-such-model"))
    assert error.kind == "model"
    assert "no model 'no-such-model'" in str(error) and "learn config model" in str(error)


async def test_rate_limit_says_how_long_to_wait(tutor, ai):
    ai.fail(429)
    error = await ask_expecting_error(tutor)
    assert error.kind == "rate_limit" and "wait 20 s" in str(error)


async def test_server_error_says_to_ask_again(tutor, ai):
    ai.fail(500)
    error = await ask_expecting_error(tutor)
    assert error.kind == "server" and "HTTP 500" in str(error)


async def test_slow_server_times_out_with_a_message(make_tutor, ai):
    ai.reply("too late", delay=5)
    error = await ask_expecting_error(make_tutor(timeout=0.3))
    assert error.kind == "timeout" and "took too long" in str(error)


async def test_unreachable_server_says_to_start_it(make_tutor):
    error = await ask_expecting_error(make_tutor(base_url=f"http://127.0.0.1:{closed_port()}/v1"))
    assert error.kind == "network" and "Can't reach the AI server" in str(error)
    assert "openai_base_url" in str(error)


async def test_connection_dropped_mid_answer_is_reported(tutor, ai):
    ai.reply("one two three four", drop_after=2)
    error = await ask_expecting_error(tutor)
    assert error.kind == "dropped" and "dropped mid-answer" in str(error)


async def test_server_stalling_mid_answer_times_out(make_tutor, ai):
    ai.reply("one two three", chunk_delay=3)
    error = await ask_expecting_error(make_tutor(timeout=0.3))
    assert error.kind == "timeout"


async def test_error_event_mid_answer_is_reported(tutor, ai):
    ai.reply("one two three four", error_after=2)
    error = await ask_expecting_error(tutor)
    assert error.kind == "server" and "failed mid-answer" in str(error)
    assert "server had an error" in str(error)


async def test_failed_answers_are_not_logged(tutor, ai, db):
    ai.fail(500)
    await ask_expecting_error(tutor, "A question that fails")
    assert ai_rows(db, "A question that fails") == []
    assert db.su("select 1 from chat_history where question = 'A question that fails'") == []


# -- finding a model -----------------------------------------------------------------------


async def test_ollama_is_found_when_nothing_is_configured(ai):
    ai.ollama = True
    tutor = Tutor(None, settings=Settings(), ollama_url=ai.url)
    endpoint = await tutor.endpoint()
    assert endpoint.source == "ollama"
    assert endpoint.base_url == ai.url + "/v1" and endpoint.model == "tutor-model"
    text, _ = await answer_of(tutor, "Hi Ollama")
    await tutor.aclose()
    assert text == "Hello from the stand-in."


async def test_prepare_makes_the_client_so_the_first_question_does_not(ai):
    ai.ollama = True
    tutor = Tutor(None, settings=Settings(), ollama_url=ai.url)
    endpoint = await tutor.prepare()
    made = list(tutor._clients)
    await tutor.aclose()
    assert made == [(endpoint.base_url, endpoint.api_key)]


async def test_learn_model_chooses_among_ollamas_models(ai):
    ai.ollama = True
    tutor = Tutor(None, settings=Settings(model="other-model"), ollama_url=ai.url)
    assert (await tutor.endpoint()).model == "other-model"


async def test_configured_server_without_a_model_uses_the_first_it_lists(ai):
    tutor = Tutor(
        None,
        settings=Settings(openai_base_url=ai.base_url, openai_api_key="k"),
        ollama_url=f"http://127.0.0.1:{closed_port()}",
    )
    endpoint = await tutor.endpoint()
    await tutor.aclose()
    assert (endpoint.source, endpoint.model) == ("config", "tutor-model")


async def test_configured_server_wins_over_a_running_ollama(ai):
    ai.ollama = True
    tutor = Tutor(
        None,
        settings=Settings(openai_base_url="http://127.0.0.1:9/v1", model="m"),
        ollama_url=ai.url,
    )
    endpoint = await tutor.endpoint()
    assert (endpoint.base_url, endpoint.model, endpoint.source) == (
        "http://127.0.0.1:9/v1",
        "m",
        "config",
    )


# -- no model: the course answers -----------------------------------------------------------


async def test_without_a_model_course_excerpts_answer_labelled_not_ai(learner_api, world, db):
    tutor = Tutor(learner_api, settings=Settings(), ollama_url=f"http://127.0.0.1:{closed_port()}")
    context = await lesson_context(learner_api, world)
    text, answer = await answer_of(tutor, "Why are dictionary lookups fast?", context)
    assert answer.source == "course"
    assert text.startswith("**No AI model is set up.**")
    assert "learn config openai_base_url" in text and "ollama serve" in text
    assert f"### {EXCERPTS_HEADING}" in text and EXCERPTS_HEADING == "Course excerpts (not AI)"
    assert "**Dictionaries as hash maps** · Hashing in Python" in text
    assert ai_rows(db, "Why are dictionary lookups fast?") == []  # no AI was used


async def test_excerpts_fall_back_to_any_word_of_the_question(learner_api, world):
    tutor = Tutor(learner_api, settings=Settings(), ollama_url=f"http://127.0.0.1:{closed_port()}")
    passages = await tutor.course_passages(
        "membership zebra quantum", TutorContext(course_id=world["course"])
    )
    assert [p.title for p in passages] == ["Sets and membership"]


# -- hygiene -------------------------------------------------------------------------------


def test_tutor_imports_neither_textual_nor_openai():
    code = (
        "import sys, services.tutor.tutor; "
        "print(sorted(m for m in ('textual', 'openai') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


# -- no model: where the passages come from, and how they read -------------------------------

OTHER_COURSE = {
    "slug": "tutor-files",
    "title": "Files and validation",
    "difficulty_level": "Beginner",
    "description": "Reading files.",
    "short_description": "Files",
    "lessons": [
        {
            "slug": "csv",
            "title": "Validating CSV rows",
            "order_index": 0,
            "content": "When membership validation fails, the row is rejected. "
            "Zebra quantum rows are skipped.",
            "key_points": ["Validate every row"],
        }
    ],
    "assessments": [],
}


@pytest.fixture(scope="module")
def other_course(db, world):
    return db.run_as(
        world["author"], "select public.publish_course(%s) as r", (Jsonb(OTHER_COURSE),)
    )[0]["r"]["course_id"]


def no_model_tutor(api) -> Tutor:
    return Tutor(api, settings=Settings(), ollama_url=f"http://127.0.0.1:{closed_port()}")


async def test_passages_come_from_this_course_before_a_better_match_elsewhere(
    learner_api, world, other_course
):
    # The other course matches every word of the question; this one only "membership".
    passages = await no_model_tutor(learner_api).course_passages(
        "does membership validation fail", TutorContext(course_id=world["course"])
    )
    assert [p.title for p in passages] == ["Sets and membership"]


async def test_passages_from_other_courses_are_labelled_as_such(learner_api, world, other_course):
    context = TutorContext(course_id=world["course"])
    text, _answer = await answer_of(no_model_tutor(learner_api), "zebra quantum", context)
    assert "Nothing in this course matches; from other courses" in text
    assert "**Validating CSV rows** · Files and validation" in text


async def test_the_lesson_on_screen_comes_first_among_the_passages(learner_api, world):
    context = await lesson_context(learner_api, world)  # the dicts lesson
    passages = await no_model_tutor(learner_api).course_passages("hashed", context)
    assert passages[0].lesson_id == world["lessons"]["dicts"] and len(passages) == 2


@pytest.mark.parametrize(
    ("excerpt", "clean"),
    [
        ("lookups are fast. Python **hashes** the key", "Python **hashes** the key…"),
        ("the `test_**fail**` name", "…the `test_fail` name…"),
        ("A `broken code span and **more**.", "A broken code span and **more**."),
        ("A start … a **second** part.", "A start … a **second** part."),
    ],
)
def test_excerpts_start_at_a_sentence_and_keep_markdown_balanced(excerpt, clean):
    assert clean_excerpt(excerpt) == clean


async def test_course_excerpt_answers_are_not_sent_to_a_model_nor_climb_the_ladder(
    learner_api, world, tutor, ai
):
    context = await assessment_context(learner_api, world)
    text, _answer = await answer_of(no_model_tutor(learner_api), "why does it fail", context)
    history = [("why does it fail", text)]
    ai.reply("Look at the second test.")
    _text, answer = await answer_of(tutor, "and now?", context, history)
    assert answer.guidance.level == 1
    sent = ai.last.messages
    assert [m["role"] for m in sent] == ["system", "user"]
    assert not any(EXCERPTS_HEADING in m["content"] for m in sent)


async def test_an_unreachable_server_names_where_its_address_was_set(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    for sources, named in (
        ({"openai_base_url": "env"}, "OPENAI_BASE_URL"),
        ({"openai_base_url": "file"}, str(tmp_path / "config.toml")),
    ):
        tutor = Tutor(
            None,
            settings=Settings(
                openai_base_url=url, model="m", sources=sources, path=tmp_path / "config.toml"
            ),
        )
        error = await ask_expecting_error(tutor)
        await tutor.aclose()
        assert error.kind == "network" and named in str(error)
