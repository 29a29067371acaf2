"""The machine a figure was measured on, for scripts/bench_latency.py and scripts/drill.py."""
import os
import platform


def describe(cursor):
    """E.g. "AMD EPYC, 2 cores, 24 GiB, Python 3.11.7, PostgreSQL 15.20 (Debian …)"."""
    with open('/proc/cpuinfo') as cpuinfo:
        cpu = next((line.split(':')[1].strip() for line in cpuinfo
                    if line.startswith('model name')), platform.processor())
    with open('/proc/meminfo') as meminfo:
        memory = int(meminfo.readline().split()[1]) / 1024 / 1024
    cursor.execute("SHOW server_version")
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python "
            f"{platform.python_version()}, PostgreSQL {cursor.fetchone()[0]}")
