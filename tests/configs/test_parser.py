from dataclasses import dataclass, field

import pytest

from robotlearn.configs import ConfigError, parse_config


@dataclass
class DatasetArgs:
    root: str = field(default="data", metadata={"help": "Where the dataset lives."})
    num_episodes: int = 3
    fps: float | None = None


@dataclass
class RecordArgs:
    dataset: DatasetArgs = field(default_factory=DatasetArgs)
    resume: bool = field(default=False, metadata={"help": "Append to an existing dataset."})
    cams: list[str] = field(default_factory=list)


def test_dotted_flags_override_nested_defaults():
    args = parse_config(RecordArgs, ["--dataset.root=/tmp/x", "--dataset.num_episodes", "7", "--resume", "--cams=a,b"])
    assert args.dataset.root == "/tmp/x"
    assert args.dataset.num_episodes == 7
    assert args.dataset.fps is None
    assert args.resume is True
    assert args.cams == ["a", "b"]


def test_unknown_flag_suggests_the_closest_one():
    with pytest.raises(ConfigError, match="did you mean --dataset.num_episodes"):
        parse_config(RecordArgs, ["--dataset.num_episode=3"])


def test_bad_value_names_the_flag():
    with pytest.raises(ConfigError, match="--dataset.num_episodes"):
        parse_config(RecordArgs, ["--dataset.num_episodes=many"])


def test_help_lists_every_flag_with_its_help(capsys):
    with pytest.raises(SystemExit):
        parse_config(RecordArgs, ["--help"], prog="robotlearn record")
    out = capsys.readouterr().out
    assert "--dataset.root" in out and "Where the dataset lives." in out and "--resume" in out


def test_flags_rendered_from_a_config_rebuild_it_including_a_dict_of_camera_configs():
    from robotlearn.configs import config_to_flags
    from robotlearn.recording.session import RecordConfig

    cfg = parse_config(
        RecordConfig,
        [
            "--robot.type=sim_arm",
            "--teleop.type=sim_arm_leader",
            "--robot.seed=3",
            '--robot.cameras={"f": {"type": "sim", "width": 32}}',
        ],
    )
    flags = config_to_flags(cfg)
    assert flags[0] == "--robot.type=sim_arm" and "--teleop.type=sim_arm_leader" in flags
    assert parse_config(RecordConfig, flags) == cfg
    assert cfg.robot.cameras["f"].width == 32
