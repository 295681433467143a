"""Thin Hugging Face Hub upload. Downloads live in `metadata.download_from_hub`."""

from __future__ import annotations

from pathlib import Path

from robotlearn.datasets.metadata import CODEBASE_VERSION


def push_to_hub(
    root: Path, repo_id: str, private: bool = False, tags: list[str] | None = None, push_videos: bool = True
) -> None:
    """Upload `root` as a dataset repo and (re)create the `v3.0` tag so readers find this revision."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    ignore = ["images/", "*.tmp", ".*"] + ([] if push_videos else ["videos/"])
    api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(root), ignore_patterns=ignore)
    try:
        api.delete_tag(repo_id, tag=CODEBASE_VERSION, repo_type="dataset")
    except Exception:  # the tag does not exist yet on a fresh repo
        pass
    api.create_tag(repo_id, tag=CODEBASE_VERSION, repo_type="dataset")
