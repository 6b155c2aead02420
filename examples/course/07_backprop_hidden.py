"""Lesson 7: Backpropagation through a hidden layer.

x = [0.1, 0.3], weights [0.4, -0.2] into one sigmoid hidden node, W = 0.1 into a sigmoid output,
target 1, learning rate 0.5: what are the error terms and the weight steps? How much of the
error does each sigmoid layer lose?

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/07_backprop_hidden.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 7``; the code lives in slopes/course_udacity.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["7", *sys.argv[1:]]))
