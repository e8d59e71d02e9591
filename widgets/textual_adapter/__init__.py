"""The one place that touches Textual's private API. Each use is in a module here, with
why it is kept (a measured benefit, or no public alternative) and the Textual versions it
was checked against, so a Textual upgrade means reading this package and running its
tests, nothing else. Nothing else in tui/, screens/ or widgets/ imports `textual…._*`
(tests/tui/test_textual_adapter.py).

    app       CrashHookApp: unhandled exceptions reach `crashed(error)` first, for the
              crash log (App._handle_exception; tests/tui/test_textual_adapter_app.py)
    markdown  CompactBulletList, CompactOrderedList, MARKDOWN_LIST_BLOCKS, ListLines,
              styled_by_document: the chat answer's lists as one widget each, updated in
              place while they stream (textual.widgets._markdown; measured benefit in its
              docstring; tests/tui/test_textual_adapter.py)

Two modules rather than one so that the app's start-up, which needs only the crash hook,
does not load Textual's Markdown.
"""
