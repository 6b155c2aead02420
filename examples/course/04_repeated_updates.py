"""Lesson 4: Making multiple updates to weights.

Update the weights 20 times at learning rate 0.01 and plot the mean squared error after each
update. What happens?

The course's answer: the MSE falls from 25.4016 to 9.627e-05 (the error shrinks by 0.72 each
update).

Run:  python examples/course/04_repeated_updates.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 4``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["4", *sys.argv[1:]]))
