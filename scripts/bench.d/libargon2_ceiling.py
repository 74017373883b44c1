#!/usr/bin/env python3
"""scripts/bench: libargon2 (the C reference, its SSE/AVX2 build) through argon2-cffi, Argon2id
hashes per second on every core, one process per core, at m=19456 KiB t=2 p=1. The same
measure as agentgate-argon2-ceiling, one JSON line in the same shape, engine "libargon2".

    libargon2_ceiling.py [SECONDS] [PROCESSES]

Exits 3, printing nothing on stdout, when argon2-cffi is not importable.
"""
import json
import multiprocessing as mp
import os
import sys
import time

MEMORY_KIB, ITERATIONS = 19456, 2

try:
    from argon2.low_level import Type, hash_secret_raw
except ImportError:
    print("libargon2 (argon2-cffi) not importable", file=sys.stderr)
    sys.exit(3)


def work(args):
    n, deadline = args
    done = 0
    while time.time() < deadline:
        hash_secret_raw(b"password-%d-%d" % (n, done), b"saltsaltsalt%04d" % n, ITERATIONS, MEMORY_KIB, 1, 32,
                        Type.ID)
        done += 1
    return done


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    processes = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] not in ("", "-") else os.cpu_count()
    with mp.Pool(processes) as pool:
        pool.map(abs, range(processes))  # every worker started before the clock
        start = time.time()
        counts = pool.map(work, [(n, start + seconds) for n in range(processes)], chunksize=1)
        # Hashes finished after the deadline are counted over the time they actually took.
        elapsed = time.time() - start
    rate = sum(counts) / elapsed
    from importlib.metadata import version

    print(json.dumps({"engine": "libargon2",
                      "implementation": "libargon2 (C, argon2-cffi %s)" % version("argon2-cffi"),
                      "threads": processes, "memory_kib": MEMORY_KIB, "iterations": ITERATIONS,
                      "hashes_per_second": round(rate, 3), "ms_per_hash": round(1000 * processes / rate, 3)}))


if __name__ == "__main__":
    main()
