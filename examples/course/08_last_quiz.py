"""Lesson 8: A round of backpropagation (the last quiz).

A relu network's output node receives 6 as the slope of the loss; the hidden nodes feeding it
have values 1 and 3. What are the slopes of their weights, and of the weights feeding the hidden
nodes? (The course's figure is missing; the network is rebuilt from its numbers.)

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/08_last_quiz.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 8``; the code lives in slopes/course_lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["8", *sys.argv[1:]]))
