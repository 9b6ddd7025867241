#!/usr/bin/python3
"""fault-server.py: a misbehaving CRI server for the CRI client's fault tests.

    fault-server.py --socket PATH --mode MODE [--delay S] [--size N] [--http-status N]
                    [--rst-code N] [--log FILE]

Listens on the unix socket PATH, prints "ready" on stdout once it accepts connections, answers
EVERY gRPC method the same way (per MODE), and exits 0 on SIGTERM or SIGINT (removing PATH).

A hand-written HTTP/2 server (RFC 9113 framing, flow control both ways, HPACK decoding of the
request headers with the static/dynamic tables and Huffman strings; responses are sent as HPACK
literals without indexing, never Huffman): no dependency beyond Python 3, and unlike grpcio it can
reset a stream, drop the connection mid-frame or answer with a wrong content-type.

Modes (the status a correct gRPC client reports, as grpc-go / grpc core would):
  unavailable    headers, then trailers grpc-status 14, grpc-message "runtime is down: 100% sure"
                 (sent percent-encoded: "runtime is down: 100%25 sure")            -> UNAVAILABLE
  delay          sleep --delay seconds (default 30), then an empty OK message; stops early when
                 the client resets the stream or closes the connection       -> DEADLINE_EXCEEDED
  oversize       one message of --size bytes (default 20 MiB) that is valid protobuf (a single
                 unknown field 15), so only the client's receive cap can refuse it
                                                                            -> RESOURCE_EXHAUSTED
  garbage        one message b"\\xff\\xff\\xff\\xff\\x0f" (not protobuf), grpc-status 0 -> INTERNAL
  trailers-only  one HEADERS frame with END_STREAM: grpc-status 5, grpc-message "café %/é"
                 (sent as "caf%C3%A9 %25/%C3%A9")                                   -> NOT_FOUND
  reset          RST_STREAM (code --rst-code, default 2 INTERNAL_ERROR) as soon as the request
                 has arrived, no headers                                             -> INTERNAL
  drop           response headers, then a DATA frame header and half of its payload, then the
                 connection is closed                                 -> UNAVAILABLE (or INTERNAL)
  content-type   :status 200, content-type text/html, an HTML body, no grpc-status
                                                                        -> UNKNOWN (or INTERNAL)
  http-status    :status --http-status (default 503), content-type text/plain, no grpc-status
                                            -> per the gRPC HTTP mapping: 503 UNAVAILABLE, etc.
  compressed     grpc-encoding gzip and a message with the compressed flag set  -> INTERNAL
  ok-version     /runtime.v1.RuntimeService/Version: a correct VersionResponse (version "0.1.0",
                 runtime_name "fault", runtime_version "1", runtime_api_version "v1"); any other
                 method: trailers-only grpc-status 12                 -> OK / UNIMPLEMENTED
  empty          every method: an empty message, grpc-status 0 (every CRI response decodes
                 from it: empty lists)                                               -> OK

--log FILE appends one JSON line per request: {"conn": n, "stream": id, "path", "headers":
[[name, value], ...] (in order, decoded), "body_len", "message_len", "compressed", "active"
(streams of that connection in progress when it arrived), "t" (seconds since the server
started)}: tests can check the client's headers (te, content-type, grpc-timeout), that calls
share one connection, and how many streams ran at once.
"""

import argparse
import gzip
import json
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time

# --- HTTP/2 -----------------------------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20
SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
DEFAULT_WINDOW = 65535
DEFAULT_FRAME = 16384

# --- HPACK (RFC 7541) -------------------------------------------------------------------------

STATIC_TABLE = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
]

# Code lengths of symbols 0..256 (EOS) of the HPACK Huffman code (RFC 7541 Appendix B), as
# chr(ord("0") + length). The code is canonical: the codes follow from the lengths.
_HUFFMAN_LENGTHS = (
    "=GLLLLLLLHNLLNLLLLLLLLNLLLLLLLLL6::<=68;::8;8666555666666678?6<:=677777777777777777777"
    "77878=C=>6?56565666577666567655677777?;>=LDFDDFFFGFGGGGGHGHHFGHGGGGEFGFGGHFEDFFGGEGFF"
    "HEFGGEEFEGFGGDFFFGFFGJJDCFGFIJJJKKJHICEJKKJKHEEJJLKKKDHDEFEEGFFIIHHJGJKJJKKKKKLKKKKKJN"
)


def _huffman_table():
    lengths = [ord(c) - ord("0") for c in _HUFFMAN_LENGTHS]
    assert len(lengths) == 257
    table = {}
    code = 0
    prev = None
    for sym in sorted(range(257), key=lambda s: (lengths[s], s)):
        if prev is not None:
            code = (code + 1) << (lengths[sym] - prev)
        prev = lengths[sym]
        table[(prev, code)] = sym
    assert table[(30, 0x3FFFFFFF)] == 256 and table[(5, 0)] == ord("0")
    return table


HUFFMAN = _huffman_table()


class HpackError(Exception):
    pass


def huffman_decode(data):
    out = bytearray()
    code = 0
    bits = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            bits += 1
            sym = HUFFMAN.get((bits, code))
            if sym is not None:
                if sym == 256:
                    raise HpackError("EOS inside a Huffman string")
                out.append(sym)
                code = 0
                bits = 0
            elif bits > 30:
                raise HpackError("invalid Huffman code")
    if bits > 7 or code != (1 << bits) - 1:
        raise HpackError("invalid Huffman padding")
    return bytes(out)


def hpack_int_decode(buf, i, prefix):
    if i >= len(buf):
        raise HpackError("truncated integer")
    mask = (1 << prefix) - 1
    value = buf[i] & mask
    i += 1
    if value < mask:
        return value, i
    shift = 0
    while True:
        if i >= len(buf) or shift > 28:
            raise HpackError("bad integer")
        b = buf[i]
        i += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def hpack_int_encode(value, prefix, first=0):
    mask = (1 << prefix) - 1
    if value < mask:
        return bytes([first | value])
    out = bytearray([first | mask])
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class HpackDecoder:
    def __init__(self, max_size=4096):
        self.table = []  # newest first
        self.size = 0
        self.max_size = max_size
        self.limit = max_size

    def _entry(self, index):
        if index == 0:
            raise HpackError("index 0")
        if index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        index -= len(STATIC_TABLE) + 1
        if index >= len(self.table):
            raise HpackError("index beyond the dynamic table")
        return self.table[index]

    def _evict(self):
        while self.size > self.max_size and self.table:
            name, value = self.table.pop()
            self.size -= len(name.encode()) + len(value.encode()) + 32

    def _add(self, name, value):
        self.table.insert(0, (name, value))
        self.size += len(name.encode()) + len(value.encode()) + 32
        self._evict()

    def _string(self, buf, i):
        huffman = i < len(buf) and buf[i] & 0x80
        length, i = hpack_int_decode(buf, i, 7)
        if i + length > len(buf):
            raise HpackError("truncated string")
        raw = bytes(buf[i:i + length])
        if huffman:
            raw = huffman_decode(raw)
        return raw.decode("utf-8", "replace"), i + length

    def decode(self, block):
        headers = []
        i = 0
        while i < len(block):
            b = block[i]
            if b & 0x80:  # indexed
                index, i = hpack_int_decode(block, i, 7)
                headers.append(self._entry(index))
            elif b & 0x40:  # literal with incremental indexing
                index, i = hpack_int_decode(block, i, 6)
                name = self._entry(index)[0] if index else None
                if name is None:
                    name, i = self._string(block, i)
                value, i = self._string(block, i)
                self._add(name, value)
                headers.append((name, value))
            elif b & 0x20:  # dynamic table size update
                size, i = hpack_int_decode(block, i, 5)
                if size > self.limit:
                    raise HpackError("table size above the limit")
                self.max_size = size
                self._evict()
            else:  # literal without indexing / never indexed
                index, i = hpack_int_decode(block, i, 4)
                name = self._entry(index)[0] if index else None
                if name is None:
                    name, i = self._string(block, i)
                value, i = self._string(block, i)
                headers.append((name, value))
        return headers


def hpack_encode(headers):
    """Literal header fields without indexing, new names, no Huffman."""
    out = bytearray()
    for name, value in headers:
        n = name.encode()
        v = value.encode() if isinstance(value, str) else value
        out += b"\x00" + hpack_int_encode(len(n), 7) + n + hpack_int_encode(len(v), 7) + v
    return bytes(out)


# --- gRPC and protobuf ------------------------------------------------------------------------

def grpc_frame(message, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


def grpc_message_encode(text):
    """Percent-encoding of grpc-message: every byte outside 0x20..0x7e, and '%'."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E and b != 0x25 else "%%%02X" % b for b in text.encode())


def pb_varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pb_string(field, value):
    data = value.encode() if isinstance(value, str) else value
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


VERSION_RESPONSE = pb_string(1, "0.1.0") + pb_string(2, "fault") + pb_string(3, "1") + pb_string(4, "v1")
GRPC_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]

# --- connection -------------------------------------------------------------------------------


class ConnectionClosed(Exception):
    pass


class Stream:
    def __init__(self, sid, window):
        self.id = sid
        self.window = window
        self.headers = []
        self.body = bytearray()
        self.reset = False
        self.done = False


class Connection:
    def __init__(self, server, sock, number):
        self.server = server
        self.sock = sock
        self.number = number
        self.write_lock = threading.RLock()  # held across a header block and its CONTINUATIONs
        self.cond = threading.Condition()
        self.decoder = HpackDecoder()
        self.streams = {}
        self.active = 0
        self.window = DEFAULT_WINDOW
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame = DEFAULT_FRAME
        self.closed = False

    # -- output
    def send_frame(self, ftype, flags, sid, payload=b""):
        header = struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, sid & 0x7FFFFFFF)
        with self.write_lock:
            if self.closed:
                raise ConnectionClosed()
            try:
                self.sock.sendall(header + bytes(payload))
            except OSError:
                self.close()
                raise ConnectionClosed()

    def send_headers(self, stream, headers, end_stream=False):
        block = hpack_encode(headers)
        first = True
        with self.write_lock:
            while True:
                chunk, block = block[:self.peer_max_frame], block[self.peer_max_frame:]
                flags = (FLAG_END_HEADERS if not block else 0) | (FLAG_END_STREAM if end_stream and first else 0)
                self.send_frame(HEADERS if first else CONTINUATION, flags, stream.id, chunk)
                first = False
                if not block:
                    return

    def send_data(self, stream, data, end_stream=False):
        """Sends DATA within the peer's flow-control windows; False if the stream was reset."""
        view = memoryview(data)
        while True:
            with self.cond:
                while not (self.closed or stream.reset) and (self.window <= 0 or stream.window <= 0) and len(view):
                    self.cond.wait(1)
                if self.closed:
                    raise ConnectionClosed()
                if stream.reset:
                    return False
                n = min(len(view), self.window, stream.window, self.peer_max_frame)
                self.window -= n
                stream.window -= n
            chunk, view = view[:n], view[n:]
            last = not len(view)
            self.send_frame(DATA, FLAG_END_STREAM if end_stream and last else 0, stream.id, chunk)
            if last:
                return True

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- input
    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionClosed()
            buf += chunk
        return bytes(buf)

    def read_frame(self):
        header = self.recv_exact(9)
        length = int.from_bytes(header[:3], "big")
        ftype, flags = header[3], header[4]
        sid = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
        return ftype, flags, sid, self.recv_exact(length)

    def run(self):
        try:
            if self.recv_exact(len(PREFACE)) != PREFACE:
                return
            self.send_frame(SETTINGS, 0, 0, b"")
            self.loop()
        except (ConnectionClosed, OSError, HpackError) as e:
            if isinstance(e, HpackError):
                self.server.note(f"connection {self.number}: HPACK error: {e}")
        finally:
            self.close()
            try:
                self.sock.close()
            except OSError:
                pass

    def loop(self):
        block_stream = None
        block = bytearray()
        block_end_stream = False
        while True:
            ftype, flags, sid, payload = self.read_frame()
            if block_stream is not None and ftype != CONTINUATION:
                raise ConnectionClosed()  # protocol error: headers interrupted
            if ftype == SETTINGS:
                if not flags & FLAG_ACK:
                    self.apply_settings(payload)
                    self.send_frame(SETTINGS, FLAG_ACK, 0)
            elif ftype == PING:
                if not flags & FLAG_ACK:
                    self.send_frame(PING, FLAG_ACK, 0, payload)
            elif ftype == WINDOW_UPDATE:
                inc = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                with self.cond:
                    if sid == 0:
                        self.window += inc
                    elif sid in self.streams:
                        self.streams[sid].window += inc
                    self.cond.notify_all()
            elif ftype == RST_STREAM:
                with self.cond:
                    stream = self.streams.get(sid)
                    if stream:
                        stream.reset = True
                    self.cond.notify_all()
            elif ftype == GOAWAY:
                pass  # the client closes when its streams are done
            elif ftype in (HEADERS, CONTINUATION):
                if ftype == HEADERS:
                    pos = 0
                    pad = 0
                    if flags & FLAG_PADDED:
                        pad = payload[0]
                        pos = 1
                    if flags & FLAG_PRIORITY:
                        pos += 5
                    payload = payload[pos:len(payload) - pad]
                    block_stream = sid
                    block = bytearray()
                    block_end_stream = bool(flags & FLAG_END_STREAM)
                elif sid != block_stream:
                    raise ConnectionClosed()
                block += payload
                if flags & FLAG_END_HEADERS:
                    headers = self.decoder.decode(block)
                    self.on_headers(block_stream, headers, block_end_stream)
                    block_stream = None
            elif ftype == DATA:
                data = payload
                if flags & FLAG_PADDED:
                    data = payload[1:len(payload) - payload[0]]
                stream = self.streams.get(sid)
                if payload:
                    # give the whole frame's credit back at once: requests are small
                    self.send_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload)))
                    if stream and not flags & FLAG_END_STREAM:
                        self.send_frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", len(payload)))
                if stream:
                    stream.body += data
                    if flags & FLAG_END_STREAM:
                        self.dispatch(stream)
            # PRIORITY, PUSH_PROMISE and unknown frame types are ignored

    def apply_settings(self, payload):
        for off in range(0, len(payload) - len(payload) % 6, 6):
            ident, value = struct.unpack(">HI", payload[off:off + 6])
            if ident == SETTINGS_INITIAL_WINDOW_SIZE:
                with self.cond:
                    delta = value - self.peer_initial_window
                    self.peer_initial_window = value
                    for stream in self.streams.values():
                        stream.window += delta
                    self.cond.notify_all()
            elif ident == SETTINGS_MAX_FRAME_SIZE:
                self.peer_max_frame = value

    def on_headers(self, sid, headers, end_stream):
        with self.cond:
            stream = self.streams.get(sid)
            if stream is None:
                stream = Stream(sid, self.peer_initial_window)
                self.streams[sid] = stream
                self.active += 1
                stream.headers = headers
            # (a second block is a client's trailers: nothing to keep)
        if end_stream:
            self.dispatch(stream)

    def dispatch(self, stream):
        if stream.done:
            return
        stream.done = True
        threading.Thread(target=self.answer, args=(stream,), daemon=True).start()

    def answer(self, stream):
        path = next((v for n, v in stream.headers if n == ":path"), "")
        body = bytes(stream.body)
        compressed = body[0] if len(body) >= 5 else None
        message_len = struct.unpack(">I", body[1:5])[0] if len(body) >= 5 else None
        self.server.log_request({
            "conn": self.number, "stream": stream.id, "path": path,
            "headers": [[n, v] for n, v in stream.headers], "body_len": len(body),
            "message_len": message_len, "compressed": compressed, "active": self.active,
        })
        try:
            self.server.mode_handler(self, stream, path)
        except ConnectionClosed:
            pass
        finally:
            with self.cond:
                self.streams.pop(stream.id, None)
                self.active -= 1


# --- modes ------------------------------------------------------------------------------------

def ok_message(conn, stream, message, extra_headers=(), compressed=False):
    conn.send_headers(stream, GRPC_HEADERS + list(extra_headers))
    if conn.send_data(stream, grpc_frame(message, compressed)):
        conn.send_headers(stream, [("grpc-status", "0")], end_stream=True)


def trailers_only(conn, stream, code, message):
    conn.send_headers(stream, GRPC_HEADERS + [("grpc-status", str(code)), ("grpc-message", grpc_message_encode(message))],
                      end_stream=True)


def mode_unavailable(conn, stream, path, args):
    conn.send_headers(stream, GRPC_HEADERS)
    conn.send_headers(stream, [("grpc-status", "14"), ("grpc-message", grpc_message_encode("runtime is down: 100% sure"))],
                      end_stream=True)


def mode_delay(conn, stream, path, args):
    deadline = time.monotonic() + args.delay
    with conn.cond:
        while not (conn.closed or stream.reset) and time.monotonic() < deadline:
            conn.cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        if conn.closed or stream.reset:
            return
    ok_message(conn, stream, b"")


def mode_oversize(conn, stream, path, args):
    # field 15, wire type 2: skipped as unknown by any decoder, so valid for every response type
    tag = pb_varint(15 << 3 | 2)
    n = 0
    for length_len in range(1, 6):
        n = max(0, args.size - len(tag) - length_len)
        if len(pb_varint(n)) == length_len:
            break
    ok_message(conn, stream, tag + pb_varint(n) + bytes(n))


def mode_garbage(conn, stream, path, args):
    ok_message(conn, stream, b"\xff\xff\xff\xff\x0f")


def mode_trailers_only(conn, stream, path, args):
    trailers_only(conn, stream, 5, "café %/é")


def mode_reset(conn, stream, path, args):
    conn.send_frame(RST_STREAM, 0, stream.id, struct.pack(">I", args.rst_code))


def mode_drop(conn, stream, path, args):
    conn.send_headers(stream, GRPC_HEADERS)
    payload = grpc_frame(VERSION_RESPONSE)
    header = struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", DATA, 0, stream.id)
    with conn.write_lock:
        try:
            conn.sock.sendall(header + payload[:len(payload) // 2])
        except OSError:
            pass
    conn.close()


def mode_content_type(conn, stream, path, args):
    conn.send_headers(stream, [(":status", "200"), ("content-type", "text/html; charset=utf-8")])
    conn.send_data(stream, b"<html><body><h1>Welcome to nginx!</h1></body></html>\n", end_stream=True)


def mode_http_status(conn, stream, path, args):
    conn.send_headers(stream, [(":status", str(args.http_status)), ("content-type", "text/plain")])
    conn.send_data(stream, b"the proxy says no\n", end_stream=True)


def mode_compressed(conn, stream, path, args):
    ok_message(conn, stream, gzip.compress(VERSION_RESPONSE), [("grpc-encoding", "gzip")], compressed=True)


def mode_ok_version(conn, stream, path, args):
    if path == "/runtime.v1.RuntimeService/Version":
        ok_message(conn, stream, VERSION_RESPONSE)
    else:
        trailers_only(conn, stream, 12, f"unknown method {path} for service (fault-server ok-version)")


def mode_empty(conn, stream, path, args):
    ok_message(conn, stream, b"")


MODES = {
    "unavailable": mode_unavailable, "delay": mode_delay, "oversize": mode_oversize,
    "garbage": mode_garbage, "trailers-only": mode_trailers_only, "reset": mode_reset,
    "drop": mode_drop, "content-type": mode_content_type, "http-status": mode_http_status,
    "compressed": mode_compressed, "ok-version": mode_ok_version, "empty": mode_empty,
}

# --- server -----------------------------------------------------------------------------------


class Server:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.log_lock = threading.Lock()
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else None
        handler = MODES[args.mode]
        self.mode_handler = lambda conn, stream, path: handler(conn, stream, path, args)

    def note(self, text):
        print(f"fault-server: {text}", file=sys.stderr, flush=True)

    def log_request(self, record):
        if not self.log_file:
            return
        record["t"] = round(time.monotonic() - self.started, 6)
        with self.log_lock:
            self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log_file.flush()

    def serve(self, listener):
        number = 0
        while True:
            sock, _ = listener.accept()
            number += 1
            conn = Connection(self, sock, number)
            threading.Thread(target=conn.run, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True, help="unix socket path to listen on")
    ap.add_argument("--mode", required=True, choices=sorted(MODES))
    ap.add_argument("--delay", type=float, default=30.0, help="seconds, for --mode delay (default 30)")
    ap.add_argument("--size", type=int, default=20 * 1024 * 1024,
                    help="message bytes, for --mode oversize (default 20 MiB)")
    ap.add_argument("--http-status", type=int, default=503, help="for --mode http-status (default 503)")
    ap.add_argument("--rst-code", type=int, default=2, help="RST_STREAM error code, for --mode reset (default 2)")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    args = ap.parse_args()

    try:
        if stat.S_ISSOCK(os.lstat(args.socket).st_mode):
            os.unlink(args.socket)  # a stale socket of an earlier run
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(args.socket)
    listener.listen(64)
    server = Server(args)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    try:
        server.serve(listener)
    finally:
        listener.close()
        try:
            os.unlink(args.socket)
        except OSError:
            pass


if __name__ == "__main__":
    main()
