"""magika (Google's file-type detector): files of known types, made here, identified by path and by
bytes. magika feeds its model plain Python lists into an int32 input."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

from support.libraries.scenario import Scenario


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(width * 3)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        # A fixed date: the archive's bytes must be the same in both runs.
        entry = zipfile.ZipInfo("readme.txt", date_time=(2024, 1, 1, 0, 0, 0))
        zipped.writestr(entry, "A zip archive made by the magika scenario.\n" * 20)
    return buffer.getvalue()


FILES: dict[str, bytes] = {
    "script.py": b'import os\n\n\ndef main() -> None:\n    for name in sorted(os.listdir(".")):\n'
    b'        print(name.upper())\n\n\nif __name__ == "__main__":\n    main()\n',
    "data.json": json.dumps({"name": "magika", "values": list(range(40)), "nested": {"ok": True}}, indent=2).encode(),
    "page.html": b"<!DOCTYPE html>\n<html><head><title>Test</title></head>\n<body><h1>Hello</h1>"
    b"<p>A paragraph of text, with <a href='x.html'>a link</a>.</p></body></html>\n",
    "table.csv": b"id,name,score\n" + b"".join(f"{i},item{i},{i * 1.5}\n".encode() for i in range(30)),
    "notes.md": b"# Title\n\nSome *markdown* text with a [link](http://example.com).\n\n- one\n- two\n- three\n",
    "run.sh": b'#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  echo "$f"\n  wc -l "$f"\ndone\n',
    "main.c": b'#include <stdio.h>\n\nint main(void) {\n  for (int i = 0; i < 10; ++i) printf("%d\\n", i);\n'
    b"  return 0;\n}\n",
    "config.yaml": b"name: scenario\nversion: 3\nitems:\n  - alpha\n  - beta\nsettings:\n  debug: true\n",
    "app.js": b"function add(a, b) {\n  return a + b;\n}\nconst total = [1, 2, 3].reduce(add, 0);\n"
    b"console.log(`total: ${total}`);\n",
    "image.png": png(32, 24),
    "archive.zip": archive(),
    "doc.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<catalog><book id="1"><title>XML</title></book></catalog>\n',
    "empty.txt": b"",
    "tiny.txt": b"hi",
}


def main() -> None:
    scenario = Scenario()
    from magika import Magika

    paths = []
    for name, content in FILES.items():
        path = scenario.workdir / name
        path.write_bytes(content)
        paths.append(path)
    magika = Magika()

    def identify_paths() -> list[tuple[str, str, float]]:
        return [(r.path.name, r.output.label, r.score) for r in magika.identify_paths(paths)]

    scenario.record("identify_paths", scenario.timed("identify_paths", identify_paths))
    by_bytes = {name: magika.identify_bytes(content) for name, content in FILES.items()}
    scenario.record("identify_bytes", [(name, r.output.label, r.score) for name, r in by_bytes.items()])
    scenario.finish()


if __name__ == "__main__":
    main()
