"""Build every package into one wheelhouse, install from it into clean virtual environments.

What users get from `pip install 'parslcore[extra]'`: the right sibling distributions, a
workflow that runs from the installed wheels (not from this source tree), the install hint
when a sibling is missing, and a clear report when upstream Parsl is installed in the same
environment (both distributions own the `parsl` import package).

Venvs are made with uv when it is there (hatch brings it), else with `python -m venv` and pip.
The wheelhouse is built once per session and each venv once per session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
EXAMPLE = ROOT / "examples" / "plugin-executor"
#: core's version source (pyproject.toml reads it from there: dynamic = ["version"])
VERSION = re.search(
    r'^VERSION = "([^"]+)"$', (ROOT / "packages/core/src/parsl/version.py").read_text(), re.M
)[1]
UPSTREAM = "parsl==2026.10.26"
FIX = "pip uninstall -y parsl parslcore && pip install parslcore"

SIBLINGS = {
    "parsl-executor-htex": "parsl_executor_htex",
    "parsl-providers": "parsl_providers",
    "parsl-monitoring": "parsl_monitoring",
    "parsl-staging": "parsl_staging",
    "parsl-executor-globus-compute": "parsl_executor_globus_compute",
}


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the hatch/venv variables that would leak into children."""
    drop = (
        "HATCH_ENV",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "CONDA_PREFIX",
        "PIP_REQUIRE_VIRTUALENV",
        "UV_PROJECT_ENVIRONMENT",
        "PARSL_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def _uv() -> str | None:
    return os.environ.get("HATCH_UV") or shutil.which("uv")


class Venv:
    """A clean virtual environment and the commands to install into it and run in it."""

    def __init__(self, path: Path, wheelhouse: Path):
        self.path = path
        self.wheelhouse = wheelhouse
        self.uv = _uv()
        if self.uv:
            _run([self.uv, "venv", "--quiet", "--python", sys.executable, str(path)])
        else:
            _run([sys.executable, "-m", "venv", str(path)])
        self.python = str(path / "bin" / "python")
        self.site_packages = Path(
            self.run("import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
        )

    def install(self, *requirements: str) -> None:
        if self.uv:
            _run(
                [
                    self.uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    self.python,
                    "--find-links",
                    str(self.wheelhouse),
                    *requirements,
                ]
            )
        else:
            _run(
                [
                    self.python,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--find-links",
                    str(self.wheelhouse),
                    *requirements,
                ]
            )

    def uninstall(self, *names: str) -> None:
        if self.uv:
            _run([self.uv, "pip", "uninstall", "--quiet", "--python", self.python, *names])
        else:
            _run([self.python, "-m", "pip", "uninstall", "--quiet", "-y", *names])

    def run(self, code: str, *, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        """Run ``code`` with the venv's Python from a folder outside the source tree."""
        return _run(
            [self.python, "-c", textwrap.dedent(code)], check=check, cwd=self.path, env=_clean_env(**env)
        )

    def module(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run([self.python, "-m", *args], check=check, cwd=self.path, env=_clean_env())

    def parsl_distributions(self) -> dict[str, str]:
        """Installed distributions named parsl*, with their versions."""
        out = self.run("""
            import json
            from importlib.metadata import distributions
            print(json.dumps({d.metadata['Name']: d.version for d in distributions()
                              if d.metadata['Name'].lower().startswith('parsl')}))
        """)
        return json.loads(out.stdout)


def _run(
    cmd: list[str], *, check: bool = True, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    out = subprocess.run(
        cmd,
        cwd=cwd,
        env=env if env is not None else _clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and out.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)[:300]} exited {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
        )
    return out


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every package of the repository (and the example plugin) built as a wheel into one folder."""
    hatch = shutil.which("hatch")
    if hatch is None:
        pytest.fail("hatch is not on PATH: pip install 'hatch==1.18.*'")
    out = tmp_path_factory.mktemp("wheelhouse")
    procs = [
        (
            pkg,
            subprocess.Popen(
                [hatch, "build", "-t", "wheel", str(out)],
                cwd=pkg,
                env=_clean_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for pkg in [*PACKAGES, EXAMPLE]
    ]
    for pkg, proc in procs:
        log, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"hatch build in {pkg} failed:\n{log}"
    names = {p.name.split("-")[0] for p in out.glob("*.whl")}
    assert names == {
        "parslcore",
        "parsl_executor_htex",
        "parsl_providers",
        "parsl_monitoring",
        "parsl_staging",
        "parsl_executor_globus_compute",
        "parsl_example_subprocess_executor",
    }
    return out


_VENVS: dict[str, Venv] = {}


@pytest.fixture(scope="session")
def venvs(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory):
    """``venvs(extra)``: a venv with ``parslcore[extra]`` installed from the wheelhouse, made once."""

    def get(extra: str) -> Venv:
        if extra not in _VENVS:
            venv = Venv(tmp_path_factory.mktemp(f"venv-{extra or 'core'}") / "venv", wheelhouse)
            venv.install(f"parslcore[{extra}]=={VERSION}" if extra else f"parslcore=={VERSION}")
            _VENVS[extra] = venv
        return _VENVS[extra]

    return get


# -- extras install the right siblings -----------------------------------------------------------


@pytest.mark.parametrize(
    "extra, siblings",
    [
        ("", []),
        ("htex", ["parsl-executor-htex"]),
        ("slurm", ["parsl-providers"]),
        ("monitoring", ["parsl-monitoring"]),
        ("staging", ["parsl-staging"]),
        ("globus-compute", ["parsl-executor-globus-compute"]),
        (
            "all",
            [
                "parsl-executor-htex",
                "parsl-providers",
                "parsl-monitoring",
                "parsl-staging",
                "parsl-executor-globus-compute",
            ],
        ),
    ],
    ids=["core", "htex", "slurm", "monitoring", "staging", "globus-compute", "all"],
)
def test_an_extra_installs_exactly_its_siblings(venvs, extra, siblings):
    venv = venvs(extra)
    assert venv.parsl_distributions() == {name: VERSION for name in ["parslcore", *siblings]}
    imports = ["parsl", *(SIBLINGS[s] for s in siblings)]
    out = venv.run(f"""
        import json, {", ".join(imports)}
        print(json.dumps([m.__file__ for m in ({", ".join(imports)},)]))
    """)
    for path in json.loads(out.stdout):
        assert Path(path).is_relative_to(venv.site_packages), f"{path} is not the installed wheel"


# -- workflows run from the installed wheels ----------------------------------------------------

WORKFLOW = textwrap.dedent("""
    import json, os, sys
    import parsl
    from parsl import File, bash_app, join_app, python_app
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    EXECUTORS = [ThreadPoolExecutor(label="threads", max_threads=2)]
    {extra_executors}

    def square(x):
        return x * x

    def total(inputs=()):
        return sum(inputs)

    def write(n, outputs=()):
        return f"seq 1 {{n}} > {{outputs[0]}}"

    def count(inputs=()):
        with open(inputs[0]) as f:
            return len(f.read().split())

    def where():
        import os, parsl
        return parsl.__file__, os.getpid()

    @join_app
    def fan(n):
        return python_app(total, executors=["threads"])(
            inputs=[python_app(square, executors=["threads"])(i) for i in range(n)])

    results = {{}}
    with parsl.load(Config(executors=EXECUTORS, run_dir=os.path.abspath("runinfo"), strategy="none")):
        for label in [e.label for e in EXECUTORS]:
            app = lambda f: python_app(f, executors=[label])
            written = bash_app(write, executors=[label])(5, outputs=[File(os.path.abspath(f"{{label}}.txt"))])
            results[label] = {{
                "total": app(total)(inputs=[app(square)(i) for i in range(10)]).result(),
                "count": app(count)(inputs=[written.outputs[0]]).result(),
                "where": app(where)().result(),
            }}
        fanned = fan(4).result()
    print(json.dumps({{"parsl": parsl.__file__, "pid": os.getpid(), "fan": fanned, "results": results}}))
""")

HTEX = textwrap.dedent("""
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider
    EXECUTORS.append(HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                            provider=LocalProvider(init_blocks=1, max_blocks=1)))
""")


def _check_workflow(venv: Venv, out: subprocess.CompletedProcess, labels: list[str]) -> None:
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(report["parsl"]).is_relative_to(venv.site_packages)
    assert sorted(report["results"]) == sorted(labels)
    assert report["fan"] == 14
    for label, r in report["results"].items():
        assert (r["total"], r["count"]) == (285, 5), label
        parsl_file, pid = r["where"]
        assert Path(parsl_file).is_relative_to(venv.site_packages), label
        assert (pid == report["pid"]) == (label == "threads"), label  # HTEX runs in worker processes


def test_parslcore_alone_runs_a_threads_workflow_and_gives_the_install_hint(venvs):
    venv = venvs("")
    _check_workflow(venv, venv.run(WORKFLOW.format(extra_executors="")), ["threads"])
    for spelling in (
        "from parsl.executors import HighThroughputExecutor",
        "from parsl import HighThroughputExecutor",
    ):
        out = venv.run(spelling, check=False)
        assert out.returncode == 1
        assert "ImportError" in out.stderr
        assert "pip install 'parslcore[htex]'" in out.stderr, out.stderr


def test_htex_extra_runs_threads_and_htex_from_the_wheels(venvs):
    venv = venvs("htex")
    out = venv.run(WORKFLOW.format(extra_executors=HTEX))
    _check_workflow(venv, out, ["threads", "htex"])


def test_doctor_and_plugins_in_a_clean_install(venvs):
    venv = venvs("htex")
    doctor = venv.module("parsl", "doctor")
    assert "no problems found" in doctor.stdout
    rows = {row["name"]: row for row in json.loads(venv.module("parsl", "plugins", "--json").stdout)}
    assert rows["htex"]["distribution"] == "parsl-executor-htex"
    assert "HighThroughputExecutor" in rows["htex"]["provides"]["executors"]


def test_the_example_plugin_installs_from_its_wheel_and_runs(wheelhouse, tmp_path_factory):
    venv = Venv(tmp_path_factory.mktemp("venv-example") / "venv", wheelhouse)
    venv.install(
        "parsl-example-subprocess-executor"
    )  # its parslcore>=2026.11,<2027 comes from the wheelhouse
    assert venv.parsl_distributions() == {"parslcore": VERSION, "parsl-example-subprocess-executor": "0.1.0"}
    rows = {row["name"]: row for row in json.loads(venv.module("parsl", "plugins", "--json").stdout)}
    assert rows["example-subprocess"]["provides"]["executors"] == ["SubprocessExecutor"]
    extra = (
        "from parsl.executors import SubprocessExecutor\nEXECUTORS.append(SubprocessExecutor(label='sub'))"
    )
    report = json.loads(venv.run(WORKFLOW.format(extra_executors=extra)).stdout.strip().splitlines()[-1])
    sub = report["results"]["sub"]
    assert (sub["total"], sub["count"]) == (285, 5)
    assert sub["where"][1] != report["pid"]


# -- upstream parsl and parslcore in one environment --------------------------------------------


def _only_upstream_files(venv: Venv) -> list[str]:
    """Files upstream's wheel installed that parslcore's did not (so still on disk when mixed)."""
    out = venv.run("""
        import json
        from importlib.metadata import files
        core = {str(f) for f in files('parslcore')}
        print(json.dumps([str(f.locate()) for f in files('parsl')
                          if str(f).startswith('parsl/') and str(f) not in core and f.locate().exists()]))
    """)
    return json.loads(out.stdout)


def test_parslcore_over_upstream_parsl_refuses_to_import_and_says_the_fix(wheelhouse, tmp_path_factory):
    venv = Venv(tmp_path_factory.mktemp("venv-upstream-then-core") / "venv", wheelhouse)
    venv.install(UPSTREAM)
    venv.install(f"parslcore=={VERSION}")
    assert _only_upstream_files(venv), "expected upstream's own modules to be left among parslcore's"

    out = venv.run("import parsl", check=False)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("parsl._coexist.ConflictingInstallError:")
    assert "'parsl' 2026.10.26" in last and f"'parslcore' {VERSION}" in last
    assert str(venv.site_packages) in last and FIX in last

    doctor = venv.module("parsl", "doctor", check=False)
    assert doctor.returncode == 1 and FIX in doctor.stderr

    warned = venv.run(
        "import parsl; print(parsl.__version__)", check=False, PARSL_IGNORE_INSTALL_CONFLICT="1"
    )
    assert warned.returncode == 0 and warned.stdout.strip() == VERSION
    assert "RuntimeWarning" in warned.stderr and FIX in warned.stderr

    # the fix it names repairs the environment: no leftover upstream module, a clean doctor
    venv.uninstall("parsl", "parslcore")
    venv.install(f"parslcore=={VERSION}")
    assert venv.run("import parsl; print(parsl.__version__, hasattr(parsl, 'hookimpl'))").stdout.split() == [
        VERSION,
        "True",
    ]
    assert venv.parsl_distributions() == {"parslcore": VERSION}
    assert _only_upstream_files_after_fix(venv) == []
    assert "no problems found" in venv.module("parsl", "doctor").stdout


def _only_upstream_files_after_fix(venv: Venv) -> list[str]:
    """Paths under the installed ``parsl`` package that parslcore's RECORD does not list."""
    out = venv.run("""
        import json, os
        from importlib.metadata import files
        import parsl
        core = {os.path.realpath(f.locate()) for f in files('parslcore')}
        root = os.path.dirname(parsl.__file__)
        found = []
        for d, _, names in os.walk(root):
            found += [os.path.join(d, n) for n in names if n.endswith('.py')
                      and os.path.realpath(os.path.join(d, n)) not in core]
        print(json.dumps(found))
    """)
    return json.loads(out.stdout)


def test_upstream_parsl_over_parslcore_is_reported_by_python_m_parsl(wheelhouse, tmp_path_factory):
    venv = Venv(tmp_path_factory.mktemp("venv-core-then-upstream") / "venv", wheelhouse)
    venv.install(f"parslcore=={VERSION}")
    venv.install(UPSTREAM)
    # parslcore's __init__.py is gone (upstream's replaced it), so only its leftovers can speak:
    doctor = venv.module("parsl", "doctor", check=False)
    assert doctor.returncode == 1
    assert "'parsl' 2026.10.26" in doctor.stdout and f"'parslcore' {VERSION}" in doctor.stdout
    assert "runs the __init__.py of upstream parsl 2026.10.26" in doctor.stdout
    assert FIX in doctor.stdout
    plugins = venv.module("parsl", "plugins", check=False)
    assert plugins.returncode == 1 and FIX in plugins.stderr
