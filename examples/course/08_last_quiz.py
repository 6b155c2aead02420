"""Lesson 8: A round of backpropagation (the last quiz).

A relu network's output node receives 6 as the slope of the loss; the hidden nodes feeding it have
values 1 and 3. What are the slopes of their weights?

The course's answer: 6 and 18; a weight fed by a node of value 0 gets 0.

Run:  python examples/course/08_last_quiz.py [--out DIR] [--no-plot] [--no-code]
(the same as ``slopes lessons 8``; the code lives in slopes/lessons.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["8", *sys.argv[1:]]))
