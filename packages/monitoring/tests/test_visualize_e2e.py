"""A real workflow, recorded by the real MonitoringHub, then browsed with parsl-visualize."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("flask")

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.dataflow.errors import DependencyError
from parsl.executors.threads import ThreadPoolExecutor
from parsl_monitoring.visualization import create_app


@python_app
def square(x):
    return x * x


@python_app
def total(*xs):
    return sum(xs)


@python_app
def explode(x):
    raise ValueError(f"explode {x}")


@python_app
def after(x):
    return x


@bash_app
def shout(stdout=None):
    return "echo hello"


def test_browse_a_monitored_workflow(tmp_path):
    from parsl.monitoring import MonitoringHub

    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    out = tmp_path / "out<i>.txt"
    cfg = Config(
        executors=[ThreadPoolExecutor(label="threads", max_threads=4)],
        retries=1,
        run_dir=str(tmp_path / "runinfo"),
        monitoring=MonitoringHub(workflow_name="<b>e2e</b>", logging_endpoint=url),
    )
    with parsl.load(cfg):
        squares = [square(i) for i in range(6)]
        t = total(*squares)
        bad = after(explode(1))
        s = shout(stdout=str(out))
        assert t.result() == 55 and s.result() == 0
        with pytest.raises(DependencyError):
            bad.result()
    client = create_app(url).test_client()

    index = client.get("/").get_data(as_text=True)
    run_id = re.search(r'href="/workflow/([^/"]+)/"', index).group(1)
    assert "&lt;b&gt;e2e&lt;/b&gt;" in index and "<b>e2e</b>" not in index
    row = re.search(r"<tr>(?:(?!</tr>).)*?" + re.escape(run_id) + r".*?</tr>", index, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    # the workflow row's counts mean what Parsl's do: exec_done and failed tasks; the
    # dependency failure is in neither
    assert cells[5] == "completed" and cells[8:] == ["10", "8", "1"]

    wf = client.get(f"/workflow/{run_id}/").get_data(as_text=True)
    assert len(re.findall(r'class="gantt-row"', wf)) == 10
    apps = re.search(r'id="apps">.*?</table>', wf, re.S).group(0)
    names = re.findall(r'class="app-link"[^>]*>(\w+)<', apps)
    assert names == ["after", "explode", "shout", "square", "total"]

    tasks = {
        int(tid): name
        for tid, name in re.findall(
            r'class="task-link" href="[^"]+">(\d+)</a></td>\s*<td><a[^>]*>(\w+)<',
            client.get(f"/workflow/{run_id}/task/").get_data(as_text=True),
        )
    }
    by_name = {name: tid for tid, name in tasks.items()}
    total_page = client.get(f"/workflow/{run_id}/task/{by_name['total']}").get_data(as_text=True)
    deps = re.search(r'id="depends">(.*?)</td>', total_page, re.S).group(1)
    assert sorted(int(d) for d in re.findall(r"/task/(\d+)\"", deps)) == sorted(
        tid for tid, name in tasks.items() if name == "square"
    )
    assert ">exec_done<" in total_page and "threads" in total_page

    explode_page = client.get(f"/workflow/{run_id}/task/{by_name['explode']}").get_data(as_text=True)
    assert ">failed<" in explode_page and "explode 1" in explode_page
    tries = re.search(r'id="tries">.*?</table>', explode_page, re.S).group(0)
    assert len(re.findall(r"<td>threads</td>", tries)) == 2  # retried once
    after_page = client.get(f"/workflow/{run_id}/task/{by_name['after']}").get_data(as_text=True)
    assert ">dep_fail<" in after_page
    shout_page = client.get(f"/workflow/{run_id}/task/{by_name['shout']}").get_data(as_text=True)
    assert "out&lt;i&gt;.txt" in shout_page and "out<i>" not in shout_page

    dag = client.get(f"/workflow/{run_id}/dag_group_by_states").get_data(as_text=True)
    assert len(re.findall(r'class="node"', dag)) == 10 and len(re.findall(r'class="edge"', dag)) == 7
    assert client.get(f"/workflow/{run_id}/resource_usage").status_code == 200
