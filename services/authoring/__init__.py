"""Authoring: course folders, their preview, and publishing them.

    content     load_course, validate, write_course: folders ↔ what the database publishes
    preview     FolderBackend: a folder answering the read calls, for `learn course preview`
    publishing  AuthoringAPI: publish, export, the studio and the operators' report
    scaffold    `learn course new SLUG`: a course folder that validates as it is

Import the module you need; this package imports nothing.
"""
