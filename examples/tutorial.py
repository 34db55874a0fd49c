"""A first Parsl workflow: python, bash and join apps, files and futures.

Run it with `hatch run example` (or `python examples/tutorial.py` where parslcore is installed).
"""

import os
import tempfile

import parsl
from parsl import File, bash_app, join_app, python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@python_app
def square(x):
    return x * x


@python_app
def total(inputs=()):
    return sum(inputs)


@bash_app
def write_numbers(n, outputs=()):
    return f"seq 1 {n} > {outputs[0]}"


@bash_app
def count_lines(inputs=(), stdout=None):
    return f"wc -l < {inputs[0]}"


@join_app
def fibonacci(n):
    if n < 2:
        return square(n)  # square(0) == 0, square(1) == 1
    return add(fibonacci(n - 1), fibonacci(n - 2))


@python_app
def add(a, b):
    return a + b


@python_app
def fails():
    raise RuntimeError("this task fails on purpose")


def main():
    workdir = tempfile.mkdtemp(prefix="parsl-tutorial-")
    config = Config(
        executors=[ThreadPoolExecutor(label="threads", max_threads=4)],
        run_dir=os.path.join(workdir, "runinfo"),
    )
    with parsl.load(config):
        squares = [square(i) for i in range(10)]
        print("sum of squares 0..9:", total(inputs=squares).result())

        numbers = write_numbers(100, outputs=[File(os.path.join(workdir, "numbers.txt"))])
        counted = count_lines(inputs=[numbers.outputs[0]], stdout=os.path.join(workdir, "count.txt"))
        counted.result()
        with open(os.path.join(workdir, "count.txt")) as f:
            print("lines written by the bash app:", f.read().strip())

        print("fibonacci(10) through join apps:", fibonacci(10).result())

        try:
            add(fails(), 1).result()
        except Exception as e:
            print("a failed dependency is reported:", type(e).__name__)
    print("run directory:", config.run_dir)


if __name__ == "__main__":
    main()
