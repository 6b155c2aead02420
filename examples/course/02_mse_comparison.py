"""Lesson 2: Predictions with multiple points: the mean squared error.

Which of two sets of weights predicts the four points [0, 3], [1, 2], [-1, -2], [4, 0] (actual 1,
3, 5, 7) better, by mean squared error?

The course's answer: 37.500000 with weights_0, 49.890625 with weights_1.

Run:  python examples/course/02_mse_comparison.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 2``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["2", *sys.argv[1:]]))
