"""Browse and search the catalog; filter by tag and difficulty; enroll."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, ListView, Select

from screens import messages
from screens.base import DataScreen
from services.data.api import Catalog
from widgets.cards import CourseCard
from widgets.keybar import KeyBar
from widgets.lists import refill
from widgets.status import StateMessage

DIFFICULTIES = [
    ("Any level", ""),
    ("Beginner", "Beginner"),
    ("Intermediate", "Intermediate"),
    ("Advanced", "Advanced"),
]


class CatalogScreen(DataScreen):
    AUTO_FOCUS = "#courses"
    BINDINGS = [
        Binding("escape", "leave_search", "Back", id="catalog.list"),
        Binding("slash", "focus_search", "Search", id="catalog.search"),
        Binding("e", "enroll", "Enroll", id="catalog.enroll"),
        Binding("enter", "open", "Open", id="catalog.open", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            with Horizontal(id="filters"):
                yield Input(placeholder="Search courses…  (/ to focus)", id="search")
                yield Select([("Any tag", "")], prompt="Tag", allow_blank=False, value="", id="tag")
                yield Select(DIFFICULTIES, allow_blank=False, value="", id="difficulty")
            yield StateMessage(id="empty")
            yield ListView(id="courses")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Catalog"
        self._tags: list[str] = []
        self._asked = self._filters()  # what the first load (DataScreen's) asks for

    def _filters(self) -> tuple[str | None, str | None, str | None]:
        """(search, tag, difficulty) as the widgets have them now."""
        search = self.query_one("#search", Input).value.strip()
        tag = self.query_one("#tag", Select).value
        difficulty = self.query_one("#difficulty", Select).value
        return (
            search or None,
            tag if isinstance(tag, str) and tag else None,
            difficulty if isinstance(difficulty, str) and difficulty else None,
        )

    async def fetch(self) -> Catalog:
        search, tag, difficulty = self._filters()
        return await self.api.catalog(
            search=search, tags=[tag] if tag else None, difficulty=difficulty
        )

    def show(self, data: Catalog) -> None:
        if data.tags != self._tags:
            self._tags = data.tags
            tag = self.query_one("#tag", Select)
            current = tag.value
            with tag.prevent(Select.Changed):  # new options are not a new filter
                tag.set_options([("Any tag", ""), *[(f"#{t}", t) for t in data.tags]])
                tag.value = current if current in data.tags else ""
        courses = self.query_one("#courses", ListView)
        index = courses.index
        refill(courses, [CourseCard(c) for c in data.courses], index)
        empty = self.query_one("#empty", StateMessage)
        if data.courses:
            empty.clear()
        else:
            empty.show_empty("No course matches. Try fewer words or another filter.")

    @on(Input.Changed, "#search")
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        """Search as you type; a Changed that changes nothing (a Select announcing its
        first value) fetches nothing."""
        filters = self._filters()
        if self.is_mounted and filters != self._asked:
            self._asked = filters
            self.reload(quiet=True)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one("#courses", ListView).focus()

    def action_leave_search(self) -> None:
        """Esc leaves the search box for the list, and the list for the dashboard."""
        if isinstance(self.focused, Input):
            self.query_one("#courses", ListView).focus()
        else:
            self.action_back()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def _selected(self):
        item = self.query_one("#courses", ListView).highlighted_child
        return item.course if isinstance(item, CourseCard) else None

    def action_open(self) -> None:
        course = self._selected()
        if course:
            self.post_message(messages.OpenCourse(course.id))

    @on(ListView.Selected, "#courses")
    def _chosen(self) -> None:
        self.action_open()

    def action_enroll(self) -> None:
        course = self._selected()
        if course is None:
            return
        if course.enrolled:
            self.notify(f"You are already enrolled in {course.title}.")
            return
        self.write(
            lambda: self.api.enroll(course.id),
            success=f"Enrolled in {course.title}.",
            then=lambda _r: self.reload(quiet=True),
        )
