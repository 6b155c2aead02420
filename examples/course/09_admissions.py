"""Lesson 9: Training on the admissions data.

Train the course's 6-2-1 sigmoid network on the graduate-school admissions data, printing the
training loss at every tenth of the epochs, then its accuracy on the test set.

The course's answer: the loss falls (no WARNING - Loss Increasing); test accuracy about 0.7, close
to always guessing 'not admitted': these three features predict admission poorly.

Run:  python examples/course/09_admissions.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 9``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["9", *sys.argv[1:]]))
