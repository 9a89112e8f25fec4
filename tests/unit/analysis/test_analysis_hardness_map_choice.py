"""Which configuration the hardness maps (Fig. 19) show: a held-out one unless the user names an index."""

from __future__ import annotations

from taulc.analysis.sections.hardness import map_choice


def test_default_map_is_the_first_test_configuration_then_validation_then_first() -> None:
    split = {0: "train", 1: "train", 2: "val", 3: "test", 4: "test"}
    assert map_choice([0, 1, 2, 3, 4], split, None) == 3
    assert map_choice([0, 1, 2], split, None) == 2  # no test configuration of this rate: the validation one
    assert map_choice([0, 1], split, None) == 0
    assert map_choice([0, 1], {0: "mixed (random split)", 1: "mixed (random split)"}, None) == 0


def test_an_index_names_the_configuration_within_the_rate_clipped() -> None:
    assert map_choice([10, 11, 12], {10: "test"}, 1) == 11
    assert map_choice([10, 11, 12], {}, 9) == 12
