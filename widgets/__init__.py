"""Widgets: data in, messages out; they never talk to a backend.

cards, chat, chat_exchange and answer_markdown (the tutor pane), editor, heatmap, keybar
(the footer), lists, notification_badge, panels, progress, results, status, sync_status,
transcripts, and textual_adapter/ (every use of Textual's private API, in one place).
"""
