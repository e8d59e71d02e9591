"""The top layer: the Textual app and the command line (tui → screens → widgets → services).

The app: app (LearnApp: start-up, the app's commands, the tutor), navigation (where a
screen's request leads), writes (writes and celebrations), live (live notifications),
sync (offline and sync), commands (the command palette), preview (`learn course
preview`), app.tcss (the stylesheet).

The command line: cli (the parser, `learn`, `learn status`), account_cli (doctor,
config, login, logout, courses), offline_cli (sync, download), author_cli (course,
admin), review_cli (review, practice), grader_cli (grader).
"""
