"""Lesson 4: Making multiple updates to weights.

Update the weights 20 times at learning rate 0.01 and plot the mean squared error after each
update. What happens? (The course answers with a plot, no numbers.)

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/04_repeated_updates.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 4``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["4", *sys.argv[1:]]))
