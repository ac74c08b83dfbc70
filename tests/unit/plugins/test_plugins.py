"""benchbench.plugins: names read from metadata without importing, each plug-in imported once, and every
way a plug-in can be wrong is a PluginError naming its distribution and entry point."""

from __future__ import annotations

import sys

import pytest

from benchbench import plugins


def test_names_come_from_metadata_and_import_nothing(toy):
    assert plugins.names("models") == ("toy",)
    assert plugins.names("techniques") == ("toy_scale",)
    assert plugins.names("engines") == ("toy_engine",)
    assert plugins.names("collectors") == ("toy_counter",)
    assert plugins.names("metrics") == ("toy_forward_calls_n",)
    assert not any(m.startswith("toybench") for m in sys.modules)


def test_a_plugin_is_imported_when_asked_for_and_once(toy):
    first = plugins.load("models", "toy")
    assert first.__name__ == "toybench.model" and "toybench.engine" not in sys.modules
    assert plugins.load("models", "toy") is first
    assert plugins.load("engines", "toy_engine").__name__ == "ToyEngine"  # module:object entry points too
    with pytest.raises(KeyError):
        plugins.load("models", "nope")


def test_no_plugins_installed_means_none():
    plugins.reset()
    assert all(plugins.names(kind) == () for kind in plugins.KINDS)


def test_a_plugin_that_cannot_import_names_its_distribution(package):
    package("brokenbench", """
        [benchbench.engines]
        fast = brokenbench_engine:Fast
        """, {"brokenbench_engine": "import no_such_module_anywhere\n"})
    assert plugins.names("engines") == ("fast",)  # still nothing imported
    with pytest.raises(plugins.PluginError) as e:
        plugins.load("engines", "fast")
    msg = str(e.value)
    assert "plug-in 'fast' cannot be imported: ModuleNotFoundError" in msg
    assert "entry point fast = brokenbench_engine:Fast (group benchbench.engines) of distribution brokenbench 0.1" in msg
    assert "\n" not in msg


def test_a_plugin_that_takes_a_builtin_name_is_refused(package):
    package("clashbench", """
        [benchbench.models]
        gpt = clashbench_model
        """)
    with pytest.raises(plugins.PluginError, match=r"plug-in 'gpt' clashes with the built-in model 'gpt': entry point "
                                                  r"gpt = clashbench_model .* of distribution clashbench 0.1; rename"):
        plugins.names("models", builtins=("gpt", "vit"))


def test_a_plugin_without_its_interface_is_refused(package):
    package("halfbench", """
        [benchbench.techniques]
        half = halfbench_technique
        """, {"halfbench_technique": "def skip_reason(cfg, dev):\n    return None\n"})
    with pytest.raises(plugins.PluginError, match=r"plug-in 'half' lacks apply, which a technique needs "
                                                  r"\(skip_reason, apply; docs/plugins.md\)"):
        plugins.load("techniques", "half")


def test_two_distributions_with_one_name_are_refused(package, tmp_path):
    package("onebench", "[benchbench.collectors]\nwatts = onebench:Watts\n")
    package("twobench", "[benchbench.collectors]\nwatts = twobench:Watts\n")
    with pytest.raises(plugins.PluginError, match="two plug-ins are named 'watts'.*onebench.*twobench|"
                                                  "two plug-ins are named 'watts'.*twobench.*onebench"):
        plugins.names("collectors")
