"""Several machines: the launcher settings a config with nnodes > 1 runs under.

benchbench orchestrates nothing across machines itself: a config's ranks are started by
torchrun (static rendezvous: node 0 hosts it at --rdzv-endpoint, each machine names its
--node-rank) or by DeepSpeed's launcher from a hostfile (it reaches the other machines itself,
through pdsh/ssh). With torchrun, `benchbench run` runs on every machine (e.g. one task per node
under Slurm's srun): node 0 leads and records the rows; the others follow the same sweep,
start their ranks for each config, and record nothing. Either way the run directory must be on
a filesystem every machine sees: each rank writes its result there, and node 0 merges them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from benchbench.basics.errors import UserError

# Each (config, repeat) of a sweep rendezvouses on its own port, PORT + slot % PORTS, so a machine
# that starts the next config early never meets the previous config's store on node 0.
PORTS = 32
# How long node 0 waits for other machines' rank results to appear on the shared filesystem.
RESULT_WAIT_S = 60.0


ClusterError = UserError  # a multi-machine setting that cannot be used


@dataclass(frozen=True)
class Cluster:
    node_rank: int | None = None
    rdzv_endpoint: str | None = None  # host:port of node 0
    hostfile: str | None = None

    @property
    def leader(self) -> bool:
        return not self.node_rank

    @classmethod
    def from_settings(cls, node_rank=None, rdzv_endpoint=None, hostfile=None, environ=os.environ) -> Cluster:
        """CLI values, else the scheduler's environment (NODE_RANK, or Slurm's SLURM_NODEID)."""
        if node_rank is None:
            found = environ.get("NODE_RANK") or environ.get("SLURM_NODEID")
            node_rank = int(found) if found and found.isdigit() else None
        if rdzv_endpoint is not None:
            host, _, port = rdzv_endpoint.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536 - PORTS:
                raise ClusterError(f"--rdzv-endpoint {rdzv_endpoint!r}: expected HOST:PORT of node 0, e.g. node001:29500 "
                                   f"(ports PORT..PORT+{PORTS - 1} are used)")
        if node_rank is not None and node_rank < 0:
            raise ClusterError(f"--node-rank {node_rank}: must be 0 (the machine that records) or more")
        if hostfile is not None and not os.path.isfile(hostfile):
            raise ClusterError(f"--hostfile {hostfile}: no such file (DeepSpeed's format: one 'HOST slots=N' per line)")
        if hostfile and rdzv_endpoint:
            raise ClusterError("--hostfile (DeepSpeed's launcher) and --rdzv-endpoint (torchrun) are two ways to start "
                               "the ranks; give one")
        if hostfile and node_rank:
            raise ClusterError("with --hostfile only node 0 runs benchbench (DeepSpeed's launcher starts the other "
                               f"machines' ranks); --node-rank {node_rank} has nothing to do")
        return cls(node_rank, rdzv_endpoint, hostfile)

    def skip_reason(self, cfg) -> str | None:
        if cfg.nnodes == 1:
            return None
        if self.hostfile:
            return None
        if self.rdzv_endpoint is None or self.node_rank is None:
            return (f"nnodes={cfg.nnodes} needs the launch settings: --node-rank R and --rdzv-endpoint HOST:PORT on every "
                    "machine (torchrun), or --hostfile FILE (DeepSpeed's launcher)")
        if self.node_rank >= cfg.nnodes:
            return f"node rank {self.node_rank} is not among nnodes={cfg.nnodes}; this machine has no ranks in it"
        return None

    def command(self, cfg, worker: list[str], slot: int) -> list[str]:
        """The launcher command line for a config of world_size > 1 (python's arguments, without python)."""
        per_node = cfg.world_size // cfg.nnodes
        if cfg.nnodes > 1 and self.hostfile:
            return ["-m", "deepspeed.launcher.runner", "--hostfile", self.hostfile, "--num_nodes", str(cfg.nnodes),
                    "--num_gpus", str(per_node), "--master_port", str(29500 + slot % PORTS), "--no_local_rank",
                    "--module", *worker]
        if cfg.nnodes > 1:
            host, _, port = self.rdzv_endpoint.rpartition(":")
            return ["-m", "torch.distributed.run", "--nnodes", str(cfg.nnodes), "--node-rank", str(self.node_rank),
                    "--nproc-per-node", str(per_node), "--master-addr", host, "--master-port",
                    str(int(port) + slot % PORTS), "--max-restarts", "0", "--module", *worker]
        # one machine: a free rendezvous port of its own, no restarts; one rank failing ends all
        return ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(per_node), "--max-restarts", "0",
                "--module", *worker]


LOCAL = Cluster()
