#!/usr/bin/env python3
"""npy.py - write and print float32 .npy files without numpy (lit helper).

  npy.py write FILE SHAPE VALUES...   e.g. npy.py write w.npy 3 1 2 3
  npy.py print FILE                   prints shape then values, one per line
"""
import struct
import sys


def write(path, shape, values):
    dims = [int(d) for d in shape.split("x")]
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else ""))
    pad = 64 - (10 + len(header) + 1) % 64
    header += " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *[float(v) for v in values]))


def show(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode("latin1")
    body = data[10 + hlen:]
    print(header.split("'shape': ")[1].split(")")[0] + ")")
    for v in struct.unpack("<%df" % (len(body) // 4), body):
        print("%.6g" % v)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        show(sys.argv[2])
