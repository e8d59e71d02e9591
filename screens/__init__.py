"""Screens: one module per screen, each asking the app for what it cannot do itself with
a message (messages: OpenLesson, WriteRequested, …) and reading data through the
typed handle in base (DataScreen.api, host()).

base (DataScreen: load, show, states, writes), messages, first_run (boot, profile,
sign-in), dashboard, catalog, course, lesson, assessment, result_detail,
external_editor, review, quiz, notifications, profile, studio, dialogs.
"""
