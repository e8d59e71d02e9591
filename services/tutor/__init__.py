"""The AI tutor: any OpenAI-compatible chat server, streamed, aware of what the learner sees.

    from services.tutor.context import TutorContext
    from services.tutor.tutor import Tutor

    tutor = Tutor(api)                                  # settings from `learn config` / env
    answer = tutor.ask("Why does my test fail?", TutorContext.for_assessment(...))
    async for delta in answer:                          # Markdown, as it arrives
        ...
    answer.tokens_used, answer.processing_ms, answer.message_type

Modules, each with one job (import the one you need; this package imports nothing):

    tutor     Tutor: finds the model, asks it, keeps the hint ladder, logs each exchange
    answer    Answer: one answer being streamed, then its figures
    context   TutorContext (what the learner is looking at), result_row, model_turns
    policy    the hint ladder and the solution rule: asks_for_solution, Guidance,
              guidance_for, HintLadder, TOP_RUNG
    prompts   what the model is sent: system_prompt, build_messages, format_results;
              message_type_of (how an answer is filed)
    endpoint  where the model is: Endpoint, probe_ollama, make_client, load_openai
    stream    server-sent events into plain dicts: sse_data, json_object
    errors    TutorError, map_error (the server's failures as one line to act on)
    fallback  the answer without a model: course_passages, excerpts_markdown,
              clean_excerpt, SETUP_HELP, NO_MODEL_LEAD, EXCERPTS_HEADING

Where the model comes from (`Tutor.endpoint`): OPENAI_BASE_URL / OPENAI_API_KEY /
LEARN_MODEL or the config file (OpenAI, Ollama, LM Studio, vLLM — anything that speaks
`/v1/chat/completions`); with none of those, Ollama on its default local port when it
runs. With no model at all the tutor says how to set one up and answers from the
course itself: the lesson passages that best match the question (PostgreSQL full-text
search through `search_lessons`), labelled "Course excerpts (not AI)".

In an assessment it tutors rather than solves: each help request in the same
assessment climbs a hint ladder (1: questions and pointers, 2: a concrete hint,
3: pseudo-code). A full solution only when the learner explicitly asks after at least
one attempt, and never while the attempt's timer runs — enforced here, not only asked
of the model. The reference solution is never part of a context, so never sent.

Every answered exchange is logged through the API: `log_chat` (question, answer,
context, message_type) and, for model answers, `log_ai_interaction` (summaries, tokens
from the response's usage, processing time in ms). Failures are `TutorError`s with
one line saying what to do.

The request goes through the openai client (`chat.completions` with `stream=True`,
`stream_options.include_usage`; its auth, base URL, timeouts and status errors); the
SSE body is decoded here into plain dicts instead of the client's typed chunk models,
which cost ~0.15 ms a token — five times what reading the stream costs otherwise
(benchmarks/tutor.py). Never imports textual; imports openai in a thread when first
needed, so opening the pane never freezes the UI.
"""
