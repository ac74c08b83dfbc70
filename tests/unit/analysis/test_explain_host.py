"""The host side of an explanation: py-spy's Python functions (synthetic speedscope records in the format
collectors/pyspy.py stores, and one real CPU measurement when py-spy can attach) and every rank's exposed
and overlapped collective time."""

import json
import shutil

import pandas as pd
import pytest

from benchbench.analysis import explain, explain_pyspy
from benchbench.collectors import trace_summary
from benchbench.present import explain as present
from tests.fixtures import traces as T

GEMM = "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"
FRAMES = [{"name": "_timed_window", "file": "/x/benchbench/worker/measure.py", "line": 130, "col": None},
          {"name": "step", "file": "/x/benchbench/engines/torch_engine.py", "line": 40, "col": None},
          {"name": "forward", "file": "/x/site-packages/torch/nn/modules/linear.py", "line": 125, "col": None},
          {"name": "slow_hook", "file": "/p/model.py", "line": 7, "col": None},
          {"name": "slow_hook", "file": "/p/model.py", "line": 9, "col": None}]  # another line, the same function


def speedscope(stacks: list[tuple[list[int], int]], unit="seconds", rate=100) -> dict:
    """py-spy's speedscope JSON: every (stack, samples) as that many samples of 1/rate s."""
    samples = [s for s, k in stacks for _ in range(k)]
    w = (1.0 / rate) * {"seconds": 1, "milliseconds": 1e3}[unit]
    return {"$schema": "https://www.speedscope.app/file-format-schema.json", "exporter": "py-spy@0.4.3",
            "shared": {"frames": FRAMES},
            "profiles": [{"type": "sampled", "name": 'Thread 1 "MainThread"', "unit": unit, "startValue": 0.0,
                          "endValue": 1.0, "samples": samples, "weights": [w] * len(samples)}]}


def test_self_time_per_function_from_the_innermost_frame():
    got = explain_pyspy.functions(speedscope([([0, 1, 2], 30), ([0, 1, 3], 10), ([0, 1, 4], 5), ([0], 2)]))
    assert got["forward (modules/linear.py)"] == pytest.approx(0.30)
    assert got["slow_hook (p/model.py)"] == pytest.approx(0.15)  # both lines of one function
    assert got["_timed_window (worker/measure.py)"] == pytest.approx(0.02) and "step (engines/torch_engine.py)" not in got
    ms = explain_pyspy.functions(speedscope([([0, 1, 2], 30)], unit="milliseconds"))
    assert ms["forward (modules/linear.py)"] == pytest.approx(0.30)


def side(tmp, name, step_s, stacks, steps=10):
    """Three profiled repeats of one config with a py-spy record each, as a run directory stores them."""
    trace = T.synthetic([(GEMM, step_s * 1e6)])
    s = trace_summary.summarize(trace)
    rows = []
    for i in range(3):
        rel = f"artifacts/cfg-r{i}/pyspy.speedscope.json"
        (tmp / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name / rel).write_text(json.dumps(speedscope(stacks)))
        rows.append(T.row(trace, step_s, repeat=i, summary=s, host_syncs_per_step=0, pyspy_speedscope=rel,
                          step_times_s=[step_s] * steps))
    return pd.DataFrame(rows), {("ab"[name == "b"], i): trace for i in range(3)}


def test_the_functions_that_moved_most_per_step_with_their_share(tmp_path):
    ra, ta = side(tmp_path, "a", 0.010, [([0, 1, 2], 60)])
    rb, tb = side(tmp_path, "b", 0.012, [([0, 1, 2], 60), ([0, 1, 3], 20)])  # a hook takes 0.2 s over 10 steps
    e = explain.explain_config(ra, rb, tmp_path / "a", tmp_path / "b", traces={**ta, **tb})
    top = e.python["functions"][0]
    assert top["function"] == "slow_hook (p/model.py)"
    assert top["a_s"] == 0.0 and top["b_s"] == pytest.approx(0.02) and top["share"] == pytest.approx(10.0)
    assert e.python["functions"][1]["delta_s"] == pytest.approx(0.0)  # forward: the same in A and B
    assert e.python["sampled_a_s"] == pytest.approx(0.06) and e.python["repeats"] == (3, 3)
    text = present.text(e)
    assert "python functions (py-spy self time" in text and "slow_hook (p/model.py)" in text
    assert "| `slow_hook (p/model.py)` | 0.00 | 20.00 | +20.000 ms (1000%) |" in present.markdown(e)
    assert json.loads(present.to_json([e]))[0]["python"]["functions"][0]["function"] == "slow_hook (p/model.py)"


def test_without_a_py_spy_record_on_both_sides_nothing_is_said(tmp_path):
    ra, ta = side(tmp_path, "a", 0.010, [([0, 1, 2], 60)])
    rb, tb = side(tmp_path, "b", 0.012, [([0, 1, 2], 60)])
    e = explain.explain_config(ra, rb.drop(columns="pyspy_speedscope"), tmp_path / "a", tmp_path / "b", traces={**ta, **tb})
    assert e.python == {} and "py-spy" not in present.text(e)


@pytest.mark.skipif(shutil.which("py-spy") is None, reason="py-spy not installed")
def test_a_real_cpu_measurement_lists_its_functions(tmp_path):
    from benchbench.spec.config import RunConfig
    from benchbench.worker import measure as worker

    tiny = dict(model_args={"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64}, batch_size=2,
                warmup_steps=1, measured_steps=60, device="cpu", attention="eager", profile=True, pyspy=True)
    rows = {}
    for name, bs in (("a", 2), ("b", 4)):
        out = worker.measure(RunConfig(**{**tiny, "batch_size": bs}), tmp_path / name / "artifacts" / "cfg-r0")
        if out.get("pyspy_reason"):
            pytest.skip(f"py-spy could not record here: {out['pyspy_reason']}")
        rows[name] = pd.DataFrame([{**out, "status": "ok", "config_id": "cfg", "repeat": 0}])
    e = explain.explain_config(rows["a"], rows["b"], tmp_path / "a", tmp_path / "b")
    fs = e.python["functions"]
    assert fs and all(r["a_s"] >= 0 and r["b_s"] >= 0 for r in fs)
    assert e.python["sampled_a_s"] > 0 and e.python["sampled_b_s"] > 0
    assert abs(fs[0]["delta_s"]) >= abs(fs[-1]["delta_s"])  # the largest change first


def test_every_ranks_exposed_and_overlapped_collective_time():
    kern = [(GEMM, 1000.0)]
    ta, tb = T.synthetic(kern), T.synthetic(kern)
    per_a = dict(profile_communication_exposed_us_per_rank=[300.0, 600.0],
                 profile_communication_overlapped_us_per_rank=[900.0, 600.0])
    per_b = dict(profile_communication_exposed_us_per_rank=[1500.0, 1800.0],
                 profile_communication_overlapped_us_per_rank=[0.0, 0.0])
    ra = pd.DataFrame([T.row(ta, 0.0010 * j, repeat=i, host_syncs_per_step=0, **per_a) for i, j in enumerate((1, 1.01, 0.99))])
    rb = pd.DataFrame([T.row(tb, 0.0015 * j, repeat=i, host_syncs_per_step=0, **per_b) for i, j in enumerate((1, 1.01, 0.99))])
    e = explain.explain_config(ra, rb)
    assert e.ranks["a"] == pytest.approx([(100e-6, 300e-6), (200e-6, 200e-6)])  # per step: over 3 profiled steps
    assert e.ranks["b"] == pytest.approx([(500e-6, 0.0), (600e-6, 0.0)])
    assert ("collectives per rank (ms/step exposed / overlapped by compute): A r0 0.10 / 0.30, r1 0.20 / 0.20; "
            "B r0 0.50 / 0.00, r1 0.60 / 0.00") in present.text(e)
    assert explain.explain_config(ra.drop(columns=list(per_a)), rb.drop(columns=list(per_b))).ranks == {}


def test_collectives_of_a_cpu_trace_against_every_threads_operators():
    """gloo: the collective runs on its own thread; the main thread's c10d op and what it nests are its own
    work, not compute that hides it."""
    from benchbench.basics import trace as trace_format

    op = lambda name, ts, dur, tid, cat="cpu_op": {"ph": "X", "cat": cat, "name": name, "ts": ts, "dur": dur,  # noqa: E731
                                                  "pid": 1, "tid": tid}
    trace = {"traceEvents": [
        op("ProfilerStep#1", 0, 1000, 1, "user_annotation"),
        op("aten::mm", 0, 300, 1),
        op("c10d::allreduce_", 300, 50, 1), op("aten::empty", 310, 10, 1),       # nested in the collective
        op("gloo:all_reduce", 320, 400, 2, "user_annotation"),                     # 320..720 on gloo's thread
        op("aten::addmm", 350, 150, 1),                                            # overlaps 350..500
    ]}
    c = trace_format.communication(trace)
    assert c["comm_us"] == pytest.approx(420.0)           # 300..720
    assert c["overlapped_us"] == pytest.approx(150.0)     # only addmm hides it
    assert c["exposed_us"] == pytest.approx(270.0)
    s = trace_summary.summarize(trace)
    assert s["profile_communication_exposed_us"] == pytest.approx(270.0)
    assert s["profile_communication_overlapped_us"] == pytest.approx(150.0)
    assert trace_format.communication({"traceEvents": [op("aten::mm", 0, 10, 1)]}) is None
