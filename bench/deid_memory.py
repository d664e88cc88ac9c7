"""Peak memory of one worker process de-identifying inputs that would not fit in memory.

Three inputs, built on demand in `bench/.data/deid-memory/` (sparse where the file system allows,
so 2 GB cost little disk): a 2 GiB multi-frame CT with native pixel data, the same as 2,048
encapsulated fragments of 1 MiB, and a deflated file of about 1 MB whose data set inflates to
1 GiB. Each is de-identified by a fresh process, which reports its own peak RSS
(`resource.getrusage`, Linux and macOS).

    python deid_memory.py FILE OUT   # the child: de-identify FILE, print {"rss_mb", "outcome"}
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

GIB = 1 << 30
_FRAME = 512 * 512 * 2  # one 512 x 512 16-bit frame: 2,048 of them make 1 GiB... times 2
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
_DEFLATED = "1.2.840.10008.1.2.1.99"


def _header_file(path: Path, syntax: str, frames: int) -> None:
    """A multi-frame CT data set without its pixel data element, in `syntax` (explicit LE)."""
    import pydicom

    from anonapi_server.sample_studies import write_study

    (src,) = write_study(path.parent / "seed", patient_id="BIG", patient_name="Big^CT", n_files=1)
    ds = pydicom.dcmread(src)
    del ds.PixelData
    ds.NumberOfFrames = frames
    ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, enforce_file_format=True)


def native_multiframe(folder: Path) -> Path:
    """2 GiB of native pixel data in one explicit VR little endian file (sparse zeros)."""
    path = folder / "native-2gib.dcm"
    size = 2 * GIB
    if not path.exists() or path.stat().st_size < size:
        _header_file(path, _EXPLICIT_LE, size // _FRAME)
        with path.open("r+b") as fp:
            fp.seek(0, 2)
            fp.write(struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OW", size))
            fp.truncate(fp.tell() + size)
    return path


def encapsulated_multiframe(folder: Path) -> Path:
    """2 GiB of encapsulated pixel data: an empty offset table and 2,048 fragments of 1 MiB."""
    path = folder / "encapsulated-2gib.dcm"
    fragment, count = 1 << 20, 2048
    if not path.exists() or path.stat().st_size < count * fragment:
        _header_file(path, _JPEG2000_LOSSLESS, count)
        with path.open("r+b") as fp:
            fp.seek(0, 2)
            fp.write(struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OB", 0xFFFFFFFF))
            fp.write(struct.pack("<HHI", 0xFFFE, 0xE000, 0))  # basic offset table
            for _ in range(count):
                fp.write(struct.pack("<HHI", 0xFFFE, 0xE000, fragment))
                fp.seek(fragment, 1)  # a hole: zeros without writing them
            fp.write(struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
    return path


def deflate_bomb(folder: Path) -> Path:
    """About 1 MB on disk, declaring (and inflating to) 1 GiB of pixel data."""
    path = folder / "deflated-1gib.dcm"
    if not path.exists():
        _header_file(path, _DEFLATED, GIB // _FRAME)
        data = path.read_bytes()
        meta_end = 144 + struct.unpack("<I", data[140:144])[0]
        # pydicom wrote the data set deflated; inflate it, add the pixel data, deflate again.
        dataset = zlib.decompress(data[meta_end:], -zlib.MAX_WBITS)
        deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        parts = [data[:meta_end], deflater.compress(dataset)]
        parts.append(deflater.compress(struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OW", GIB)))
        zeros = bytes(1 << 20)
        parts += [deflater.compress(zeros) for _ in range(GIB >> 20)]
        parts.append(deflater.flush())
        path.write_bytes(b"".join(parts))
    return path


def peak_rss_mb(src: Path, out: Path) -> tuple[float, str]:
    """De-identify `src` in a fresh process; its peak RSS in MB and the outcome it reported."""
    proc = subprocess.run(
        [sys.executable, __file__, str(src), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["rss_mb"], result["outcome"]


def _child(src: str, out: str) -> None:
    import resource

    from anonapi_server.deid import Deidentifier, ProjectProfile

    engine = Deidentifier(ProjectProfile("Memory", b"bench-secret"))
    outcome = engine.deidentify_file(Path(src), Path(out), "PSEUDO1", "Pseudo^One", release=True)
    Path(out).unlink(missing_ok=True)
    described = outcome.kind + (f" ({outcome.reason})" if outcome.reason else "")
    print(json.dumps({"rss_mb": round(_peak_rss_mb(resource), 1), "outcome": described}))


def _peak_rss_mb(resource: Any) -> float:
    """This process's own peak RSS. On Linux from /proc: `ru_maxrss` of a process started by
    exec also counts its parent's peak at the fork (the bench's own ~100 MB, not the engine's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024


if __name__ == "__main__":
    _child(*sys.argv[1:3])
