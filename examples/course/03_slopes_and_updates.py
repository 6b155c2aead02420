"""Lesson 3: Slopes and weight updates.

Weights [0, 2, 1], input [1, 2, 3], target 0: what are the slopes of the mean squared error, and
the error after one update at learning rate 0.01?

The course's answer: slope [14 28 42]; error 7 -> 5.04. Weights [1, 2], inputs [3, 4], target 6:
error 5, gradient [30 40], updated error 2.5. Slope 2 x -4 x 3 = -24, new weight 2.24.

Run:  python examples/course/03_slopes_and_updates.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 3``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["3", *sys.argv[1:]]))
