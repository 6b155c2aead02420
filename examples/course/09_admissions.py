"""Lesson 9: Training on the admissions data.

Prepare the admissions data as the course does, train the course's 6-2-1 sigmoid network on it,
printing the training loss at every tenth of the epochs, then its accuracy on held-out rows.
(The course prints the prepared rows, but no loss and no accuracy.)

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/09_admissions.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 9``; the code lives in slopes/course_udacity.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["9", *sys.argv[1:]]))
