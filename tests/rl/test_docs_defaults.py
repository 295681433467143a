"""docs/rl.md's flag tables list every flag of rl-learner and rl-actor with the code's default
(the nested --policy.*, --env.* and --intervention.teleop.* options are listed by --help)."""

import json
import re
from pathlib import Path

import pytest

from robotlearn.configs import flag_table
from robotlearn.configs.parser import _default_of
from robotlearn.rl.actor import ActorConfig
from robotlearn.rl.learner import LearnerConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "rl.md"
LISTED_NESTED = {"env.type", "env.id", "policy.type"}


@pytest.mark.parametrize("command,config", [("rl-learner", LearnerConfig), ("rl-actor", ActorConfig)])
def test_every_documented_default_equals_the_codes(command, config):
    section = DOC.read_text().split(f"### `robotlearn {command}`", 1)[1].split("###", 1)[0]
    docs = {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"^\| `--([\w.]+)` \| `(.*?)` \|", section, re.M)}
    code = {
        path: _default_of(f)
        for path, (_, f) in flag_table(config).items()
        if not path.startswith(("policy.", "env.", "intervention.teleop.")) or path in LISTED_NESTED
    }
    assert set(docs) == set(code), (sorted(set(code) - set(docs)), sorted(set(docs) - set(code)))
    for flag, value in code.items():
        assert docs[flag] == (list(value) if isinstance(value, tuple) else value), flag
