"""Dataset tools: edit, repair and convert LeRobotDataset folders without losing a frame.

One module per operation, each a plain function (the `robotlearn dataset <operation>` commands
only parse flags and call these):

    validate(root, deep=False) -> Report          the doctor (validate.py)
    repair(root) -> (ToolResult, Report)          fixes what a crash leaves (repair.py)
    delete_episodes(root, "3,5-7", output=...)    (delete.py)
    split_dataset(root, output, fractions={"train": 0.8, "val": 0.2})   (split.py)
    merge_datasets([a, b], output)                (merge.py)
    remove_feature / rename_feature               (features.py)
    edit_tasks(root, rename={...}, set_task=...)  (tasks.py)
    recompute_stats(root, ...)                    (stats.py)
    reencode(root, output, vcodec=..., crf=...)   (reencode.py; also images_to_video)
    convert_v21(root, output)                     v2.1 -> v3.0 (convert.py)

Split, merge, delete and the feature/task edits copy video packets (frames stay bit-exact); only
reencode and images_to_video encode. Every operation writes a new folder through
`output.AtomicOutput` (or swaps it in with in_place=True): a crash leaves no output, or the old one.
"""

from robotlearn.datasets.tools.delete import delete_episodes
from robotlearn.datasets.tools.merge import merge_datasets
from robotlearn.datasets.tools.repair import repair
from robotlearn.datasets.tools.split import split_dataset
from robotlearn.datasets.tools.validate import Report, validate

__all__ = ["Report", "delete_episodes", "merge_datasets", "repair", "split_dataset", "validate"]
