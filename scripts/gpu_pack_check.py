#!/usr/bin/env python3
# gpu_pack_check.py - what scripts/gpu-pack.sh checks before .gpu/ is carried.
#
# The GPU machine's minutes are few and a kit that fails to start there
# wastes them, so three things are checked here and each failure says what
# to change: the runtime was built with the CUDA headers (else every GPU
# test skips or fails with "built without the CUDA toolkit headers"); every
# shared library the carried binaries need resolves from the carried ones
# or from a base system (C and C++ runtimes, zlib); and the kit is under the
# carry limit with a tenth to spare (the Debian packages of LLVM and MLIR
# are most of it). It prints the highest glibc and
# libstdc++ symbol versions the carried code needs, which the machine's
# must reach.
import argparse
import os
import re
import subprocess
import sys
import tempfile

# What every Linux system the kit can meet provides.
BASE = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
        "libpthread.so.0", "libdl.so.2", "librt.so.1", "libz.so.1",
        "ld-linux-x86-64.so.2", "linux-vdso.so.1", "libtinfo.so.6",
        "liblzma.so.5", "libzstd.so.1", "libmvec.so.1"}


def elf_files(roots):
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        yield path


def unpack(debs, into):
    for deb in sorted(os.listdir(debs)):
        if deb.endswith(".deb"):
            subprocess.run(["dpkg", "-x", os.path.join(debs, deb), into],
                           check=True)
    return [os.path.join(into, d) for d in
            ("usr/lib/x86_64-linux-gnu", "usr/lib/llvm-19/lib",
             "lib/x86_64-linux-gnu")]


def unresolved(path, carried, search):
    """Libraries `path` needs that neither the kit nor a base system has."""
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(search))
    run = subprocess.run(["ldd", path], env=env, capture_output=True,
                         text=True)
    if run.returncode != 0:
        return [f"what ldd cannot read ({run.stderr.strip()})"]
    out = run.stdout
    bad = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if not m:
            continue
        name, where = m.groups()
        if name in BASE:
            continue
        if where == "not" or not any(where.startswith(c) for c in carried):
            bad.append(f"{name} ({'not found' if where == 'not' else where})")
    return bad


def highest(paths, prefix):
    best = (0,)
    for path in paths:
        out = subprocess.run(["objdump", "-T", path], capture_output=True,
                             text=True).stdout
        for v in re.findall(prefix + r"_([0-9.]+)", out):
            best = max(best, tuple(int(x) for x in v.split(".")))
    return ".".join(map(str, best))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("kit", help="the .gpu folder")
    p.add_argument("build", help="the torch-free build it came from")
    p.add_argument("--limit-mib", type=float, default=64)
    a = p.parse_args()
    errors = []
    runtime = os.path.join(a.kit, "lib", "libNOSRuntime.so")
    with open(runtime, "rb") as fh:
        if b"cuModuleLoadDataEx" not in fh.read():
            errors.append(f"{runtime} was built without the CUDA headers: "
                          "install the toolkit (/usr/local/cuda) and rebuild")
    with tempfile.TemporaryDirectory() as tmp:
        libs = unpack(os.path.join(a.kit, "debs"), tmp)
        carried = [os.path.abspath(os.path.join(a.kit, "lib"))] + libs
        search = carried
        kit_elves = list(elf_files([os.path.join(a.kit, "bin"),
                                    os.path.join(a.kit, "lib")]))
        for path in kit_elves:
            for lib in unresolved(os.path.abspath(path), carried, search):
                errors.append(f"{path} needs {lib}: add its Debian package "
                              "to scripts/gpu-pack.sh")
        every = kit_elves + list(elf_files(libs))
        print(f"gpu-pack: needs glibc {highest(every, 'GLIBC')} and "
              f"libstdc++ {highest(every, 'GLIBCXX')} (GLIBCXX), "
              f"{highest(every, 'CXXABI')} (CXXABI) on the GPU machine")
    size = 0
    for folder, _, names in os.walk(a.kit):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                size += os.path.getsize(path)
    mib = size / 2**20
    room = 0.9 * a.limit_mib
    print(f"gpu-pack: {a.kit} holds {mib:.1f} MiB of the {a.limit_mib:g} MiB "
          f"a run may carry (at most {room:g} allowed here)")
    if mib > room:
        errors.append(f"{a.kit} is {mib:.1f} MiB, over {room:g} MiB")
    for e in errors:
        print("gpu-pack: error:", e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
