"""Lesson 2: Predictions with multiple points: the mean squared error.

Which of two sets of weights predicts the four points [0, 3], [1, 2], [-1, -2], [4, 0] (actual
1, 3, 5, 7) better, by mean squared error? And the slides' table of squared errors.

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/02_mse_comparison.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 2``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["2", *sys.argv[1:]]))
