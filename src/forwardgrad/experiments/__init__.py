"""The code that exists for one chapter of the book, one module per chapter.

Each module computes what its chapter shows, from the layers below (core: engines, tangents,
oracles, optimizers, objectives, descent; benchmarking: protocols, benchmark, results, profiles,
equal_cost; plotting); nothing below imports from here.

- :mod:`~forwardgrad.experiments.functions`: pictures of the test-function collection;
- :mod:`~forwardgrad.experiments.linear`: forward against true SGD where the isopleths are plane;
- :mod:`~forwardgrad.experiments.rate`: the O(1/t) rate of true and forward SGD and its constant;
- :mod:`~forwardgrad.experiments.trajectories`: Figures 4 and 5, learning-rate sweeps;
- :mod:`~forwardgrad.experiments.audit`: the paper's four conclusions and the protocol audit;
- :mod:`~forwardgrad.experiments.multi_tangent`: closed forms for several tangents per step;
- :mod:`~forwardgrad.experiments.guided`: the guided estimate's second moment;
- :mod:`~forwardgrad.experiments.cost`: time and memory of f, a jvp and a vjp;
- :mod:`~forwardgrad.experiments.digits`: networks on scikit-learn's digits.
"""
