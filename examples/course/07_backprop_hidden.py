"""Lesson 7: Backpropagation through a hidden layer.

x = [0.1, 0.3], weights [0.4, -0.2] into one sigmoid hidden node, W = 0.1 into a sigmoid output,
target 1, learning rate 0.5: what are the error terms and the weight steps?

The course's answer: h = -0.02, a = 0.495, y_hat = 0.512, delta_o = 0.122, delta_h = 0.003, Delta W
= 0.0302, Delta w = (0.00015, 0.00045) (from delta_h rounded to 0.003).

Run:  python examples/course/07_backprop_hidden.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 7``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["7", *sys.argv[1:]]))
