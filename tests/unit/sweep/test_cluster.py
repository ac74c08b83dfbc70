"""Launcher settings for configs that span machines (cluster.py) and the sweep on several nodes:
two `benchbench run` processes on this machine stand in for two machines (gloo, static rendezvous)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap

import pytest

from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.sweep.cluster import PORTS, Cluster, ClusterError

WORKER = ["benchbench.worker.measure", "cfg.json", "out.json"]


def test_settings_come_from_the_scheduler_when_not_given():
    assert Cluster.from_settings(environ={"SLURM_NODEID": "3"}).node_rank == 3
    assert Cluster.from_settings(environ={"NODE_RANK": "1", "SLURM_NODEID": "3"}).node_rank == 1
    assert Cluster.from_settings(2, environ={"SLURM_NODEID": "3"}).node_rank == 2
    assert Cluster.from_settings(environ={}).leader


@pytest.mark.parametrize("kwargs, message", [
    ({"rdzv_endpoint": "node001"}, "expected HOST:PORT of node 0"),
    ({"rdzv_endpoint": "node001:http"}, "expected HOST:PORT of node 0"),
    ({"node_rank": -1}, "must be 0 (the machine that records) or more"),
    ({"hostfile": "/no/such/hostfile"}, "no such file"),
])
def test_bad_settings_say_what_is_expected(kwargs, message):
    with pytest.raises(ClusterError, match=re.escape(message)):
        Cluster.from_settings(environ={}, **kwargs)


def test_torchrun_static_rendezvous_one_port_per_slot():
    c = Cluster(node_rank=1, rdzv_endpoint="node001:29500")
    cmd = c.command(RunConfig(engine="ddp", world_size=8, nnodes=2), WORKER, slot=PORTS + 3)
    assert cmd[:2] == ["-m", "torch.distributed.run"]
    args = dict(zip(cmd[2::2], cmd[3::2]))
    assert args["--nnodes"] == "2" and args["--node-rank"] == "1" and args["--nproc-per-node"] == "4"
    assert args["--master-addr"] == "node001" and args["--master-port"] == "29503"
    assert cmd[-4:] == ["--module", *WORKER]


def test_deepspeed_hostfile_launcher(tmp_path):
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("node001 slots=4\nnode002 slots=4\n")
    c = Cluster.from_settings(hostfile=str(hostfile), environ={})
    cmd = c.command(RunConfig(engine="deepspeed", world_size=8, nnodes=2), WORKER, slot=1)
    assert cmd[:2] == ["-m", "deepspeed.launcher.runner"]
    assert cmd[cmd.index("--hostfile") + 1] == str(hostfile) and cmd[cmd.index("--num_gpus") + 1] == "4"
    assert "--no_local_rank" in cmd and cmd[-4:] == ["--module", *WORKER]
    # one machine: torchrun, hostfile or not
    assert "--standalone" in c.command(RunConfig(engine="ddp", world_size=2), WORKER, 0)


def test_multi_machine_configs_without_settings_are_skipped():
    cfg = RunConfig(engine="ddp", world_size=2, nnodes=2)
    assert Cluster().skip_reason(cfg).startswith("nnodes=2 needs the launch settings: --node-rank R and --rdzv-endpoint")
    assert Cluster(node_rank=2, rdzv_endpoint="h:1").skip_reason(cfg).startswith("node rank 2 is not among nnodes=2")
    assert Cluster(node_rank=0, rdzv_endpoint="h:1").skip_reason(cfg) is None
    assert Cluster().skip_reason(RunConfig()) is None


SUITE = """\
name: two-nodes
model: {name: gpt, size: tiny}
defaults: {device: cpu, engine: ddp, world_size: 2, batch_size: 2, seq_len: 32, warmup_steps: 1, measured_steps: 3,
           timeout_s: 240, collect: [memory]}
sweep:
  nnodes: [1, 2]
"""


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SLURM_NODEID", None)
    env.pop("NODE_RANK", None)
    return subprocess.Popen([sys.executable, "-m", "benchbench.cli", "run", *args, "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, **kw)


@pytest.mark.slow
def test_two_machines_one_run_directory(tmp_path):
    """Node 1 starts first and waits; node 0 runs the one-machine config alone, announces the
    two-machine one, both start their rank, node 0 merges both ranks' results into one row."""
    suite = tmp_path / "two.yaml"
    suite.write_text(textwrap.dedent(SUITE))
    run_dir, port = tmp_path / "run", random.randint(20000, 40000)
    follower = _cli(str(suite), "-o", str(run_dir), "--node-rank", "1", "--rdzv-endpoint", f"127.0.0.1:{port}")
    leader = _cli(str(suite), "-o", str(run_dir), "--node-rank", "0", "--rdzv-endpoint", f"127.0.0.1:{port}")
    out_leader, _ = leader.communicate(timeout=600)
    out_follower, _ = follower.communicate(timeout=120)
    assert leader.returncode == 0, out_leader
    assert follower.returncode == 0 and "started its ranks for 1 runs" in out_follower, out_follower
    df = results.load(run_dir).set_index("nnodes")
    assert list(df["status"]) == ["ok", "ok"], df.get("reason")
    assert len(df.loc[2, "peak_rss_bytes_per_rank"]) == 2
    assert (run_dir / "logs" / f"{df.loc[2, 'config_id']}-r0.node1.log").exists()
    assert not any(p.name.endswith(".node1.log") for p in (run_dir / "logs").iterdir() if df.loc[1, "config_id"] in p.name)


def test_cli_refuses_bad_multi_machine_input(tmp_path):
    suite = tmp_path / "two.yaml"
    suite.write_text(textwrap.dedent(SUITE))
    p = _cli(str(suite), "--node-rank", "0", "--rdzv-endpoint", "127.0.0.1:1")
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 2 and "configs with nnodes > 1 need -o/--output" in out, out
    p = _cli(str(suite), "-o", str(tmp_path / "r"), "--rdzv-endpoint", "nohost")
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 2 and "expected HOST:PORT of node 0" in out and "Traceback" not in out, out
