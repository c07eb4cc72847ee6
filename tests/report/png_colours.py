#!/usr/bin/env python3
"""png_colours.py — how many pixels of a PNG have one exact colour.

    png_colours.py FILE.png RRGGBB
        prints "count=N largest=M width=W height=H": N pixels are exactly
        #RRGGBB, and M of them form the largest 4-connected blob (a node box
        of the tree is one big blob; a legend swatch is a small one).
    png_colours.py FILE.png --crop X Y W H OUT.png
        writes that region as a new PNG (to look at part of a screenshot).

Python standard library only (zlib + struct): 8-bit RGB/RGBA, non-interlaced,
every filter type — what Chromium's --screenshot writes. Exit 2 on anything
else, with a message.
"""
import struct
import sys
import zlib


def fail(msg):
    print("png_colours: " + msg, file=sys.stderr)
    sys.exit(2)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(path):
    """(width, height, bytes per pixel, list of rows as bytearrays)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + ": not a PNG")
    pos, idat, head = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if head is None:
        fail(path + ": no IHDR")
    width, height, depth, ctype, _, _, interlace = head
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("%s: only 8-bit RGB/RGBA non-interlaced (depth %d type %d)"
             % (path, depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        off = y * (stride + 1)
        ftype, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xff
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, prev[i], upleft)) & 0xff
        elif ftype != 0:
            fail("%s: bad filter %d on row %d" % (path, ftype, y))
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def count(path, hexcolour):
    width, height, bpp, rows = decode(path)
    want = bytes.fromhex(hexcolour)
    hit = [[rows[y][x * bpp:x * bpp + 3] == want for x in range(width)]
           for y in range(height)]
    total = sum(sum(r) for r in hit)
    largest, seen = 0, [[False] * width for _ in range(height)]
    for y in range(height):
        for x in range(width):
            if not hit[y][x] or seen[y][x]:
                continue
            size, stack = 0, [(x, y)]
            seen[y][x] = True
            while stack:
                cx, cy = stack.pop()
                size += 1
                for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1),
                               (cx, cy - 1)):
                    if (0 <= nx < width and 0 <= ny < height
                            and hit[ny][nx] and not seen[ny][nx]):
                        seen[ny][nx] = True
                        stack.append((nx, ny))
            largest = max(largest, size)
    print("count=%d largest=%d width=%d height=%d"
          % (total, largest, width, height))


def crop(path, x, y, w, h, out):
    width, height, bpp, rows = decode(path)
    w, h = min(w, width - x), min(h, height - y)
    raw = b"".join(b"\x00" + bytes(rows[y + j][x * bpp:(x + w) * bpp])
                   for j in range(h))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8,
                                             2 if bpp == 3 else 6, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def main(argv):
    if len(argv) == 3 and len(argv[2]) == 6:
        count(argv[1], argv[2])
    elif len(argv) == 8 and argv[2] == "--crop":
        crop(argv[1], *map(int, argv[3:7]), argv[7])
    else:
        fail("usage: png_colours.py FILE.png RRGGBB | FILE.png --crop X Y W H OUT")


if __name__ == "__main__":
    main(sys.argv)
