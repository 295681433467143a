"""docs/vla.md's knob table lists every VLA config field with the code's default, and its
multi-dataset table the --dataset.roots/--dataset.weights defaults."""

import json
import re
from pathlib import Path

from robotlearn.configs import flag_table
from robotlearn.configs.parser import _default_of
from robotlearn.policies.vla.config import VLAConfig
from robotlearn.training.train import DatasetConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "vla.md"
NOT_KNOBS = {"type", "features"}  # the policy's name, and the shapes filled from the dataset


def documented(section: str) -> dict:
    return {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"^\| `--([\w.]+)` \| `(.*?)` \|", section, re.M)}


def test_every_vla_knob_is_documented_with_the_codes_default():
    section = DOC.read_text().split("## Knobs", 1)[1].split("## ", 1)[0]
    docs = documented(section)
    code = {f"policy.{path}": _default_of(f) for path, (_, f) in flag_table(VLAConfig).items() if path not in NOT_KNOBS}
    code.update(
        {
            f"dataset.{name}": _default_of(f)
            for name, (_, f) in flag_table(DatasetConfig).items()
            if name in ("roots", "weights")
        }
    )
    assert set(docs) == set(code), (sorted(set(code) - set(docs)), sorted(set(docs) - set(code)))
    for flag, value in code.items():
        assert docs[flag] == (list(value) if isinstance(value, tuple) else value), flag
