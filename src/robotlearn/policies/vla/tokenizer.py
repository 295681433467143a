"""The instruction tokenizer: a word-level vocabulary trained on the training data's own instructions.

No pretrained language model is reachable here (see docs/vla.md), so the VLA learns its language
from the benchmark's instructions. A word-level `tokenizers` model (lower-cased, split on
whitespace and punctuation) is the smallest thing that works: every word of a training
instruction gets an id, any other word maps to [UNK]. It saves as `tokenizer.json` (the
`tokenizers` JSON format, no pickle) beside the policy's config.json.

    tok = InstructionTokenizer.train(["push the red block to the top left corner"], vocab_size=1024)
    ids, mask = tok.encode_batch(["push the red block"], max_length=16)   # (1, 16) int64, (1, 16) bool
    tok.decode(ids[0])                                                    # "push the red block"
"""

from __future__ import annotations

from pathlib import Path

import torch

from robotlearn.errors import MissingDependencyError

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1


def _tokenizers():
    try:
        import tokenizers
    except ImportError as e:
        raise MissingDependencyError(
            f"the VLA policy's tokenizer needs the 'tokenizers' package: pip install 'robotlearn[vla]' ({e})"
        ) from e
    return tokenizers


class InstructionTokenizer:
    """Word-level instruction tokenizer ([PAD] = 0, [UNK] = 1), wrapping a `tokenizers.Tokenizer`."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        if tokenizer.token_to_id(PAD) != PAD_ID or tokenizer.token_to_id(UNK) != UNK_ID:
            raise ValueError(f"tokenizer must map {PAD} to {PAD_ID} and {UNK} to {UNK_ID}")

    @classmethod
    def train(cls, instructions: list[str], vocab_size: int = 1024) -> InstructionTokenizer:
        """A vocabulary of the (at most vocab_size - 2) most frequent words of `instructions`
        (ties broken alphabetically by `tokenizers`), plus [PAD] and [UNK]. Deterministic."""
        tk = _tokenizers()
        tokenizer = tk.Tokenizer(tk.models.WordLevel(vocab={PAD: PAD_ID, UNK: UNK_ID}, unk_token=UNK))
        tokenizer.normalizer = tk.normalizers.Sequence([tk.normalizers.NFKC(), tk.normalizers.Lowercase()])
        tokenizer.pre_tokenizer = tk.pre_tokenizers.Whitespace()
        trainer = tk.trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=[PAD, UNK], show_progress=False)
        tokenizer.train_from_iterator(sorted(set(instructions)), trainer=trainer)
        return cls(tokenizer)

    @classmethod
    def load(cls, path: str | Path) -> InstructionTokenizer:
        """Reads a `tokenizer.json` written by `save`."""
        return cls(_tokenizers().Tokenizer.from_file(str(path)))

    def save(self, path: str | Path) -> Path:
        """Writes the tokenizer as JSON to `path`."""
        self.tokenizer.save(str(path))
        return Path(path)

    @property
    def vocab_size(self) -> int:
        """Number of ids in use, specials included."""
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (unknown words -> UNK_ID), no padding."""
        return self.tokenizer.encode(text).ids

    def decode(self, ids) -> str:
        """Ids (a list or 1-D tensor) -> words joined by spaces; [PAD] ids are dropped."""
        ids = [int(i) for i in ids if int(i) != PAD_ID]
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def encode_batch(self, texts: list[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, max_length) int64 ids, right-padded with PAD_ID or truncated, and the (B, max_length)
        bool mask of real tokens."""
        ids = torch.full((len(texts), max_length), PAD_ID, dtype=torch.long)
        for i, text in enumerate(texts):
            row = self.encode(text)[:max_length]
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return ids, ids != PAD_ID
