"""Lesson 6: The forward pass through a hidden layer.

A 4-3-2 sigmoid network with inputs and weights drawn with seed 42: what do the hidden layer and
the output layer output?

The course's answer: hidden [0.41492192 0.42604313 0.5002434], output [0.49815196 0.48539772].

Run:  python examples/course/06_hidden_forward.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 6``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["6", *sys.argv[1:]]))
