"""`robotlearn dataset view`: look at a dataset in a browser (a folder that opens from file://) or in rerun.

robotlearn dataset view data/pusht                       # writes outputs/viewer/pusht/index.html
robotlearn dataset view --root=https://example.org/pusht --output=outputs/viewer/remote
robotlearn dataset view data/pusht --episode=3 --rerun=pusht_ep3.rrd   # extra "viz"; open with `rerun pusht_ep3.rrd`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robotlearn.configs import ConfigError, parse_config


@dataclass
class ViewConfig:
    """`robotlearn dataset view`."""

    root: str = ""
    """Dataset folder or remote root (http(s)://, s3://, hf://datasets/user/name); may also come first, without --root=."""
    output: str = ""
    """Viewer folder to write (default: outputs/viewer/<dataset name>); replaced if an earlier view wrote it."""
    episode: int | None = None
    """Only this episode (default: every episode)."""
    rerun: str = ""
    """Write a rerun recording (.rrd) to this path instead of the HTML viewer (extra 'viz')."""


CONFIG = ViewConfig


def main(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-"):  # `robotlearn dataset view ROOT ...`
        argv = [f"--root={argv[0]}", *argv[1:]]
    args = parse_config(ViewConfig, argv, prog="robotlearn dataset view", description=__doc__)
    if not args.root:
        raise ConfigError("a dataset is required: robotlearn dataset view ROOT (or --root=ROOT)")
    episodes = None if args.episode is None else [args.episode]
    if args.rerun:
        from robotlearn.viewer import write_rrd

        summary = write_rrd(args.root, args.rerun, episodes=episodes)
        print(
            f"wrote {summary.path}: {summary.episodes} episodes, {summary.frames} frames (open it with: rerun {summary.path})"
        )
        return 0
    from robotlearn.viewer import write_viewer

    output = args.output or str(Path("outputs") / "viewer" / (args.root.rstrip("/").rsplit("/", 1)[-1] or "dataset"))
    result = write_viewer(args.root, output, episodes=episodes)
    mb = (result.video_bytes + result.other_bytes) / 1e6
    print(
        f"wrote {result.index} ({result.episodes} episodes, {mb:.1f} MB); open it in a browser: {result.index.resolve().as_uri()}"
    )
    return 0
