"""The grader: runs submitted code with every test (hidden ones included) in the runner's
sandbox and records the verified score (no Textual here).

    from services.grader import Grader, grade_job
    Grader(url, concurrency=2).run(once=True)   # `learn grader --once`
    grade_job(job)                               # one claimed job -> execution_result dict

The database owns the queue (private.grading_jobs: FOR UPDATE SKIP LOCKED, a lease per
claim, 3 tries) and the grader's privileges (role learn_grader: three functions, no
tables). Modules: jobs (one job: build the assessment, run, restore the order), worker
(the claim/grade/record loop, LISTEN/NOTIFY, threads), isolation (keep the database
credentials out of learner code's reach), local (the in-process grader the app and
`learn practice` run on the embedded database: local_grader, start_local_grader).
"""

from .isolation import hide_credentials
from .jobs import grade_job
from .worker import GRADER_ROLE, GradeEvent, Grader

__all__ = ["GRADER_ROLE", "GradeEvent", "Grader", "grade_job", "hide_credentials"]
