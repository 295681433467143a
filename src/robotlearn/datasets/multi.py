"""Several LeRobotDatasets read as one, for training one policy on all of them (multi-task, multi-robot).

    metas = [LeRobotDatasetMetadata(f"local/{r}", root=r) for r in ("data/pusht", "data/lang_pusht")]
    meta = MultiDatasetMetadata(metas)          # what a policy is built from (features, tasks, stats)
    dataset = MultiLeRobotDataset([LeRobotDataset(m.repo_id, root=m.root, ...) for m in metas], meta)
    sample = dataset[i]                         # the sample of dataset k, padded; sample["dataset_index"] == k

The datasets must share fps and cameras (same keys and shapes). Features that not every dataset
has are dropped. A 1-D feature (observation.state, action, ...) whose width differs between the
datasets is zero-padded to the widest, and its sample carries `<key>_dim_mask`, True on the
dimensions its own dataset has (action: (A,), the loss is masked with it; the VLA policy reads it
as `action_dim_mask`). Normalization statistics are pooled per dimension over the datasets that
have that dimension (count-weighted, `aggregate_stats`): for datasets of one robot this is the
ordinary pooled statistic; for robots whose i-th dimensions mean different things it is a
compromise (per-robot normalization is not built).

Which dataset a training step draws from is the sampler's business (training/sampler.py,
`WeightedResumableSampler`); here index i simply runs over dataset 0's frames, then dataset 1's.
"""

from __future__ import annotations

import bisect

import numpy as np
import torch

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.stats import aggregate_stats

DATASET_INDEX_KEY = "dataset_index"
"""Sample key: which of the datasets (0, 1, ...) the sample came from, int64 scalar tensor."""
DIM_MASK_SUFFIX = "_dim_mask"
"""`<key>_dim_mask`: (W,) bool, True on the dimensions the sample's dataset really has."""


def _is_vector(ft: dict) -> bool:
    return len(ft["shape"]) == 1 and ft["dtype"] not in ("string", "image", "video")


class MultiDatasetMetadata:
    """The metadata a policy is built from for several datasets at once (the subset of
    `LeRobotDatasetMetadata` that `make_policy_from_config` reads: features, tasks, stats, fps).

    Args:
        metas: one `LeRobotDatasetMetadata` per dataset, in order.

    Raises DatasetError naming every dataset whose fps or cameras differ from the first's."""

    def __init__(self, metas: list):
        if not metas:
            raise DatasetError("MultiDatasetMetadata: no datasets given")
        self.metas = list(metas)
        first = self.metas[0]
        problems = []
        for m in self.metas[1:]:
            if m.fps != first.fps:
                problems.append(f"{m.root} has fps={m.fps}, {first.root} fps={first.fps}")
            for key in set(m.camera_keys) | set(first.camera_keys):
                a, b = first.features.get(key), m.features.get(key)
                if a is None or b is None or list(a["shape"]) != list(b["shape"]):
                    shape = lambda ft: "absent" if ft is None else list(ft["shape"])  # noqa: E731
                    problems.append(f"camera {key!r}: {shape(a)} in {first.root} but {shape(b)} in {m.root}")
        if problems:
            raise DatasetError(
                "datasets trained on together must share fps and cameras: "
                + "; ".join(problems)
                + ". Record them alike, or train on them separately."
            )
        shared = [k for k in first.features if all(k in m.features for m in self.metas)]
        self.features: dict[str, dict] = {}
        self.widths: dict[str, list[int]] = {}  # 1-D key -> its width in each dataset
        for key in shared:
            specs = [m.features[key] for m in self.metas]
            if all(_is_vector(ft) for ft in specs):
                widths = [int(ft["shape"][0]) for ft in specs]
                widest = specs[int(np.argmax(widths))]
                self.features[key] = {**widest, "shape": [max(widths)]}
                self.widths[key] = widths
            else:
                self.features[key] = specs[0]
        self.tasks: list[str] = list(dict.fromkeys(t for m in self.metas for t in m.tasks))
        self.stats = self._pooled_stats()

    @property
    def padded_keys(self) -> list[str]:
        """1-D features whose width differs between the datasets (their samples carry `<key>_dim_mask`)."""
        return [k for k, w in self.widths.items() if len(set(w)) > 1]

    @property
    def fps(self) -> int:
        return self.metas[0].fps

    @property
    def root(self):
        """None: several datasets have no single root."""
        return None

    @property
    def repo_id(self) -> str:
        return "+".join(m.repo_id for m in self.metas)

    @property
    def camera_keys(self) -> list[str]:
        return [k for k in self.metas[0].camera_keys if k in self.features]

    @property
    def total_frames(self) -> int:
        return sum(m.total_frames for m in self.metas)

    @property
    def total_episodes(self) -> int:
        return sum(m.total_episodes for m in self.metas)

    def _pooled_stats(self) -> dict[str, dict[str, np.ndarray]]:
        """Per feature, the count-weighted pooled statistics over the datasets; a padded 1-D feature
        is pooled per run of dimensions over the datasets that have those dimensions."""
        out = {}
        for key in self.features:
            have = [(m.stats[key], self.widths.get(key, [None] * len(self.metas))[i]) for i, m in enumerate(self.metas)]
            have = [(s, w) for s, w in have if s]
            if not have:
                continue
            if key not in self.padded_keys:
                out[key] = aggregate_stats([{key: s} for s, _ in have])[key]
                continue
            cuts = sorted({0, *(w for _, w in have)})
            pieces: dict[str, list[np.ndarray]] = {}
            for lo, hi in zip(cuts, cuts[1:]):
                part = [{key: _slice_stats(s, lo, hi)} for s, w in have if w >= hi]
                for name, value in aggregate_stats(part)[key].items():
                    pieces.setdefault(name, []).append(value)
            out[key] = {
                name: (values[0] if name == "count" else np.concatenate(values)) for name, values in pieces.items()
            }
            out[key]["count"] = np.array([sum(int(np.asarray(s["count"]).reshape(-1)[0]) for s, _ in have)])
        return out


def _slice_stats(stats: dict[str, np.ndarray], lo: int, hi: int) -> dict[str, np.ndarray]:
    """Dimensions lo..hi-1 of a 1-D feature's statistics (the count unchanged)."""
    return {name: (v if name == "count" else np.asarray(v).reshape(-1)[lo:hi]) for name, v in stats.items()}


class MultiLeRobotDataset(torch.utils.data.Dataset):
    """Several datasets as one map-style dataset: index i runs over dataset 0's frames, then
    dataset 1's, ... Each sample holds the features `meta` keeps (1-D ones zero-padded to the widest,
    with `<key>_dim_mask` for those whose width differs), their `_is_pad` masks, "task",
    "dataset_index" and "index" (its position in this concatenation, unique across datasets).

    Args:
        datasets: the LeRobotDatasets (built with the same delta_timestamps), in `meta`'s order.
        meta: their `MultiDatasetMetadata`.
    """

    def __init__(self, datasets: list, meta: MultiDatasetMetadata):
        if len(datasets) != len(meta.metas):
            raise ValueError(f"{len(datasets)} datasets for metadata of {len(meta.metas)}")
        self.datasets, self.meta = list(datasets), meta
        self.sizes = [len(d) for d in self.datasets]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64).tolist()
        self._keep = set(meta.features) | {"task"}
        self._padded = {key: meta.widths[key] for key in meta.padded_keys}

    @property
    def num_episodes(self) -> int:
        return sum(d.num_episodes for d in self.datasets)

    @property
    def fps(self) -> int:
        return self.meta.fps

    def __len__(self) -> int:
        return self.offsets[-1]

    def locate(self, idx: int) -> tuple[int, int]:
        """Index in the concatenation -> (dataset, index in that dataset). IndexError if out of range."""
        if not 0 <= idx < len(self):
            raise IndexError(f"index {idx} out of range for {len(self)} frames in {len(self.datasets)} datasets")
        k = bisect.bisect_right(self.offsets, idx) - 1
        return k, idx - self.offsets[k]

    def __getitem__(self, idx: int) -> dict:
        k, local = self.locate(int(idx))
        raw = self.datasets[k][local]
        sample = {
            key: value for key, value in raw.items() if key in self._keep or key.removesuffix("_is_pad") in self._keep
        }
        for key, widths in self._padded.items():
            width, own = max(widths), widths[k]
            value = sample[key]
            sample[key] = torch.nn.functional.pad(value, (0, width - own))  # (..., own) -> (..., width)
            mask = torch.zeros(width, dtype=torch.bool)
            mask[:own] = True
            sample[key + DIM_MASK_SUFFIX] = mask
        sample["index"] = torch.tensor(idx, dtype=torch.int64)
        sample[DATASET_INDEX_KEY] = torch.tensor(k, dtype=torch.int64)
        return sample
