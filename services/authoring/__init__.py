"""Authoring: course folders, their preview, and publishing them.

    model        Problem, ContentError, LessonSource, AssessmentSource, CourseSource,
                 assessment_payload; the format's keys and the database's limits
    reading      SourceFile, read_source: a file's text and TOML, each problem at its line
    lessons      load_lesson: lessons/NN-<slug>.md (front matter, sections, code example)
    assessments  load_assessment_file: assessments/<slug>.toml (the runner's format + more)
    course       load_course, validate, check_solutions: a whole folder, its code run too
    writing      write_course and the TOML/Markdown writers: a course back to a folder
    preview      FolderBackend: a folder answering the read calls, for `learn course preview`
    publishing   AuthoringAPI: publish, export, the studio and the operators' report
    report       report_text: the operators' report as text (`learn admin report`)
    scaffold     `learn course new SLUG`: a course folder that validates as it is

Import the module you need; this package imports nothing.
"""
