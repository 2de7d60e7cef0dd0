"""Milliseconds per lockstep step of the bbob chapter's batch (8 solvers x 15 instances), per function.

The chapter's budget (forwardgrad.coco.STEPS_PER_DIM) was chosen from these numbers so that the
sweep stays within the book's time limit. Usage: python benchmarks/bench_bbob.py [d]
"""

import sys
import time

from forwardgrad import coco
from forwardgrad.objectives import bbob


def main(d=20, steps=100):
    total = 0.0
    for f in bbob.FUNCTIONS:
        start = time.perf_counter()
        coco.run(f, d, steps=steps)
        ms = 1e3 * (time.perf_counter() - start) / steps
        total += ms
        print(f"f{f:<3d} d = {d}: {ms:6.2f} ms per step")
    print(f"all 24 functions: {total:.1f} ms per step; {coco.STEPS_PER_DIM} d steps -> "
          f"{total * coco.STEPS_PER_DIM * d / 1e3:.0f} s in d = {d} (one process)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
