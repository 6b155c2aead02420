"""Lesson 11: NumPy's shapes: column vectors, two errors, the weight steps.

What do features, features.T, features[:, None] and np.array(features, ndmin=2) look like?
Which two products raise an error, and which message? Which inputs give the notes' 6x3 matrix
hidden_error * inputs[:, None]? (The notes do not say: the admissions row 11.)

It prints slopes' numbers, then every number the course states for this example next to
slopes' own: a check mark when they agree to every digit the course prints, otherwise the
difference and why (docs/course-errata.md lists the course's wrong numbers).

Run:  python examples/course/11_numpy_shapes.py [--no-code]
(the same as ``slopes lessons 11``; the code lives in slopes/course_udacity.py).
"""

import sys

from slopes.lessons import main

if __name__ == "__main__":
    sys.exit(main(["11", *sys.argv[1:]]))
