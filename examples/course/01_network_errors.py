"""Lesson 1: The errors of a network.

A relu network with weights node_0 [2, 1], node_1 [1, 2], output [1, 1] gets the input [0, 3];
the actual value is 3. What is its error (predicted - actual)? Change one weight so the error is
0.

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/01_network_errors.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 1``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["1", *sys.argv[1:]]))
