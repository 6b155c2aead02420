"""
The course's first network, traced
==================================

Two inputs, two hidden relu nodes, one output: the network of the course's first
lesson, with the weights the course gives. A trace runs it forward and backward on the
input ``(0, 3)`` with the actual value 3 and keeps every number; the drawing shows the
node values in the nodes, the slopes of the loss in purple and the weights on the edges.
"""

import numpy as np

import slopes

net = slopes.Network.from_weights(
    {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}, activation="relu")
trace = net.trace(np.array([0, 3]), 3, loss="mse")
print(net.predict(np.array([0, 3])))  # 0 x 2 + 3 x 1 = 3 and 0 x 1 + 3 x 2 = 6; 3 + 6 = 9

# %%
# Each weight's slope is the value of the node feeding it, times the slope of the
# activation, times the slope of the loss at the node it feeds:

print(trace.explain(1, 1, 0))

# %%
# The drawing, with the names of the inputs and of the output:

figure = slopes.plot.draw_network(trace, input_names=["x0", "x1"], output_names=["y"])
