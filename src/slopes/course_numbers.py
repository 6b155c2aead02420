"""A number the course states, next to the number slopes computes for it.

:class:`CourseNumber` holds the two and says whether they agree: to every digit
the course prints (``"5.04"``, ``"[14 28 42]"``), or within ``1e-9`` for the value
of a formula the course states; :class:`CourseNumbers` gathers a lesson's
numbers in the order it checks them. The lessons (:mod:`slopes.course_lessons`)
record them; :func:`slopes.lessons.run_lesson` prints them, one line each.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CourseNumber", "CourseNumbers"]


# -------------------------------------------------------- the course's numbers
# A number as a course writes it: -24, 5.04, 0.00045, 9.627e-05.
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _digits_like(token: str, value: float) -> str:
    """``value`` written with as many digits as the course's ``token`` has."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    text = f"{value:.{decimals}e}" if exponent else f"{value:.{decimals}f}"
    # -0.00 and 0.00 are the same number as the course writes it.
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _plain_values(value: Any) -> list[float] | str:
    if isinstance(value, str):
        return value
    return [float(v) for v in np.ravel(np.asarray(value, dtype=float))]


def _num(x: float) -> str:
    """A number the way slopes prints it elsewhere: 6, 0.495, -2.4e-05."""
    x = float(x)
    return "0" if x == 0 else f"{x:.6g}"


@dataclass(frozen=True)
class CourseNumber:
    """One number the course states, next to the number slopes computes for it.

    Attributes
    ----------
    what : str
        What the number is: ``"error_0"``, ``"slope of the weight"``.
    course : str or float or sequence of float
        As a string, the number exactly as the course prints it (``"5.04"``,
        ``"[14 28 42]"``, ``"75%"``, or words such as ``"less accurate"``);
        slopes' number agrees when it rounds to the same digits. As numbers,
        the value of a formula the course states, computed when the lesson
        runs; slopes' number agrees when it is equal within ``1e-9``.
    where : str
        Where the course states it (``"notebook 2.6"``, ``"slides"``).
    slopes : list of float, or str
        What slopes computes, when the lesson runs.
    note : str
        Why the two differ, when the course is known to be wrong or to round.
    """

    what: str
    course: str | float | tuple[float, ...]
    where: str
    slopes: list[float] | str
    note: str = ""

    def _course_tokens(self) -> list[str] | None:
        if not isinstance(self.course, str):
            return None
        return _NUMBER.findall(self.course)

    def _course_values(self) -> list[float] | None:
        tokens = self._course_tokens()
        if tokens is None:
            return [float(v) for v in np.ravel(np.asarray(self.course, dtype=float))]
        return [float(t) for t in tokens] if tokens else None

    @property
    def course_text(self) -> str:
        """The course's number as the course prints it (or the formula's value)."""
        if isinstance(self.course, str):
            return self.course
        values = np.ravel(np.asarray(self.course, dtype=float))
        return ", ".join(_num(v) for v in values)

    @property
    def slopes_text(self) -> str:
        """slopes' number, written with the digits and layout the course uses."""
        if isinstance(self.slopes, str):
            return self.slopes
        tokens = self._course_tokens()
        if not tokens:
            return ", ".join(_num(v) for v in self.slopes)
        values = iter(self.slopes)
        return _NUMBER.sub(lambda m: _digits_like(m.group(0), next(values)), self.course)

    def _check_sizes(self) -> None:
        course = self._course_values()
        if course is not None and not isinstance(self.slopes, str) \
                and len(course) != len(self.slopes):
            raise ValueError(f"{self.what}: the course states {len(course)} number(s) "
                             f"({self.course_text}) but slopes gave {len(self.slopes)}")

    @property
    def agrees(self) -> bool:
        """True when slopes' number is the course's, to every digit the course prints."""
        self._check_sizes()
        tokens = self._course_tokens()
        if isinstance(self.slopes, str) or tokens == []:
            return str(self.slopes).strip().lower() == str(self.course).strip().lower()
        if tokens is None:
            return bool(np.allclose(self.slopes, self._course_values(), rtol=1e-9, atol=1e-12))
        return all(_digits_like(t, v) == _digits_like(t, float(t))
                   for t, v in zip(tokens, self.slopes, strict=True))

    @property
    def difference(self) -> float | None:
        """The largest ``|slopes - course|`` over the numbers (None for words)."""
        course = self._course_values()
        if course is None or isinstance(self.slopes, str):
            return None
        return float(np.max(np.abs(np.subtract(self.slopes, course))))

    def line(self, marks: tuple[str, str] = ("\u2713", "\u2717")) -> str:
        """One line: check mark (or cross), the course's number, slopes' number, the source."""
        agrees = self.agrees
        text = (f"  {marks[0] if agrees else marks[1]} {self.what}: course {self.course_text}, "
                f"slopes {self.slopes_text}")
        if not agrees and self.difference is not None:
            text += f", a difference of {_num(self.difference)}"
        text += f"  [{self.where}]"
        if self.note and not agrees:
            text += "\n" + textwrap.fill(f"why: {self.note}", width=96, initial_indent=" " * 6,
                                         subsequent_indent=" " * 11)
        return text


@dataclass
class CourseNumbers:
    """The course's numbers a lesson checks, in the order it checks them."""

    numbers: list[CourseNumber] = field(default_factory=list)

    def check(self, what: str, slopes_value: Any, course: str | float | Sequence[float],
              where: str, note: str = "") -> CourseNumber:
        """Record slopes' ``slopes_value`` next to the course's ``course`` (see CourseNumber)."""
        if not isinstance(course, str):
            course = tuple(float(v) for v in np.ravel(np.asarray(course, dtype=float)))
        number = CourseNumber(what, course, where, _plain_values(slopes_value), note)
        number._check_sizes()
        self.numbers.append(number)
        return number
