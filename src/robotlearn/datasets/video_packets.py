"""An MP4's video packets read straight from its sample index, without FFmpeg's demuxer.

For random access to small frames the demuxer is a fifth of the work: its seek and its per-packet reads
cost ~45 us of the ~200 us a 96x96 AV1 window takes (2.5 packets, bench_video.py). The MP4 index that
FFmpeg loaded when it opened the file already says where every packet lies (`stream.index_entries`: byte
offset, size, timestamp, keyframe flag), so `IndexedPackets` maps the file and hands the decoder those byte
ranges itself: a seek is a bisection over the keyframes plus `flush_buffers()`, a packet a slice of the map.

It is used only where it provably yields the demuxer's packets: a local file, AV1 or H.264 (whose keyframes
are clean random-access points; HEVC's are not, and stays on the demuxer), no frame reordering (the index
holds decode timestamps, equal to presentation timestamps only then), an index that is complete, strictly
increasing, inside the file and opens on a keyframe, and whose first packets match what the demuxer reads
(so edit lists or composition offsets, which the demuxer would apply, send the file back to it).
`IndexedPackets.open` returns None otherwise, and the caller demuxes as before.
"""

from __future__ import annotations

import bisect
import mmap
import os

import av

DIRECT_CODECS = frozenset({"av1", "h264"})
CHECKED_PACKETS = 3  # leading packets compared with the demuxer's when opening
HELD_FRAMES = 4  # decoded frames kept for the next request (overlapping windows of in-order reads)


class IndexedPackets:
    """Packets of one video stream, in decode order, from the file's index. Not thread-safe."""

    def __init__(self, path: str, stream, pts: list[int], pos: list[int], size: list[int], keys: list[int]):
        self.stream = stream
        self.time_base = stream.time_base
        self.pts, self.pos, self.size = pts, pos, size
        self.keys = keys  # packet numbers of the keyframes, ascending
        self.key_pts = [pts[k] for k in keys]
        self.number_of = {p: i for i, p in enumerate(pts)}
        self._file = open(path, "rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self.next = 0  # number of the packet `read` returns next
        # Where the decoder stands: the number of the next packet it can take without a flush (None: it must be
        # flushed and fed from a keyframe), and the last few frames it gave (number -> frame), oldest first.
        self.resume_at: int | None = None
        self.held: dict[int, object] = {}

    @classmethod
    def open(cls, path: str, container, stream) -> IndexedPackets | None:
        """The packet reader for `stream` of the already opened local file `path`, or None where the index
        cannot stand in for the demuxer (see the module docstring). Leaves `container` at its start."""
        cc = stream.codec_context
        if cc.codec.canonical_name not in DIRECT_CODECS or cc.has_b_frames:
            return None
        try:
            entries = stream.index_entries
            n = len(entries)
            if n == 0 or (stream.frames and stream.frames != n):
                return None
            pts, pos, size, keys = [], [], [], []
            for i, e in enumerate(entries):
                if e.is_discard or e.size <= 0:
                    return None
                if e.is_keyframe:
                    keys.append(i)
                pts.append(e.timestamp)
                pos.append(e.pos)
                size.append(e.size)
        except (AttributeError, av.FFmpegError):  # a PyAV without index_entries
            return None
        file_size = os.path.getsize(path)
        if not keys or keys[0] != 0 or any(b <= a for a, b in zip(pts, pts[1:])):
            return None
        if any(p < 0 or p + s > file_size for p, s in zip(pos, size)):
            return None  # truncated: the demuxer reports it properly
        try:
            demuxed = []
            for packet in container.demux(stream):
                if packet.size == 0 or len(demuxed) == CHECKED_PACKETS:
                    break
                demuxed.append((packet.pts, packet.dts, packet.pos, packet.size))
            container.seek(0, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError:
            return None
        if demuxed != [(pts[i], pts[i], pos[i], size[i]) for i in range(len(demuxed))]:
            return None
        return cls(path, stream, pts, pos, size, keys)

    def frames(self, numbers: set[int], codec_context) -> dict:
        """The decoded frames of packets `numbers` (number -> VideoFrame).

        Decodes forward from where the decoder stands when that is at or after the keyframe before the first
        missing frame (in-order reads), else flushes and starts at that keyframe: one seek per window, never
        one per frame. Keeps the last HELD_FRAMES frames for the next call. Raises av.FFmpegError on corrupt
        data (the caller names the file); returns fewer frames only if the stream ends first.
        """
        held = self.held
        got = {}
        missing = []
        for n in numbers:
            frame = held.get(n)
            if frame is None:
                missing.append(n)
            else:
                got[n] = frame
        if not missing:
            return got
        first = min(missing)
        keys = self.keys
        key = keys[bisect.bisect_right(keys, first) - 1]
        if self.resume_at is None or not key <= self.resume_at <= first:
            codec_context.flush_buffers()
            self.next = key
            held.clear()
        self.resume_at = None  # until the decode below finishes cleanly
        want = set(missing)
        # The loop is read() inlined, with its attributes in locals: at 96x96 a packet's Python costs show.
        pts, pos, size, data, number_of, time_base = (
            self.pts,
            self.pos,
            self.size,
            self._map,
            self.number_of,
            self.time_base,
        )
        n_packets = len(pts)
        decode = codec_context.decode
        while want:
            i = self.next
            if i < n_packets:
                self.next = i + 1
                start = pos[i]
                packet = av.Packet(data[start : start + size[i]])
                packet.pts = packet.dts = pts[i]
                packet.time_base = time_base
            else:
                packet = None
            for frame in decode(packet):  # None (past the last packet) drains the decoder
                n = number_of.get(frame.pts)
                if n is None:  # not a timestamp of the index: cannot be one of the asked frames
                    continue
                held[n] = frame
                if len(held) > HELD_FRAMES:
                    del held[next(iter(held))]
                if n in want:
                    want.discard(n)
                    got[n] = frame
            if packet is None:
                return got  # drained: the next call flushes (resume_at stays None)
        self.resume_at = self.next
        return got

    def read(self) -> av.Packet | None:
        """The next packet, or None after the last."""
        i = self.next
        if i >= len(self.pts):
            return None
        self.next = i + 1
        start = self.pos[i]
        packet = av.Packet(self._map[start : start + self.size[i]])
        packet.pts = packet.dts = self.pts[i]
        packet.time_base = self.time_base
        return packet

    def close(self) -> None:
        self._map.close()
        self._file.close()
