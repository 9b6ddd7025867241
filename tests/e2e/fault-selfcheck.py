#!/usr/bin/python3
"""fault-selfcheck.py: checks fault-server.py against a reference gRPC client (Debian's grpcio,
i.e. gRPC core): every mode starts, prints "ready", produces the status grpc core reports for it,
logs the request, and exits 0 on SIGTERM. The C client's own fault tests must reach the same
verdicts (except `compressed`: grpc core inflates gzip, podreaper's client refuses it).

    fault-selfcheck.py [--server PATH] [MODE...]

MODE is a server mode, or "concurrent" (mode delay with --delay 0.3 and four calls at once on one
channel: one connection, four streams active).

Prints one line per mode and "N passed, N failed"; exit status 1 if any failed.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # grpc core logs the content-type fault itself
import grpc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "/runtime.v1.RuntimeService/Version"
LIST = "/runtime.v1.RuntimeService/ListContainers"
VERSION_RESPONSE = b"\n\x050.1.0\x12\x05fault\x1a\x011\"\x02v1"


def start(server, sock, mode, log, *extra):
    proc = subprocess.Popen([sys.executable, server, "--socket", sock, "--mode", mode, "--log", log, *extra],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{mode}: server printed {line!r}, not 'ready'")
    return proc


def stop(proc):
    proc.terminate()
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "hung on SIGTERM"


def call(sock, method, timeout=5.0, options=()):
    with grpc.insecure_channel(f"unix://{sock}", options=list(options)) as channel:
        try:
            return "OK", channel.unary_unary(method)(b"\x0a\x00", timeout=timeout)
        except grpc.RpcError as e:
            return e.code().name, e.details()


def expect(got, codes, details=None):
    code, value = got
    if code not in codes:
        return f"got {code} {value!r}, expected {'/'.join(codes)}"
    if details is not None and value != details:
        return f"got {code} {value!r}, expected {details!r}"
    return None


def check_mode(server, mode, tmp):
    sock = os.path.join(tmp, f"{mode}.sock")
    log = os.path.join(tmp, f"{mode}.log")
    extra = []
    server_mode = mode
    if mode == "delay":
        extra = ["--delay", "30"]
    elif mode == "concurrent":  # not a server mode: delay 0.3 s, four calls at once
        server_mode, extra = "delay", ["--delay", "0.3"]
    proc = start(server, sock, server_mode, log, *extra)
    problems = []
    t0 = time.monotonic()
    try:
        if mode == "unavailable":
            problems.append(expect(call(sock, VERSION), ["UNAVAILABLE"], "runtime is down: 100% sure"))
        elif mode == "delay":
            problems.append(expect(call(sock, VERSION, timeout=0.5), ["DEADLINE_EXCEEDED"]))
            if time.monotonic() - t0 > 5:
                problems.append("the deadline was not honoured")
        elif mode == "oversize":
            problems.append(expect(call(sock, LIST), ["RESOURCE_EXHAUSTED"]))
            code, value = call(sock, LIST, options=[("grpc.max_receive_message_length", 64 << 20)])
            if code != "OK" or len(value) != 20 << 20:
                problems.append(f"with a 64 MiB cap: {code}, {len(value) if code == 'OK' else value}")
        elif mode == "garbage":
            problems.append(expect(call(sock, LIST), ["OK"], b"\xff\xff\xff\xff\x0f"))
        elif mode == "trailers-only":
            problems.append(expect(call(sock, VERSION), ["NOT_FOUND"], "café %/é"))
        elif mode == "reset":
            problems.append(expect(call(sock, VERSION), ["INTERNAL"]))
        elif mode == "drop":
            problems.append(expect(call(sock, VERSION), ["UNAVAILABLE", "INTERNAL"]))
        elif mode == "content-type":
            problems.append(expect(call(sock, VERSION), ["UNKNOWN", "INTERNAL"]))
        elif mode == "http-status":
            problems.append(expect(call(sock, VERSION), ["UNAVAILABLE"]))
        elif mode == "compressed":
            problems.append(expect(call(sock, VERSION), ["OK"], VERSION_RESPONSE))
        elif mode == "ok-version":
            problems.append(expect(call(sock, VERSION), ["OK"], VERSION_RESPONSE))
            problems.append(expect(call(sock, LIST), ["UNIMPLEMENTED"]))
        elif mode == "empty":
            problems.append(expect(call(sock, LIST), ["OK"], b""))
        elif mode == "concurrent":
            # four calls at once on one channel: one connection in the log, 4 streams active
            with grpc.insecure_channel(f"unix://{sock}") as channel:
                futures = [channel.unary_unary(LIST).future(b"", timeout=5) for _ in range(4)]
                for f in futures:
                    if f.result() != b"":
                        problems.append(f"concurrent call answered {f.result()!r}")
            if time.monotonic() - t0 > 1.5:
                problems.append("the four delayed calls did not run at once")
    except Exception as e:  # noqa: BLE001 - a crash of the check is a failure of the mode
        problems.append(f"{type(e).__name__}: {e}")
    rc = stop(proc)
    if rc != 0:
        problems.append(f"exit status on SIGTERM: {rc}")
    if os.path.exists(sock):
        problems.append("socket left behind")

    records = [json.loads(line) for line in open(log, encoding="utf-8")] if os.path.exists(log) else []
    if not records:
        problems.append("no request logged")
    else:
        headers = dict(records[0]["headers"])
        for name, want in (("te", "trailers"), ("content-type", "application/grpc"), (":method", "POST")):
            if headers.get(name) != want:
                problems.append(f"logged header {name}={headers.get(name)!r}")
        if records[0]["path"] not in (VERSION, LIST):
            problems.append(f"logged path {records[0]['path']!r}")
        if "grpc-timeout" not in headers:
            problems.append("grpc-timeout not logged")
    if mode == "concurrent" and records:
        conns = {r["conn"] for r in records}
        if len(records) != 4 or len(conns) != 1 or max(r["active"] for r in records) != 4:
            problems.append(f"concurrent calls: conns {conns}, active {[r['active'] for r in records]}")
    return [p for p in problems if p], time.monotonic() - t0


def main():
    args = sys.argv[1:]
    server = os.path.join(HERE, "fault-server.py")
    if args[:1] == ["--server"]:
        server, args = args[1], args[2:]
    modes = args or ["unavailable", "delay", "oversize", "garbage", "trailers-only", "reset", "drop",
                     "content-type", "http-status", "compressed", "ok-version", "empty", "concurrent"]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="podreaper-fault.") as tmp:
        for mode in modes:
            problems, secs = check_mode(server, mode, tmp)
            if problems:
                failed += 1
                print(f"FAIL {mode} ({secs:.2f} s): {'; '.join(problems)}")
            else:
                passed += 1
                print(f"ok   {mode} ({secs:.2f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
