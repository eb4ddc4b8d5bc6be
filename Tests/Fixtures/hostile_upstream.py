#!/usr/bin/env python3
"""A hostile LLM provider for the gateway's robustness tests: a real HTTP/1.1 server on
loopback that answers OpenAI (/v1/chat/completions) and Anthropic (/v1/messages) requests
with generated bad answers -- huge, negative and NaN-like numbers, wrong types at every
field of a completion and of a stream chunk, truncated JSON, endless and stalled streams,
enormous Retry-After values, headers of every size, broken HTTP -- mixed with valid ones.

Written against raw sockets (asyncio streams), not an HTTP framework, so it can send what
no framework would: lying Content-Lengths, bad chunk sizes, garbage status lines.

Usage: hostile_upstream.py [--seed N]. Prints "PORT <n>" once listening. GET /stats answers
{"answers": n, "kinds": {kind: n}}: what it sent, for the test to report.
"""
import argparse
import asyncio
import json
import random
import sys

HOSTILE_NUMBERS = [1e300, -1e300, -5, -1, 1.5, 0.5, 9223372036854775807, 9223372036854775808, -9223372036854775808,
                   1e19, 1e16, -0.0, 0, 2**53 + 1]
NAN_LIKE = ["NaN", "Infinity", "-Infinity", "1e309", "nan", "", "12", "0x10", None, [], {}, True]
WRONG_VALUES = [None, True, 1e300, -1, "x", [], {}, [1, 2], {"a": None}, "\u0000", "\ud7ff" * 3]
RETRY_AFTERS = ["1e300", "-1", "NaN", "inf", "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "3600",
                "", "99999999999999999999999", "0.001", "1", "soon", "-9223372036854775808"]


def completion(model, rng):
    return {
        "id": "chatcmpl-hostile", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }


def anthropic_message(model, rng):
    return {
        "id": "msg_hostile", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 11, "output_tokens": 22},
    }


def mutate(value, rng, depth=0):
    """Replaces one field somewhere in `value` with a wrong type or a hostile number."""
    if isinstance(value, dict) and value and depth < 6:
        key = rng.choice(list(value.keys()))
        if rng.random() < 0.5:
            value[key] = mutate(value[key], rng, depth + 1)
        else:
            value[key] = rng.choice(WRONG_VALUES + HOSTILE_NUMBERS + NAN_LIKE)
        return value
    if isinstance(value, list) and value and depth < 6:
        index = rng.randrange(len(value))
        value[index] = mutate(value[index], rng, depth + 1)
        return value
    return rng.choice(WRONG_VALUES + HOSTILE_NUMBERS + NAN_LIKE)


def dumps(value):
    # allow_nan writes NaN / Infinity tokens, which are not JSON: exactly what a broken upstream sends.
    return json.dumps(value, allow_nan=True)


def head(status, reason, headers, length=None):
    lines = [f"HTTP/1.1 {status} {reason}"]
    for name, val in headers:
        lines.append(f"{name}: {val}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")


class Hostile:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.answers = 0
        self.kinds = {}

    def count(self, kind):
        self.answers += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    async def serve(self, reader, writer):
        try:
            while True:
                request = await self.read_request(reader)
                if request is None:
                    break
                path, body = request
                if path == "/stats":
                    payload = json.dumps({"answers": self.answers, "kinds": self.kinds}).encode()
                    writer.write(head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
                    await writer.drain()
                    continue
                keep = await self.answer(path, body, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def read_request(self, reader):
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, val = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(val.strip() or "0")
            if name.strip().lower() == "transfer-encoding" and "chunked" in val.lower():
                chunked = True
        body = b""
        if chunked:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.strip().split(b";")[0] or b"0", 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        elif length:
            body = await reader.readexactly(length)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}
        return path, parsed

    async def answer(self, path, body, writer):
        """Writes one answer; returns whether the connection stays usable."""
        rng = self.rng
        anthropic = path.endswith("/messages")
        model = body.get("model", "m") if isinstance(body, dict) else "m"
        stream = isinstance(body, dict) and body.get("stream") is True
        roll = rng.random()
        if stream:
            return await self.stream_answer(writer, anthropic, model, roll)
        return await self.plain_answer(writer, anthropic, model, roll)

    async def send(self, writer, data):
        writer.write(data)
        await writer.drain()

    async def plain_answer(self, writer, anthropic, model, roll):
        rng = self.rng
        base = anthropic_message(model, rng) if anthropic else completion(model, rng)
        if roll < 0.30:
            self.count("valid")
            payload = dumps(base).encode()
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.50:
            self.count("hostile-usage-number")
            usage = base["usage"]
            key = rng.choice(list(usage.keys()))
            usage[key] = rng.choice(HOSTILE_NUMBERS + NAN_LIKE)
            payload = dumps(base).encode()
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.62:
            self.count("wrong-type-field")
            payload = dumps(mutate(base, rng)).encode()
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.70:
            self.count("truncated-json")
            full = dumps(base).encode()
            payload = full[: rng.randrange(len(full))]
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.74:
            self.count("short-body")
            payload = dumps(base).encode()
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload) + 500) + payload)
            return False
        if roll < 0.86:
            self.count("error-status-retry-after")
            status = rng.choice([429, 503, 500, 502, 529, 408, 400, 401, 404, 413, 422])
            text = rng.choice(['{"error":{"message":"maximum context length exceeded"}}', "x" * rng.randrange(0, 5000),
                               '{"error":' + dumps(rng.choice(WRONG_VALUES)) + "}", ""])
            payload = text.encode("utf-8", "surrogatepass")
            headers = [("Retry-After", rng.choice(RETRY_AFTERS)), ("Content-Type", "application/json")]
            await self.send(writer, head(status, "Hostile", headers, len(payload)) + payload)
            return True
        if roll < 0.89:
            self.count("header-sizes")
            payload = dumps(base).encode()
            size = rng.choice([1, 100, 8000, 70000, 200000])
            headers = [("X-Big", "v" * size)] + [(f"X-H{i}", "y") for i in range(rng.choice([0, 10, 500, 3000]))]
            await self.send(writer, head(200, "OK", headers + [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.92:
            self.count("broken-http")
            junk = rng.choice([b"HTTP/1.1 999 Nope\r\n\r\n", b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
                               b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
                               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
                               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", b""])
            await self.send(writer, junk)
            return False
        if roll < 0.95:
            self.count("not-an-object")
            payload = rng.choice([b"null", b"[]", b'"str"', b"42", b"", b"NaN", b"{", b"\xff\xfe"])
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.975:
            self.count("bad-content-encoding")
            payload = dumps(base).encode()
            await self.send(writer, head(200, "OK", [("Content-Encoding", "gzip"), ("Content-Type", "application/json")], len(payload)) + payload)
            return True
        if roll < 0.99:
            self.count("slow-answer")
            await asyncio.sleep(rng.choice([0.2, 0.8, 3.0]))
            payload = dumps(base).encode()
            await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
            return True
        self.count("stall")
        await asyncio.sleep(30)
        return False

    def chunk(self, anthropic, model, text):
        if anthropic:
            return {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
        return {"id": "c", "object": "chat.completion.chunk", "model": model,
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}

    def event(self, value):
        return ("data: " + dumps(value) + "\n\n").encode("utf-8", "surrogatepass")

    async def stream_answer(self, writer, anthropic, model, roll):
        rng = self.rng
        sse_head = head(200, "OK", [("Content-Type", "text/event-stream"), ("Connection", "close")])
        end = (self.event({"type": "message_stop"}) if anthropic else b"data: [DONE]\n\n")
        if roll < 0.25:
            self.count("stream-valid")
            await self.send(writer, sse_head + b"".join(self.event(self.chunk(anthropic, model, f"t{i}")) for i in range(5)) + end)
            return False
        if roll < 0.45:
            self.count("stream-wrong-types")
            events = [self.event(mutate(self.chunk(anthropic, model, "x"), rng)) for _ in range(6)]
            if anthropic:
                events.append(self.event({"type": "content_block_start", "index": rng.choice(HOSTILE_NUMBERS + NAN_LIKE),
                                          "content_block": {"type": "tool_use", "id": 5, "name": None}}))
                events.append(self.event({"type": "content_block_delta", "index": rng.choice(HOSTILE_NUMBERS),
                                          "delta": {"type": "input_json_delta", "partial_json": 7}}))
                events.append(self.event({"type": "message_delta", "delta": {"stop_reason": rng.choice(WRONG_VALUES)}}))
            await self.send(writer, sse_head + b"".join(events) + end)
            return False
        if roll < 0.55:
            self.count("stream-truncated")
            data = sse_head + b"".join(self.event(self.chunk(anthropic, model, "t")) for _ in range(3))
            await self.send(writer, data[: rng.randrange(len(sse_head), len(data))])
            return False
        if roll < 0.65:
            self.count("stream-not-json")
            await self.send(writer, sse_head + b"data: {nope\n\ndata: NaN\n\nevent: error\ndata: \xff\xfe\n\n: comment\n\ndata:\n\n" + end)
            return False
        if roll < 0.72:
            self.count("stream-endless")
            await self.send(writer, sse_head)
            for i in range(100000):
                await self.send(writer, self.event(self.chunk(anthropic, model, "e")))
                await asyncio.sleep(0.01)
            return False
        if roll < 0.79:
            self.count("stream-stall")
            await self.send(writer, sse_head + self.event(self.chunk(anthropic, model, "s")))
            await asyncio.sleep(30)
            return False
        if roll < 0.82:
            self.count("stream-no-newline")
            await self.send(writer, sse_head + b"data: ")
            for _ in range(40):
                await self.send(writer, b"z" * 65536)
            return False
        if roll < 0.92:
            self.count("stream-error-status")
            status = rng.choice([429, 503, 500, 400])
            payload = b'{"error":{"message":"no"}}'
            await self.send(writer, head(status, "Hostile", [("Retry-After", rng.choice(RETRY_AFTERS))], len(payload)) + payload)
            return True
        self.count("stream-json-instead")
        payload = dumps(completion(model, rng)).encode()
        await self.send(writer, head(200, "OK", [("Content-Type", "application/json")], len(payload)) + payload)
        return True


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    hostile = Hostile(args.seed)
    server = await asyncio.start_server(hostile.serve, "127.0.0.1", 0, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
