"""Lesson 3: Slopes and weight updates.

Weights [0, 2, 1], input [1, 2, 3], target 0: what are the slopes of the mean squared error, and
the error after one update at learning rate 0.01? The same for the slides' weights [1, 2] and
the single weight 2.

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/03_slopes_and_updates.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 3``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["3", *sys.argv[1:]]))
