"""Lesson 5: The sigmoid delta rule.

One sigmoid node, x = [1, 2, 3, 4], y = 0.5, w = [0.5, -0.5, 0.3, 0.1], learning rate 0.5: what
are the output, the error and the change in weights?

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/05_delta_rule.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 5``; the code lives in slopes/course_udacity.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["5", *sys.argv[1:]]))
