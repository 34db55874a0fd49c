# A Parsl tutorial-style script for the HighThroughputExecutor, written as users write it:
# the stock htex_local config, python and bash apps, files, a failure, and no cleanup at
# the end (the notebook style) -- the script must still exit promptly.
import os
import sys

import parsl
from parsl import bash_app, python_app
from parsl.configs.htex_local import config
from parsl.data_provider.files import File

config.run_dir = sys.argv[1]
parsl.load(config)


@python_app
def hello():
    return "Hello World!"


@python_app
def square(x):
    import os

    return x * x, os.environ.get("PARSL_WORKER_RANK") is not None


@bash_app
def echo_to_file(message, outputs=()):
    return f"echo {message} > {outputs[0]}"


@bash_app
def cat(inputs=(), stdout=None):
    return f"cat {inputs[0]}"


@python_app
def divide(a, b):
    return a / b


print(hello().result())
results = [square(i).result() for i in range(5)]
print("squares:", [r[0] for r in results], "on workers:", all(r[1] for r in results))
workdir = os.path.dirname(sys.argv[1])
written = echo_to_file("from-a-bash-app", outputs=[File(os.path.join(workdir, "msg.txt"))])
out = os.path.join(workdir, "cat.out")
cat(inputs=[written.outputs[0]], stdout=out).result()
print("cat:", open(out).read().strip())
try:
    divide(1, 0).result()
except ZeroDivisionError:
    print("caught ZeroDivisionError from a worker")
print("done")
