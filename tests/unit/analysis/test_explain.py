"""The step-time change decomposed: synthetic traces whose answer is known, and the committed GPU trace
with elementwise kernels planted in it."""

import pandas as pd
import pytest

from benchbench.analysis import explain
from benchbench.collectors import trace_summary
from tests.fixtures import traces as T

GEMM = "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"
GEMM_B = "nvjet_sm90_tst_128x256_64x5_2x1_h_bz_coopA_NNT"  # other tiles: the same kernel
LN = "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<float, float, false>(int, float)"
NCCL = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)"
JITTER = (0.998, 1.0, 1.003)  # the repeats' step times differ a little, as on a GPU


def side(trace, step_s, **extra):
    s = trace_summary.summarize(trace)
    rows = pd.DataFrame([T.row(trace, step_s * j, repeat=i, summary=s, host_syncs_per_step=0, **extra)
                         for i, j in enumerate(JITTER)])
    return rows, {i: trace for i in range(len(JITTER))}


def explained(a, b):
    (ra, ta), (rb, tb) = a, b
    return explain.explain_config(ra, rb, traces={**{("a", i): t for i, t in ta.items()},
                                                  **{("b", i): t for i, t in tb.items()}})


def test_an_added_kernel_is_named_and_explains_the_change():
    base = [(GEMM, 600.0), (LN, 200.0)]
    ta, tb = T.synthetic(base), T.synthetic([(GEMM_B, 600.0), (LN, 200.0), (T.MUL, 100.0)])
    e = explained(side(ta, 800e-6), side(tb, 900e-6))
    assert e.kernels["new"][0]["label"] == "mul" and e.kernels["vanished"] == []
    assert [k["label"] for k in e.kernels["moved"]][:1] != ["mul"]  # the GEMM matched across its tile sizes
    assert e.part("device: norm_elementwise").share == pytest.approx(1.0, abs=0.01)
    assert e.lead.startswith("+12.5% step time: one elementwise kernel (mul new in B) explains 100%")


def test_host_idle_is_host_time_and_syncs_say_which_kind():
    kern = [(GEMM, 500.0), (LN, 100.0)]
    ta, tb = T.synthetic(kern), T.synthetic(kern, gap_us=400.0)  # B leaves the GPU idle between kernels
    a = side(ta, 600e-6)
    rb, tr = side(tb, 1400e-6)
    e = explained(a, (rb, tr))
    idle = e.part("host: GPU idle")
    assert idle.share == pytest.approx(1.0, abs=0.1)
    assert abs(e.part("unexplained").share) < 0.1
    assert e.host["class_a"] == "device-bound" and e.host["class_b"] == "launch-bound"
    assert "GPU idle between kernels (host, launch-bound)" in e.lead
    rb["host_syncs_per_step"] = 2
    assert explained(a, (rb, tr)).host["class_b"] == "sync-bound"


def test_what_the_parts_do_not_cover_is_shown_as_unexplained():
    kern = [(GEMM, 500.0)]
    e = explained(side(T.synthetic(kern), 500e-6), side(T.synthetic(kern), 600e-6))  # slower, same kernels
    assert e.part("unexplained").share == pytest.approx(1.0, abs=0.05)
    assert e.part("unexplained").delta_s == pytest.approx(100e-6, rel=0.05)
    assert e.parts[-1].name == "unexplained"


def test_collectives_hidden_behind_compute_do_not_count_as_step_time():
    kern = [(GEMM, 1000.0)]
    ta = T.synthetic(kern, comm=[(NCCL, 300.0, 0.0)])           # fully overlapped
    tb = T.synthetic(kern, comm=[(NCCL, 300.0, 900.0)])         # 200 us exposed past the GEMM
    e = explained(side(ta, 1000e-6), side(tb, 1200e-6))
    assert e.communication["a"] == pytest.approx((300e-6, 0.0))
    assert e.communication["b"] == pytest.approx((300e-6, 200e-6))
    total = sum(p.delta_s for p in e.parts if p.name != "unexplained")
    assert total == pytest.approx(200e-6, rel=0.1)


@pytest.fixture(scope="module")
def planted():
    a = T.gpu_trace()
    b, planted_us = T.plant(a)
    step_a = 0.0375
    return side(a, step_a), side(b, step_a + planted_us / 3 / 1e6), planted_us


def test_the_committed_gpu_trace_with_planted_kernels_adds_up(planted):
    a, b, planted_us = planted
    e = explained(a, b)
    assert e.delta_s == pytest.approx(planted_us / 3e6, rel=0.01)
    explained_s = sum(p.delta_s for p in e.parts if p.name != "unexplained")
    assert explained_s == pytest.approx(e.delta_s, rel=0.10)
    assert abs(e.part("unexplained").share) < 0.10
    # the multiply is new; the add matches the trace's own add kernels and grew
    assert [k["label"] for k in e.kernels["new"]] == ["mul"]
    add = next(k for k in e.kernels["moved"] if k["label"] == "add")
    assert add["delta_s"] == pytest.approx(36 * 60 / 3 / 1e6, rel=0.01)  # 36 GELUs in 3 steps, 60 us each
    assert "elementwise kernels" in e.lead and "mul new in B" in e.lead and "add +" in e.lead
    assert e.lead.endswith("explain 100%")
    assert e.kernels["kernels_from"] == ["trace"]
    # the loop thread's CPU time per step, from the trace: busy, but below the GPU-bound step
    assert 0.01 < e.host["host_cpu_s_a"] < e.step_a_s and e.host["host_cpu_s_b"] == pytest.approx(e.host["host_cpu_s_a"])


def test_from_the_rows_top_ten_alone_the_categories_still_add_up(planted):
    (ra, _), (rb, _), _ = planted
    e = explain.explain_config(ra, rb)  # no traces: the rows' top-10 lists
    assert abs(e.part("unexplained").share) < 0.10
    assert e.part("device: norm_elementwise").share == pytest.approx(1.0, abs=0.1)
    assert any("top-10" in n for n in e.notes)


def test_shares_carry_their_spread_over_repeats(planted):
    a, b, _ = planted
    p = explained(a, b).part("unexplained")
    assert p.share_low < p.share < p.share_high  # the repeats' jitter is in no part


def test_no_profile_and_unknown_configs_are_errors_that_say_what_to_do(planted):
    (ra, _), (rb, _), _ = planted
    bare = ra.drop(columns=[c for c in ra if c.startswith("profile_")])
    with pytest.raises(explain.ExplainError, match="--profile"):
        explain.explain_config(bare, rb)
    with pytest.raises(explain.ExplainError, match="not in both runs"):
        explain.explain_runs(ra, rb, config="nope")
    assert explain.profiled(ra) and not explain.profiled(bare)


def test_memory_says_what_grew(planted):
    (ra, ta), (rb, tb), _ = planted
    ra = ra.assign(peak_allocated_bytes=10e9, activations_workspace_bytes=8e9, params_bytes=1e9)
    rb = rb.assign(peak_allocated_bytes=12e9, activations_workspace_bytes=10e9, params_bytes=1e9)
    e = explained((ra, ta), (rb, tb))
    assert e.memory["peak_allocated_bytes"] == (10e9, 12e9)
    assert e.memory["grew_most"] == "activations_workspace_bytes"


def test_engine_hook_time_and_kernel_launches_per_step():
    kern = [(GEMM, 500.0), (LN, 100.0), (LN, 100.0)]
    ta, tb = T.synthetic(kern), T.synthetic(kern, gap_us=300.0)
    # three steps, each with two nested FSDP hook annotations on the host: 250 us of hook time a step
    tb["traceEvents"] += [{"ph": "X", "cat": "user_annotation", "name": name, "ts": s * 2000.0 + off, "dur": dur,
                           "tid": 1, "args": {}}
                          for s in range(3) for name, off, dur in (("FSDP::pre_forward", 0.0, 200.0),
                                                                   ("FSDP::all_gather", 50.0, 100.0),
                                                                   ("FSDP::post_backward", 300.0, 50.0))]
    e = explained(side(ta, 700e-6), side(tb, 1600e-6))
    assert e.host["hook_s_a"] == 0.0 and e.host["hook_s_b"] == pytest.approx(250e-6)
    assert e.kernels["launches"]["norm_elementwise"] == (2.0, 2.0)
    assert e.kernels["launches"]["matmul"] == (1.0, 1.0)


def test_a_change_no_part_accounts_for_says_so():
    kern = [(GEMM, 500.0)]
    e = explained(side(T.synthetic(kern), 600e-6), side(T.synthetic([(GEMM, 550.0)]), 500e-6))  # faster, more work
    assert e.lead.startswith("-16.7% step time: not accounted for by the profile (unexplained")
    same = explained(side(T.synthetic(kern), 500e-6), side(T.synthetic(kern), 500e-6))
    assert same.lead == "+0.0% step time: no change to explain"


def test_leads_only_for_verdicts_and_without_traces_for_large_sweeps(monkeypatch, tmp_path):
    import gzip
    import json

    kern = [(GEMM, 600.0), (LN, 200.0)]
    ta, tb = T.synthetic(kern), T.synthetic([*kern, (T.MUL, 100.0)])
    for d, tr in (("a", ta), ("b", tb)):
        (tmp_path / d / "t").mkdir(parents=True)
        with gzip.open(tmp_path / d / "t" / "trace.json.gz", "wt") as f:
            json.dump(tr, f)
    ra, _ = side(ta, 800e-6, profile_trace="t/trace.json.gz")
    rb, _ = side(tb, 900e-6, profile_trace="t/trace.json.gz")
    verdicts = pd.DataFrame({"config_id": ["cfg"], "verdict": ["slower"]})
    got = explain.leads(ra, rb, verdicts, tmp_path / "a", tmp_path / "b")
    assert got == {"cfg": "+12.5% step time: one elementwise kernel (mul new in B) explains 100%"}
    assert explain.leads(ra, rb, verdicts.assign(verdict="same within noise")) == {}
    monkeypatch.setattr(explain, "MAX_TRACED", 0)
    assert "mul new in B" in explain.leads(ra, rb, verdicts, tmp_path / "a", tmp_path / "b")["cfg"]  # top-10 lists


def test_exposed_collective_time_from_the_rows_alone():
    kern = [(GEMM, 1000.0)]
    ta = T.synthetic(kern, comm=[(NCCL, 300.0, 0.0)])
    tb = T.synthetic(kern, comm=[(NCCL, 300.0, 900.0)])
    assert trace_summary.summarize(ta)["profile_communication_exposed_us"] == pytest.approx(0.0)
    assert trace_summary.summarize(tb)["profile_communication_exposed_us"] == pytest.approx(3 * 200.0)
    assert "profile_communication_exposed_us" not in trace_summary.summarize(T.synthetic(kern))
    (ra, _), (rb, _) = side(ta, 1000e-6), side(tb, 1200e-6)
    e = explain.explain_config(ra, rb)  # no traces
    assert e.communication["b"] == pytest.approx((300e-6, 200e-6))
    assert sum(p.delta_s for p in e.parts if p.name != "unexplained") == pytest.approx(200e-6, rel=0.1)


ADD_U = ("void at::native::unrolled_elementwise_kernel<at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>, 4>"
         "(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)")


def test_a_lead_names_each_kernel_once():
    """Two kernels folded apart (vectorized and unrolled add) share the label `add`: the lead says it once."""
    ta = T.synthetic([(GEMM, 600.0), (T.ADD, 100.0), (ADD_U, 100.0)])
    tb = T.synthetic([(GEMM, 600.0), (T.ADD, 130.0), (ADD_U, 130.0)])
    e = explained(side(ta, 800e-6), side(tb, 950e-6))  # the kernels explain 40%: the category leads
    assert [k["label"] for k in e.kernels["moved"][:2]] == ["add", "add"]
    assert "elementwise device time (add) +0.06 ms/step" in e.lead
