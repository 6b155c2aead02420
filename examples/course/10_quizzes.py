"""Lesson 10: The quizzes: an error, a nudged weight, forward passes.

Input [3, 2], actual 5: what is the error? Does changing a weight from 2 to 2.01 make the
prediction better? How many forward passes do 4 updates take? What are the updates when every
error is 0? (The quizzes' figure is missing; the network is rebuilt from their numbers.)

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/10_quizzes.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 10``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["10", *sys.argv[1:]]))
