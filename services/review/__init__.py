"""After a lesson: spaced review, practice in an editor, and code drafts.

    spaced      Reviews, ReviewCard, Rating: review cards scheduled with FSRS-6
    practice    `learn practice`: an assessment in the learner's own editor
    drafts      the editor's code, saved atomically as the learner types

Import the module you need; this package imports nothing.
"""
