"""yaml_loader: aliases counted as expanded before any tree is built; cycles and deep nesting refused."""

import pytest
import yaml

from benchbench.spec import yaml_loader
from benchbench.spec.yaml_loader import Loader, YamlLimitError, compose_checked, expanded_size


def test_expanded_size_counts_each_alias_as_its_whole_subtree():
    node = yaml.compose("a: &x [1, 2, 3]\nb: [*x, *x]\n", Loader=Loader)
    # mapping 1 + keys a, b (2) + list x (4) + list [x, x] (1 + 2 * 4)
    assert expanded_size(node) == 1 + 2 + 4 + 9


def test_a_document_at_the_limit_loads_and_one_past_it_is_refused(monkeypatch):
    monkeypatch.setattr(yaml_loader, "MAX_NODES", 1 + 2 + 4 + 9)
    data, _ = compose_checked("a: &x [1, 2, 3]\nb: [*x, *x]\n")
    assert data == {"a": [1, 2, 3], "b": [[1, 2, 3], [1, 2, 3]]}
    with pytest.raises(YamlLimitError, match="expands to more than"):
        compose_checked("a: &x [1, 2, 3]\nb: [*x, *x, 4]\n")


@pytest.mark.parametrize("text", ["a: &s [*s]\n", "a: &m {b: *m}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(text):
    with pytest.raises(YamlLimitError, match="endless"):
        compose_checked(text)


def test_deep_nesting_is_refused_not_a_recursion_error():
    with pytest.raises(YamlLimitError, match="nested too deeply"):
        compose_checked("a: " + "[" * 20000 + "]" * 20000)


def test_an_empty_document():
    assert compose_checked("") == (None, None)
