"""The course's worked examples, answered with slopes: ``slopes lessons [N]``.

Each lesson is a question from the course, the slopes code that answers it,
the numbers it prints, and then every number the course states for that
example next to the number slopes computes for it, with a check mark when
they agree to every digit the course prints, or the difference when they do
not (and why). Nothing in a lesson's verdict is a fixed string: the numbers
are computed when the lesson runs and compared then. Where the course shows a
picture, the lesson also writes a PNG (a network drawing or a loss curve).

The code a lesson prints is the source of the function it runs (its body),
so what you read is exactly what ran. The scripts in ``examples/course/`` call
:func:`run_lesson` with their number.

``docs/course-errata.md`` lists every number of the course that is wrong,
with the right one and the lesson that shows it.

The lessons themselves (their questions, code and drawings) are in
:mod:`slopes.course_lessons` (DataCamp's chapter, and :data:`LESSONS`, all of
them in the course's order) and :mod:`slopes.course_udacity` (the Udacity
notes); the first says where the course's numbers come from and which two
error signs it uses. The comparison of a course's number with slopes' is in
:mod:`slopes.course_numbers`. This module runs a lesson and is the
``slopes lessons`` command.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slopes.commands.options import output_path
from slopes.commands.outputs import OutputFiles, OutputGuard
from slopes.course_lessons import LESSONS, Lesson
from slopes.course_numbers import CourseNumber, CourseNumbers
from slopes.course_udacity import CourseLossPrint

__all__ = ["LESSONS", "Lesson", "LessonRun", "CourseNumber", "CourseNumbers", "CourseLossPrint",
           "run_lesson", "list_lessons", "get_lesson", "register", "run", "main"]


# ---------------------------------------------------------------- running one
@dataclass
class LessonRun:
    """What :func:`run_lesson` did: the course's numbers it checked and the PNGs it wrote."""

    lesson: Lesson
    numbers: list[CourseNumber]
    pictures: list[Path]

    @property
    def disagreements(self) -> list[CourseNumber]:
        """The course's numbers slopes does not reproduce (each with its reason)."""
        return [n for n in self.numbers if not n.agrees]


def _code_of(func: Callable[..., Any]) -> str:
    """The body of ``func`` as a reader would type it: no def line, docstring or final return."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return "    (source not available)"
    lines = textwrap.dedent(source).splitlines()
    start = next(k for k, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    body = lines[start:]
    while body and (not body[-1].strip() or body[-1].lstrip().startswith("return")):
        body.pop()
    return textwrap.indent(textwrap.dedent("\n".join(body)), "    ")


def _marks() -> tuple[str, str]:
    """A check mark and a cross, or plain words where the terminal cannot show them."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"  # None: an in-memory stream
    try:
        "\u2713\u2717".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "DIFFERS"
    return "\u2713", "\u2717"


def get_lesson(number: int) -> Lesson:
    """The lesson numbered ``number``; an error lists the valid numbers."""
    for lesson in LESSONS:
        if lesson.number == number:
            return lesson
    raise ValueError(f"there is no lesson {number}; lessons are numbered 1 to {len(LESSONS)} "
                     "(run 'slopes lessons' to list them)")


def run_lesson(number: int, out: str | Path | None = ".", show_code: bool = True,
               overwrite: bool = False) -> LessonRun:
    """Run lesson ``number``: question, code, output, and the course's numbers beside slopes'.

    Parameters
    ----------
    number : int
        1 to ``len(LESSONS)``.
    out : path or None
        Folder for the lesson's PNG (created if needed); None draws nothing.
        The PNG is written through the commands' output guard
        (:class:`slopes.commands.outputs.OutputGuard`).
    show_code : bool
        Print the code before running it.
    overwrite : bool
        Allow replacing a file in a folder that holds a model (``--overwrite``).

    Returns
    -------
    LessonRun
        The course's numbers checked (``numbers``, each with ``agrees``) and
        the PNG files written (``pictures``).
    """
    lesson = get_lesson(number)
    print(f"Lesson {lesson.number}: {lesson.title}")
    print()
    print("Question:", lesson.question)
    print()
    if show_code:
        print("Code:")
        print(_code_of(lesson.compute))
        print()
        print("Output:")
    course = CourseNumbers()
    result = lesson.compute(course)
    print()
    marks = _marks()
    print(f"The course's numbers next to slopes' ({marks[0]}: the same to every digit the course "
          f"prints; {marks[1]}: the difference, and why):")
    for n in course.numbers:
        print(n.line(marks))
    differ = [n for n in course.numbers if not n.agrees]
    summary = f"{len(course.numbers) - len(differ)} of {len(course.numbers)} agree"
    if differ:
        summary += "; docs/course-errata.md lists the course's numbers that are wrong"
    print(summary + ".")
    run = LessonRun(lesson=lesson, numbers=course.numbers, pictures=[])
    if lesson.draw is not None and out is not None:
        # Drawn into a scratch folder, then written through the commands' one guard:
        # all or nothing, and never over a model's files without --overwrite.
        with tempfile.TemporaryDirectory() as scratch:
            try:
                lesson.draw(result, Path(scratch))
            except ImportError as exc:
                print(f"\nNo drawing: {exc}")
                return run
            drawn = sorted(Path(scratch).glob("*.png"))
            files = OutputFiles(out, [p.name for p in drawn], OutputGuard(overwrite=overwrite))
            for picture in drawn:
                files.add(picture.name, picture.read_bytes())
            run.pictures = files.commit()
        if show_code:
            print()
            print("Drawing:")
            print(_code_of(lesson.draw))
        for path in run.pictures:
            print(f"Wrote {path}")
    return run


def list_lessons() -> str:
    """The numbered list of lessons, one per line."""
    lines = ["The course's worked examples; run one with: slopes lessons N [--out DIR]", ""]
    for lesson in LESSONS:
        picture = "  (writes a PNG)" if lesson.draw is not None else ""
        lines.append(f"{lesson.number:>3}. {lesson.title}{picture}")
    return "\n".join(lines)


# ----------------------------------------------------------- command line
_EPILOG = """examples:
  slopes lessons                 list the lessons
  slopes lessons 8               the last quiz: why the slopes are 6 and 18
  slopes lessons 4 --out pics    repeated updates, the MSE history written to pics/
"""


def register(subparsers: Any) -> None:
    """Add the ``lessons`` subcommand to the ``slopes`` command."""
    parser = subparsers.add_parser(
        "lessons",
        help="run the course's worked examples with slopes",
        description="List the course's worked examples, or run one: print its question, the "
                    "slopes code that answers it, its output, and every number the course "
                    "states next to slopes' (a check mark, or the difference and why); write "
                    "a PNG where the course shows a picture.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("number", nargs="?", type=int, metavar="N",
                        help=f"the lesson to run, 1 to {len(LESSONS)}; omit to list them")
    parser.add_argument("--out", type=output_path, default=".", metavar="DIR",
                        help="folder for the PNG drawings (default: the current folder)")
    parser.add_argument("--no-plot", action="store_true", help="write no PNG")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow replacing a file of a model's folder (default: refuse)")
    parser.add_argument("--no-code", action="store_true", help="do not print the code")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slopes lessons`` with parsed arguments; returns the exit code."""
    if args.number is None:
        print(list_lessons())
        return 0
    if not 1 <= args.number <= len(LESSONS):
        print(f"slopes lessons: error: there is no lesson {args.number}; lessons are numbered "
              f"1 to {len(LESSONS)}", file=sys.stderr)
        return 2
    run_lesson(args.number, out=None if args.no_plot else args.out,
               show_code=not args.no_code, overwrite=args.overwrite)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m slopes.lessons [N] [--out DIR]``, also used by ``examples/course/``."""
    parser = argparse.ArgumentParser(prog="slopes lessons")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["lessons", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
