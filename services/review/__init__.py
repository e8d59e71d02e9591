"""After a lesson: spaced review, practice in an editor, and code drafts.

    spaced      Reviews, ReviewCard, Rating: review cards scheduled with FSRS-6
    quiz        cloze, quiz_question, quiz_suggestion: asking a card (blanks, the tutor)
    practice    `learn practice`: an assessment in the learner's own editor
    workspace   workspace_root, workspace_file, prepare_file: the file practice watches
    drafts      the editor's code, saved atomically as the learner types

Import the module you need; this package imports nothing.
"""
