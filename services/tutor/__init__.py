"""The AI tutor: an OpenAI-compatible chat server, streamed.

    chat.Tutor, chat.Answer, chat.TutorContext, chat.TutorError   (see chat's docstring)

Import the module you need; this package imports nothing.
"""
