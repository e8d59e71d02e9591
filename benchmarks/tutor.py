"""How long the chat pane takes to show a streamed 2,000-token answer, against the raw stream.

    python benchmarks/tutor.py [--tokens 2000] [--runs 11] [--shape tutor|dense] [--no-collect]

The OpenAI-compatible stand-in (tests/stack/openai_standin.py, on loopback) streams a
Markdown answer of N deltas (paragraphs, lists, code blocks) as fast as it can: every
SSE event in one write. Four measurements, the first and third being the point:

* raw   the openai client alone: `create(stream=True)`, iterate, join the deltas;
* tutor Tutor.ask alone (no UI): the same stream as the pane reads it;
* pane  ChatPane in a headless Textual app (pilot): `pane.ask(...)` until the answer
        has been streamed into Markdown (`Markdown.append`, once a frame) and checked
        against a full parse, then the screen refreshed and idle — the time a learner
        waits to see it all;
* once  for scale: the same pane showing the same answer from history, i.e. one
        Markdown render of the whole text with no network and no streaming.

Prints the median and best of each, the ratio pane/raw (target <= 1.3x) and
pane/once. The tutor runs without an API (no logging), so only streaming and
rendering are timed. Not run by CI; no asserts.

Garbage: each run builds and drops a whole Textual app (an asyncio executor thread
started while an app captures stderr even keeps that app alive), which a learner's
single app never does. Left alone, a full collection of those earlier apps (90-180
ms, 20-35 thousand objects) lands inside a random half of the pane and once windows.
So every timed run, of all four, starts after `gc.collect()` (outside the timing);
collections caused by the run's own work still count. `--no-collect` measures
without it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual import on  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Footer, Header, Markdown, Static  # noqa: E402

from services.tutor.context import TutorContext  # noqa: E402
from services.tutor.endpoint import Endpoint  # noqa: E402
from services.tutor.tutor import Tutor  # noqa: E402
from tests.stack.openai_standin import OpenAIStandIn  # noqa: E402
from widgets.chat import ChatPane  # noqa: E402

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
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--shape", choices=("tutor", "dense"), default="tutor")
    parser.add_argument(
        "--no-collect",
        dest="collect",
        action="store_false",
        help="don't gc.collect() before each timed run",
    )
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.runs, args.shape, args.collect))
