"""Browse and search the catalog; filter by tag and difficulty; enroll."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, ListView, Select

from screens.base import DataScreen
from services.api import Catalog
from widgets.cards import CourseCard
from widgets.status import StateMessage

DIFFICULTIES = [("Any level", ""), ("Beginner", "Beginner"), ("Intermediate", "Intermediate"),
                ("Advanced", "Advanced")]


class CatalogScreen(DataScreen):
    AUTO_FOCUS = "#courses"
    BINDINGS = [
        Binding("escape", "leave_search", "Back to the list", id="catalog.list", show=False),
        Binding("slash", "focus_search", "Search", id="catalog.search"),
        Binding("e", "enroll", "Enroll", id="catalog.enroll"),
        Binding("enter", "open", "Open", id="catalog.open", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            with Horizontal(id="filters"):
                yield Input(placeholder="Search courses…  (/ to focus)", id="search")
                yield Select([("Any tag", "")], prompt="Tag", allow_blank=False, value="",
                             id="tag")
                yield Select(DIFFICULTIES, allow_blank=False, value="", id="difficulty")
            yield StateMessage(id="empty")
            yield ListView(id="courses")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Catalog"
        self._tags: list[str] = []
        super().on_mount()

    async def fetch(self) -> Catalog:
        search = self.query_one("#search", Input).value
        tag = self.query_one("#tag", Select).value
        difficulty = self.query_one("#difficulty", Select).value
        return await self.api.catalog(search=search or None,
                                      tags=[tag] if isinstance(tag, str) and tag else None,
                                      difficulty=difficulty if isinstance(difficulty, str)
                                      and difficulty else None)

    def show(self, data: Catalog) -> None:
        if data.tags != self._tags:
            self._tags = data.tags
            tag = self.query_one("#tag", Select)
            current = tag.value
            tag.set_options([("Any tag", ""), *[(f"#{t}", t) for t in data.tags]])
            tag.value = current if current in data.tags else ""
        courses = self.query_one("#courses", ListView)
        index = courses.index
        courses.clear()
        empty = self.query_one("#empty", StateMessage)
        if data.courses:
            empty.clear()
            courses.extend(CourseCard(c) for c in data.courses)
            courses.index = min(index or 0, len(data.courses) - 1)
        else:
            empty.show_empty("No course matches. Try fewer words or another filter.")

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.reload(quiet=True)

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self.is_mounted:
            self.reload(quiet=True)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one("#courses", ListView).focus()

    def action_leave_search(self) -> None:
        self.query_one("#courses", ListView).focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def _selected(self):
        item = self.query_one("#courses", ListView).highlighted_child
        return item.course if isinstance(item, CourseCard) else None

    def action_open(self) -> None:
        course = self._selected()
        if course:
            self.app.open_course(course.id)

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
        self.write(lambda: self.api.enroll(course.id), success=f"Enrolled in {course.title}.",
                   then=lambda _r: self.reload(quiet=True))
