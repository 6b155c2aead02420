"""Lesson 5: The sigmoid delta rule.

One sigmoid node, x = [1, 2, 3, 4], y = 0.5, w = [0.5, -0.5, 0.3, 0.1], learning rate 0.5: what are
the output, the error and the change in weights?

The course's answer: output 0.689974481128, error -0.189974481128, change in weights [-0.02031869
-0.04063738 -0.06095608 -0.08127477].

Run:  python examples/course/05_delta_rule.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 5``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["5", *sys.argv[1:]]))
