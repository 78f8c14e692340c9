"""The course currently served, reloaded safely: bad content never replaces good."""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.materials import list_materials
from quizzes.content import Course
from quizzes.loader import ContentError, Problem, validate_course

logger = logging.getLogger(__name__)


def check_course(root: Path) -> tuple[Course | None, list[Problem]]:
    """Validate a content directory, counting materials the Q&A index can read."""
    return validate_course(root, list_materials=list_materials)


class CourseLibrary:
    """Holds the last good course of a content directory.

    Args:
        root: the content directory.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._course: Course | None = None
        self.problems: list[Problem] = []

    @property
    def course(self) -> Course:
        """The course being served.

        Raises:
            ContentError: when no valid course has been loaded yet.
        """
        if self._course is None:
            raise ContentError(self.problems or [Problem(str(self.root), 1, "not loaded")])
        return self._course

    @property
    def loaded(self) -> bool:
        """Whether a valid course is being served."""
        return self._course is not None

    def reload(self) -> list[Problem]:
        """Load the directory again; on problems, keep serving the previous course.

        Returns:
            The problems found (empty when the new content is now served).
        """
        course, problems = check_course(self.root)
        self.problems = problems
        if course is None:
            logger.error(
                "course content has %d problem(s); still serving the %s content:\n%s",
                len(problems),
                "previous" if self._course else "(no)",
                "\n".join(str(problem) for problem in problems),
            )
            return problems
        self._course = course
        logger.info("course content loaded: %s", course.counts())
        return []
