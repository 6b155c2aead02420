"""Lesson 6: The forward pass through a hidden layer.

A 4-3-2 sigmoid network with inputs and weights drawn with seed 42: what do the hidden layer and
the output layer output?

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/06_hidden_forward.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 6``; the code lives in slopes/course_udacity.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["6", *sys.argv[1:]]))
