"""The chat pane: time to show a streamed answer; at a model's pace, delay and CPU.

Full speed: how long the pane takes to show a streamed answer, against the raw stream.
At a real model's pace: how late each token appears on screen, and what it costs.

    python benchmarks/tutor.py [--tokens 2000] [--runs 11] [--shape tutor|dense]
                               [--no-collect] [--markdown compact|plain]
    python benchmarks/tutor.py --pace 50,100,200 [--tokens 600] [--runs 2]

FULL SPEED (no --pace). The OpenAI-compatible stand-in (tests/stack/openai_standin.py,
on loopback) streams a Markdown answer of N deltas (paragraphs, lists, code blocks) as
fast as it can: every SSE event in one write. Four measurements, the first and third
being the point:

* raw   the openai client alone: `create(stream=True)`, iterate, join the deltas;
* tutor Tutor.ask alone (no UI): the same stream as the pane reads it;
* pane  ChatPane in a headless Textual app (pilot): `pane.ask(...)` until the answer
        has been streamed into Markdown (`Markdown.append`, once a frame) and checked
        against a full parse, then the screen refreshed and idle — the time a learner
        waits to see it all;
* once  for scale: the same pane showing the same answer from history, i.e. one
        Markdown render of the whole text with no network and no streaming.

Prints the median and best of each, the ratio pane/raw (target <= 1.3x) and
pane/once. `--markdown plain` shows answers in Textual's own Markdown (public API
only) instead of AnswerMarkdown (the compact lists of widgets/textual_adapter/markdown.py).

AT A MODEL'S PACE (--pace TOKENS_PER_S,...). The stand-in runs in a child process (so
its CPU is not counted) and sends one delta every 1/pace s, as a model would. For each
pace, with AnswerMarkdown ("compact") and with Textual's own Markdown ("plain"), runs
interleaved, the pane answers and the benchmark records:

* the delay from a delta's arrival (the moment Answer yields it to the pane) to the
  first frame drawn with it: a frame counts once the compositor's update for the
  screen has been turned into the terminal's bytes (what a terminal driver writes;
  headless, they are then dropped), and it shows every delta that an append
  completed before it took in (an append runs inside a batch, so no frame shows
  half of one). p50 / p95 / max over every delta of every run;
* the process CPU seconds for the whole answer (time.process_time, from ask to the
  screen idle after the last frame), and the frames drawn.

The tutor runs without an API (no logging), so only streaming and rendering are
measured. Not run by CI; no asserts. One file for both measurements (over 400 lines),
as they share the answer's shapes, the Bench app and the pane.

Garbage: each run builds and drops a whole Textual app (an asyncio executor thread
started while an app captures stderr even keeps that app alive), which a learner's
single app never does. Left alone, a full collection of those earlier apps (90-180
ms, 20-35 thousand objects) lands inside a random half of the pane and once windows.
So every timed run starts after `gc.collect()` (outside the timing); collections
caused by the run's own work still count. `--no-collect` measures without it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual import on  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Footer, Header, Markdown, Static  # noqa: E402

from services.text import terminal_safe  # noqa: E402
from services.tutor.answer import Answer  # noqa: E402
from services.tutor.context import TutorContext  # noqa: E402
from services.tutor.endpoint import Endpoint  # noqa: E402
from services.tutor.tutor import Tutor  # noqa: E402
from tests.stack.openai_standin import OpenAIStandIn  # noqa: E402
from widgets.answer_markdown import AnswerMarkdown  # noqa: E402
from widgets.chat import ChatPane  # noqa: E402
from widgets.chat_exchange import ChatExchange  # noqa: E402


class PlainMarkdown(Markdown):
    """Textual's own Markdown through its public API, cleaned as AnswerMarkdown is."""

    def update(self, markdown: str) -> Any:
        return super().update(terminal_safe(markdown))

    def append(self, markdown: str) -> Any:
        return super().append(terminal_safe(markdown))


MARKDOWN: dict[str, type[Markdown]] = {"compact": AnswerMarkdown, "plain": PlainMarkdown}

WORDS = [
    "the",
    "dictionary",
    "maps",
    "each",
    "key",
    "to",
    "a",
    "value",
    "and",
    "finds",
    "it",
    "again",
    "by",
    "hashing",
    "the",
    "key",
    "so",
    "lookups",
    "stay",
    "fast",
    "even",
    "when",
    "the",
    "table",
    "grows",
]


def _words(n: int, seed: int) -> list[str]:
    return [(" " if i else "") + WORDS[(seed + i) % len(WORDS)] for i in range(n)]


def answer_deltas(tokens: int, shape: str = "tutor") -> list[str]:
    """A Markdown answer of `tokens` deltas (about a word each).

    tutor  shaped like a long tutor answer: a heading, then paragraphs of ~90 words,
           with a 4-item list and a 6-line code block every few paragraphs;
    dense  a heading, a 60-word paragraph, a 3-item list and a code block, repeated:
           about three times as many blocks — the worst case for a Markdown widget.
    """
    deltas: list[str] = []
    part = 0
    while len(deltas) < tokens:
        part += 1
        if shape == "dense":
            deltas += [f"\n\n## Step {part}\n\n", *_words(60, part), "."]
            deltas += ["\n\n- ", "first", " point", "\n- ", "second", " point", "\n- ", "third"]
            deltas += [
                "\n\n```python\n",
                "def",
                " lookup",
                "(table,",
                " key):\n",
                "    return",
                " table[key]",
                "\n```",
            ]
            continue
        if part % 6 == 1:
            deltas += [f"\n\n## Part {part // 6 + 1}"]
        deltas += ["\n\n", *_words(90, part), "."]
        if part % 3 == 0:
            for item in range(4):
                deltas += ["\n\n- " if item == 0 else "\n- ", *_words(6, part + item)]
        if part % 4 == 0:
            deltas += [
                "\n\n```python\n",
                "def",
                " lookup",
                "(table,",
                " key):\n",
                "    if",
                " key",
                " in",
                " table:\n",
                "        return",
                " table[key]\n",
                "    return",
                " None\n",
                "\n",
                "print(lookup({'a':",
                " 1},",
                " 'a'))",
                "\n```",
            ]
    return deltas[:tokens]


async def raw_once(ai: OpenAIStandIn) -> tuple[float, str]:
    import openai

    client = openai.AsyncOpenAI(base_url=ai.base_url, api_key="bench", max_retries=0)
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model="tutor-model",
        messages=[{"role": "user", "content": "Explain hashing"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts = []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed, "".join(parts)


class Bench(App[None]):
    def __init__(self, tutor: Tutor) -> None:
        super().__init__()
        self.tutor = tutor
        self.done = asyncio.Event()
        self.rendered = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("A lesson on hashing.", id="body")
        yield Footer()
        yield ChatPane(self.tutor, TutorContext(kind="general_chat"))

    @on(ChatPane.Answered)
    def _answered(self) -> None:
        self.done.set()

    @on(Markdown.TableOfContentsUpdated)
    def _rendered(self) -> None:  # posted when Markdown.update has mounted all
        self.rendered.set()


async def tutor_once(ai: OpenAIStandIn) -> float:
    """The tutor's own consumption of the stream, without any UI."""
    tutor = Tutor(None, endpoint=Endpoint(ai.base_url, "bench", "tutor-model", "config"))
    await tutor.prepare()
    started = time.perf_counter()
    async for _ in tutor.ask("Explain hashing"):
        pass
    elapsed = time.perf_counter() - started
    await tutor.aclose()
    return elapsed


async def pane_once(ai: OpenAIStandIn, expected: str) -> float:
    tutor = Tutor(None, endpoint=Endpoint(ai.base_url, "bench", "tutor-model", "config"))
    await tutor.prepare()  # the client is loaded, as after pane open
    app = Bench(tutor)
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        pane = app.query_one(ChatPane)
        await pilot.pause()
        started = time.perf_counter()
        pane.ask("Explain hashing")
        await app.done.wait()
        await pilot.pause()  # the screen refresh that shows it
        elapsed = time.perf_counter() - started
        shown = pane.last_answer
    await tutor.aclose()
    if shown != expected:
        print("warning: the pane's answer differs from the stream", file=sys.stderr)
    return elapsed


async def history_once(expected: str) -> float:
    """The same pane showing the same answer from history: one Markdown render of the
    whole text, no network, no streaming — the cost of the widgets alone."""
    tutor = Tutor(None, endpoint=Endpoint("http://127.0.0.1:9/v1", "bench", "m", "config"))
    app = Bench(tutor)
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        pane = app.query_one(ChatPane)
        await pilot.pause()
        app.rendered.clear()
        started = time.perf_counter()
        pane.load_history([("Explain hashing", expected)])
        await app.rendered.wait()
        await pilot.pause()
        elapsed = time.perf_counter() - started
    await tutor.aclose()
    return elapsed


# -- at a model's pace ----------------------------------------------------------------------

# The stand-in in a child process: reads the answer's deltas (one JSON line), prints its
# base URL, then for each line "SECONDS" queues one answer paced that way and says "ok".
PACED_STANDIN = """
import json, sys
from tests.stack.openai_standin import OpenAIStandIn
deltas = json.loads(sys.stdin.readline())
ai = OpenAIStandIn().start()
print(ai.base_url, flush=True)
for line in sys.stdin:
    ai.reply(chunks=deltas, chunk_delay=float(line))
    print("ok", flush=True)
ai.stop()
"""


class TimedAnswer(Answer):
    """An Answer noting when each delta reaches the pane, and where it ends in the text."""

    arrivals: list[tuple[float, int]]

    async def __anext__(self) -> str:
        delta = await super().__anext__()
        self.arrivals.append((time.perf_counter(), len(self.text)))
        return delta


class TimedTutor(Tutor):
    def ask(self, question: str, context: TutorContext | None = None, history=()) -> Answer:
        answer = TimedAnswer(self, question.strip(), context or TutorContext(), history)
        answer.arrivals = self.arrivals = []
        return answer


def timed_markdown(base: type[Markdown]) -> type[Markdown]:
    """`base`, noting on the app how much of the answer each completed append shows."""

    async def append(self: Markdown, markdown: str) -> None:
        await base.append(self, markdown)
        self.app.shown = len(self.source)  # type: ignore[attr-defined]

    return type(base.__name__, (base,), {"append": append})


class PacedBench(Bench):
    """Bench whose every frame is turned into a terminal's bytes and noted: (when, how
    much of the answer had been appended)."""

    def __init__(self, tutor: Tutor) -> None:
        super().__init__(tutor)
        self.shown = 0
        self.frames: list[tuple[float, int]] = []
        display = self._display

        def _display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if hasattr(renderable, "render_segments"):  # a CompositorUpdate
                renderable.render_segments(self.console)
                self.frames.append((time.perf_counter(), self.shown))

        self._display = _display  # type: ignore[method-assign]


async def paced_once(base_url: str, markdown: type[Markdown]) -> dict[str, Any]:
    tutor = TimedTutor(None, endpoint=Endpoint(base_url, "bench", "tutor-model", "config"))
    await tutor.prepare()
    ChatExchange.answer_markdown = timed_markdown(markdown)
    app = PacedBench(tutor)
    try:
        async with app.run_test(headless=True, size=(120, 40)) as pilot:
            pane = app.query_one(ChatPane)
            await pilot.pause()
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            pane.ask("Explain hashing")
            await app.done.wait()
            await pilot.pause()  # the screen refresh that shows it
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        ChatExchange.answer_markdown = AnswerMarkdown
        await tutor.aclose()
    delays = []
    frames = iter(app.frames)
    frame = next(frames, None)
    for arrived, end in tutor.arrivals:  # both in time order, `shown` never shrinks
        while frame is not None and (frame[0] < arrived or frame[1] < end):
            frame = next(frames, None)
        if frame is None:
            raise RuntimeError("a delta never appeared on screen")
        delays.append(frame[0] - arrived)
    first, last = tutor.arrivals[0][0], tutor.arrivals[-1][0]
    rate = (len(tutor.arrivals) - 1) / (last - first) if last > first else 0.0
    return {"delays": delays, "cpu": cpu, "wall": wall, "frames": len(app.frames), "rate": rate}


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def paced(paces: list[int], tokens: int, runs: int, shape: str) -> None:
    deltas = answer_deltas(tokens, shape)
    child = subprocess.Popen(
        [sys.executable, "-c", PACED_STANDIN],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(deltas) + "\n")
    child.stdin.flush()
    base_url = child.stdout.readline().strip()

    async def once(pace: float, markdown: type[Markdown]) -> dict[str, Any]:
        child.stdin.write(f"{1 / pace}\n")
        child.stdin.flush()
        child.stdout.readline()
        return await paced_once(base_url, markdown)

    print(
        f"answer: {len(deltas)} deltas ({shape}), {len(''.join(deltas)):,} characters; "
        f"{runs} run(s) per pace and Markdown, interleaved; stand-in in a child process"
    )
    try:
        await once(200, AnswerMarkdown)  # warm-up: imports, first connection, CSS
        await once(200, PlainMarkdown)
        for pace in paces:
            results: dict[str, list[dict[str, Any]]] = {name: [] for name in MARKDOWN}
            for _ in range(runs):
                for name, markdown in MARKDOWN.items():
                    results[name].append(await once(pace, markdown))
            for name, measured in results.items():
                delays = [d * 1000 for m in measured for d in m["delays"]]
                cpu = statistics.median(m["cpu"] for m in measured)
                wall = statistics.median(m["wall"] for m in measured)
                print(
                    f"{pace:>4} tok/s  {name:<7}  delay p50 {percentile(delays, 50):5.1f} ms  "
                    f"p95 {percentile(delays, 95):5.1f} ms  max {max(delays):6.1f} ms   "
                    f"CPU {cpu:5.2f} s/answer ({cpu / wall:4.0%} of {wall:4.1f} s)   "
                    f"{statistics.median(m['frames'] for m in measured):4.0f} frames   "
                    f"measured {statistics.median(m['rate'] for m in measured):5.1f} tok/s"
                )
    finally:
        child.stdin.close()
        child.wait(timeout=10)


async def main(tokens: int, runs: int, shape: str, collect: bool) -> None:
    deltas = answer_deltas(tokens, shape)
    expected = "".join(deltas)

    async def timed(measure):  # each run from a collected heap (see above)
        if collect:
            gc.collect()
        return await measure

    with OpenAIStandIn() as ai:
        ai.default = expected
        for _ in range(runs * 3 + 3):
            ai.reply(chunks=deltas)
        await raw_once(ai)  # warm-up: imports, first connection
        await tutor_once(ai)
        await pane_once(ai, expected)
        raw: list[float] = []
        tutor: list[float] = []
        pane: list[float] = []
        once: list[float] = []
        await history_once(expected)
        for _ in range(runs):  # interleaved, so drift hits all four
            raw.append((await timed(raw_once(ai)))[0])
            tutor.append(await timed(tutor_once(ai)))
            pane.append(await timed(pane_once(ai, expected)))
            once.append(await timed(history_once(expected)))

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<6} median {statistics.median(values) * 1000:8.1f} ms   "
            f"best {min(values) * 1000:8.1f} ms"
        )

    print(
        f"answer: {tokens} deltas ({shape}), {len(expected):,} characters of Markdown; "
        f"{runs} runs, " + ("each after gc.collect()" if collect else "no gc.collect()")
    )
    print(line("raw", raw) + "   openai client alone, typed chunks")
    print(line("tutor", tutor) + "   Tutor.ask, no UI")
    print(line("pane", pane) + "   ChatPane until all of it is on screen")
    print(line("once", once) + "   the pane showing it from history: one render, no stream")
    ratio = statistics.median(pane) / statistics.median(raw)
    print(f"ratio pane/raw   (medians): {ratio:.2f}x   target <= 1.3x")
    print(
        f"ratio pane/once  (medians): "
        f"{statistics.median(pane) / statistics.median(once):.2f}x   (streaming vs one render)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, help="deltas an answer (2000; 600 with --pace)")
    parser.add_argument("--runs", type=int, help="timed runs (11; 2 a pace with --pace)")
    parser.add_argument("--shape", choices=("tutor", "dense"), default="tutor")
    parser.add_argument(
        "--no-collect",
        dest="collect",
        action="store_false",
        help="don't gc.collect() before each timed run",
    )
    parser.add_argument(
        "--markdown",
        choices=tuple(MARKDOWN),
        default="compact",
        help="full speed: the answer's widget (compact: AnswerMarkdown; plain: Textual's)",
    )
    parser.add_argument(
        "--pace",
        help="tokens a second, comma-separated (e.g. 50,100,200): measure the delay to "
        "the screen and the CPU at a model's pace, compact and plain Markdown",
    )
    args = parser.parse_args()
    if args.pace:
        paces = [int(p) for p in args.pace.split(",")]
        asyncio.run(paced(paces, args.tokens or 600, args.runs or 2, args.shape))
    else:
        ChatExchange.answer_markdown = MARKDOWN[args.markdown]
        asyncio.run(main(args.tokens or 2000, args.runs or 11, args.shape, args.collect))
