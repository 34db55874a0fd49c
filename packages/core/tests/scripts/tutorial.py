# ruff: noqa: B006, B007, UP030, UP031 - written as Parsl users write it (list defaults, % formatting)
"""A Parsl tutorial-style workflow, written exactly as a Parsl user would write it.

test_tutorial_script.py runs this file unchanged in a fresh interpreter (in an empty
working directory) and compares what it prints with the expected output. Nothing here
is specific to parslcore: the same script runs under upstream Parsl.
"""

import os

import parsl
from parsl.app.app import bash_app, join_app, python_app
from parsl.app.errors import BashExitFailure
from parsl.config import Config
from parsl.configs.local_threads import config
from parsl.data_provider.files import File
from parsl.dataflow.errors import DependencyError, JoinError
from parsl.executors.threads import ThreadPoolExecutor

print("parsl version present:", bool(parsl.__version__))

parsl.load(config)


# ------------------------------------------------------------ hello world
@python_app
def hello():
    return "Hello World!"


print(hello().result())


@python_app
def multiply(a, b):
    return a * b


print(multiply(5, 9).result())


@bash_app
def echo_hello(stdout="echo-hello.stdout", stderr="echo-hello.stderr"):
    return 'echo "Hello World!"'


echo_hello().result()
with open("echo-hello.stdout") as f:
    print(f.read().strip())

# ------------------------------------------------------------ passing data
for i in range(3):
    with open(os.path.join(os.getcwd(), f"hello-{i}.txt"), "w") as f:
        f.write(f"hello {i}\n")


@bash_app
def cat(inputs=[], outputs=[]):
    return "cat {} > {}".format(" ".join([str(i) for i in inputs]), outputs[0])


concat = cat(
    inputs=[File(os.path.join(os.getcwd(), f"hello-{i}.txt")) for i in range(3)],
    outputs=[File(os.path.join(os.getcwd(), "all_hellos.txt"))],
)
with open(concat.outputs[0].result()) as f:
    print(f.read().replace("\n", "|"))


# ------------------------------------------------------------ futures
@python_app
def slow_hello():
    import time

    time.sleep(0.3)
    return "Hello World!"


app_future = slow_hello()
print(f"Done: {app_future.done()}")
print(f"Result: {app_future.result()}")
print(f"Done: {app_future.done()}")


@bash_app
def slowecho(message, outputs=[]):
    return "sleep 0.2; echo %s &> %s" % (message, outputs[0])


hello_fut = slowecho("Hello World!", outputs=[File(os.path.join(os.getcwd(), "hello-world.txt"))])
print("outputs:", len(hello_fut.outputs), type(hello_fut.outputs[0]).__name__)
with open(hello_fut.outputs[0].result().filepath) as f:
    print(f.read().strip())
print(f"Done: {hello_fut.done()}")


# ------------------------------------------------------------ files
@bash_app
def copy(inputs=[], outputs=[]):
    return "cat %s &> %s" % (inputs[0], outputs[0])


with open(os.path.join(os.getcwd(), "cat-in.txt"), "w") as f:
    f.write("Hello World!\n")
parsl_infile = File(os.path.join(os.getcwd(), "cat-in.txt"))
parsl_outfile = File(os.path.join(os.getcwd(), "cat-out.txt"))
copy_future = copy(inputs=[parsl_infile], outputs=[parsl_outfile])
with open(copy_future.outputs[0].result()) as f:
    print("copied:", f.read().strip())


# ------------------------------------------------------------ pi, python apps
@python_app
def pi(num_points):
    from random import random

    inside = 0
    for i in range(num_points):
        x, y = random(), random()
        if x**2 + y**2 < 1:
            inside += 1
    return inside * 4 / num_points


@python_app
def mean(a, b, c):
    return (a + b + c) / 3


a, b, c = pi(10**4), pi(10**4), pi(10**4)
mean_pi = mean(a, b, c)
print("python pi close:", abs(mean_pi.result() - 3.14159) < 0.15)


# ------------------------------------------------------------ pi, bash + python
@bash_app
def sample_points(seed, n, outputs=[]):
    return (
        "awk -v seed=%d -v n=%d 'BEGIN { srand(seed); for (i = 0; i < n; i++) "
        "print rand(), rand() }' > %s" % (seed, n, outputs[0])
    )


@python_app
def count_inside(inputs=[]):
    inside = total = 0
    with open(inputs[0]) as f:
        for line in f:
            x, y = map(float, line.split())
            total += 1
            inside += x * x + y * y < 1
    return 4.0 * inside / total


@python_app
def average(inputs=[]):
    return sum(inputs) / len(inputs)


samples = [
    sample_points(seed, 5000, outputs=[File(os.path.join(os.getcwd(), "points-%d.txt" % seed))])
    for seed in range(1, 5)
]
estimates = [count_inside(inputs=[s.outputs[0]]) for s in samples]
bash_pi = average(inputs=estimates)
print("bash+python pi close:", abs(bash_pi.result() - 3.14159) < 0.15)


# ------------------------------------------------------------ parallel dataflow
@bash_app
def generate(i, outputs=[]):
    return "echo %d &> %s" % (i * 10, outputs[0])


@bash_app
def concat_files(inputs=[], outputs=[]):
    return "cat {0} > {1}".format(" ".join(i.filepath for i in inputs), outputs[0])


@python_app
def total(inputs=[]):
    total = 0
    with open(inputs[0]) as f:
        for line in f:
            total += int(line)
    return total


output_files = []
for i in range(5):
    output_files.append(generate(i, outputs=[File(os.path.join(os.getcwd(), "random-%s.txt" % i))]))
cc = concat_files(
    inputs=[i.outputs[0] for i in output_files], outputs=[File(os.path.join(os.getcwd(), "all.txt"))]
)
print("total:", total(inputs=[cc.outputs[0]]).result())


# ------------------------------------------------------------ failures
@python_app
def bad_divide(x):
    return 6 / x


doubled_x = bad_divide(0)
try:
    doubled_x.result()
except ZeroDivisionError:
    print("Oops! You tried to divide by 0")
except Exception:
    print("Oops! Something really bad happened")


@python_app
def add_one(x):
    return x + 1


try:
    add_one(bad_divide(0)).result()
except DependencyError as e:
    print("dependency failed:", type(e.__cause__).__name__, len(e.dependent_exceptions_tids))


@bash_app
def fails_in_bash():
    return "exit 3"


try:
    fails_in_bash().result()
except BashExitFailure as e:
    print("bash exit code:", e.exitcode)

print("still working:", add_one(41).result())


# ------------------------------------------------------------ join apps
@join_app
def fibonacci(n):
    if n < 2:
        return multiply(n, 1)
    return add(fibonacci(n - 1), fibonacci(n - 2))


@python_app
def add(a, b):
    return a + b


print("fibonacci(12):", fibonacci(12).result())


@join_app
def joins_failure():
    return bad_divide(0)


try:
    joins_failure().result()
except JoinError as e:
    print("join failed:", type(e.dependent_exceptions_tids[0][0]).__name__)

parsl.dfk().cleanup()
parsl.clear()

# ------------------------------------------------------------ two executors
two_pools = Config(
    executors=[
        ThreadPoolExecutor(max_threads=2, label="fast", thread_name_prefix="fast"),
        ThreadPoolExecutor(max_threads=2, label="slow", thread_name_prefix="slow"),
    ],
    run_dir="runinfo",
)


@python_app(executors=["fast"])
def where_fast():
    import threading

    return threading.current_thread().name.split("_")[0]


@python_app(executors=["slow"])
def where_slow():
    import threading

    return threading.current_thread().name.split("_")[0]


with parsl.load(two_pools):
    print("routed:", where_fast().result(), where_slow().result())
    print("chained:", add(multiply(2, 3), multiply(4, 5)).result())

# ------------------------------------------------------------ left loaded at exit
parsl.load(config)
print("last:", hello().result())
# no cleanup: Parsl cleans up when the interpreter exits
