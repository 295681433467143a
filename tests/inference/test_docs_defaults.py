"""docs/inference.md's flag tables list every flag of serve-policy and run-policy with the code's default."""

import json
import re
from pathlib import Path

import pytest

from robotlearn.configs import flag_table
from robotlearn.configs.parser import _default_of
from robotlearn.inference.run import RunPolicyConfig
from robotlearn.inference.serve import ServePolicyConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "inference.md"


def documented(command: str) -> dict:
    text = DOC.read_text()
    section = text.split(f"### `robotlearn {command}`", 1)[1].split("###", 1)[0]
    return {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"^\| `--([\w.]+)` \| `(.*?)` \|", section, re.M)}


@pytest.mark.parametrize("command,config", [("serve-policy", ServePolicyConfig), ("run-policy", RunPolicyConfig)])
def test_every_documented_default_equals_the_codes(command, config):
    code = {
        path: _default_of(f)
        for path, (_, f) in flag_table(config).items()
        if not path.startswith("robot.") or path == "robot.type"
    }
    docs = documented(command)
    assert set(docs) == set(code), (sorted(set(code) - set(docs)), sorted(set(docs) - set(code)))
    for flag, value in code.items():
        assert docs[flag] == (list(value) if isinstance(value, tuple) else value), flag
