"""Suite YAML, malformed and hostile: refused before any work with one line naming the file."""

import pytest

from tests.fault.conftest import contract

HEAD = "model: {name: gpt, size: tiny}\n"
BOMB = "name: bomb\n" + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)) + "sweep: {attention: *a8}\n"

CASES = {
    "alias bomb": (BOMB, "expands to more than"),
    "self-referencing alias": ("name: s\nsweep: &s {attention: [*s]}\n", "alias inside the node it names"),
    "deep nesting": ("name: d\nsweep: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "truncated": ("name: t\n" + HEAD + "sweep: {attention: [eager, sd", "not valid YAML"),
    "a list": ("- 1\n- 2\n", "a suite is a YAML mapping"),
    "empty": ("", "a suite is a YAML mapping"),
    "a billion repeats": ("name: r\n" + HEAD + "defaults: {repeats: 1000000000}\n", "repeats: 1000000000: must be at most"),
    "huge measured_steps": ("name: r\n" + HEAD + "defaults: {measured_steps: 10000000000}\n", "must be at most"),
    "min_steps above max_steps": ("name: r\n" + HEAD + "defaults: {measured_steps: auto, min_steps: 50, max_steps: 20}\n",
                                  "min_steps (50) is above max_steps (20)"),
    "repeats of the wrong type": ("name: r\n" + HEAD + "defaults: {repeats: [1, 2]}\n", "defaults.repeats"),
    "lone surrogate in the name": ('name: "\\ud800x"\n' + HEAD, "name:"),
    "control characters in the name": ('name: "a\\x1b[31mb\\nc"\n' + HEAD, "name:"),
    "control character in a value": ("name: c\n" + HEAD + 'sweep: {attention: ["eager\\u2028x"]}\n', "attention"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_suite_is_one_line_exit_2(bb, tmp_path, case):
    text, expect = CASES[case]
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    rc, out, err = bb("run", path, "-o", tmp_path / "run")
    contract(rc, err, path)
    assert expect in err and not (tmp_path / "run").exists()
    assert all("\n" not in line.strip("\n") and "\x1b" not in line for line in err.splitlines())


@pytest.mark.parametrize("data", [b"\xff\xfe\x00garbage\x00", b"name: x\n" + b"#" * (2 << 20)], ids=["binary", "huge"])
def test_binary_or_huge_suite_file(bb, tmp_path, data):
    path = tmp_path / "suite.yaml"
    path.write_bytes(data)
    rc, _, err = bb("run", path, "-o", tmp_path / "run")
    contract(rc, err, path)


def test_sweeps_too_large_to_expand_are_refused_even_with_yes(bb, tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text("name: wide\n" + HEAD + "sweep:\n" + "".join(f"  {k}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for k in
                    ("seed", "warmup_steps", "grad_accum", "measured_steps", "checkpoint_k", "batch_size", "seq_len")))
    rc, _, err = bb("run", path, "--yes", "-o", tmp_path / "run")
    contract(rc, err, path)
    assert "10,000,000 configs" in err


def test_the_yes_guard_counts_runs_not_configs(bb, tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text("name: many\n" + HEAD + "defaults: {device: cpu, repeats: 1000}\nsweep: {seed: [0, 1, 2, 3, 4, 5, 6, 7, "
                    "8, 9, 10]}\n")
    rc, _, err = bb("run", path, "-o", tmp_path / "run")
    contract(rc, err, path)
    assert "11,000 runs" in err and "--yes" in err and not (tmp_path / "run").exists()
