"""Server peers through their own network clients (tools/bench/src/server-peers.ts runs this).

Conifer (already loaded and settled by the caller) through the official Pinecone Python client,
Chroma's server (`chroma run`) through chromadb.HttpClient, and Milvus Lite through pymilvus's
MilvusClient (gRPC to the milvus-lite server it starts): the same queries, the same thread-pool
load generator at concurrency 1, 8 and 32, recall@10 against the exact ground truth. Chroma and
Milvus are loaded here, through their clients, and tuned to Conifer's recall (the smallest ef /
nprobe that reaches it) before they are measured. Prints one JSON object on stdout.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

K = 10
# Chroma's HNSW ef_search candidates, smallest first (M = 16 and ef_construction = 100, its defaults).
CHROMA_EF_SEARCH = [32, 64, 128, 256, 512]
# Seconds a measured row may take, about (a slow system is measured on fewer queries).
ROW_BUDGET_S = 60


def log(*parts):
    print("[peers]", *parts, file=sys.stderr, flush=True)


def load(data_dir, count, dimension, query_count):
    vectors = np.fromfile(os.path.join(data_dir, "vectors.f32"), dtype=np.float32).reshape(count, dimension)
    queries = np.fromfile(os.path.join(data_dir, "queries.f32"), dtype=np.float32).reshape(query_count, dimension)
    truth = np.fromfile(os.path.join(data_dir, "truth.i32"), dtype=np.int32).reshape(query_count, K)
    return vectors, queries, truth


def recall(got, truth):
    hits = 0
    for q, ids in enumerate(got):
        want = set(int(x) for x in truth[q % len(truth)])
        hits += len(want.intersection(ids))
    return hits / (K * len(got))


def percentile(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


def run_queries(search, queries, requests, concurrency):
    """`requests` queries (cycling through `queries`) with `concurrency` threads: latencies, wall, ids."""
    got = [None] * requests
    latencies = [0.0] * requests

    def one(i):
        t = time.perf_counter()
        got[i] = search(queries[i % len(queries)])
        latencies[i] = (time.perf_counter() - t) * 1000

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    wall = (time.perf_counter() - start) * 1000
    ordered = sorted(latencies)
    return got, {
        "p50": round(percentile(ordered, 50), 3),
        "p99": round(percentile(ordered, 99), 3),
        "mean": round(sum(latencies) / len(latencies), 3),
        "qps": round(requests / wall * 1000),
    }


def measure(system, search, queries, truth, requests):
    rows = []
    # Warm-up (connections, caches), which also estimates the time a query takes.
    _, warm = run_queries(search, queries, min(requests, 100), 8)
    for concurrency in (1, 8, 32):
        # A slow system gets fewer requests (at least 100): each row stays within ROW_BUDGET_S.
        n = max(100, min(requests, int(ROW_BUDGET_S * min(concurrency, 8) * 1000 / max(warm["mean"], 0.001))))
        got, latency = run_queries(search, queries, n, concurrency)
        rows.append({"system": system, "concurrency": concurrency, "requests": n, "recall": round(recall(got, truth), 4), "latency": latency})
        log(system, "c", concurrency, rows[-1])
    return rows


def tuning_queries(search, queries):
    """Queries a tuning step uses: 200, or fewer (at least 50) for a system slower than 2.4 s per 200."""
    _, probe = run_queries(search, queries, 8, 8)
    return max(50, min(200, len(queries), int(ROW_BUDGET_S / 5 * 8 * 1000 / max(probe["mean"], 0.001))))


def tune(name, values, set_knob, search, queries, truth, wanted):
    """The smallest knob value whose recall reaches `wanted`, else the largest."""
    for value in values:
        set_knob(value)
        got, _ = run_queries(search, queries, tuning_queries(search, queries), 8)
        r = recall(got, truth[: len(got)])
        log(name, "knob", value, "recall", round(r, 4))
        if r >= wanted:
            return value, r
    return values[-1], r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conifer(args, queries, truth):
    from pinecone import Pinecone

    pc = Pinecone(api_key=args.api_key, host=args.control_url)
    index = pc.Index(host=args.index_host)

    def search(q):
        res = index.query(vector=q.tolist(), top_k=K)
        return [int(m.id) for m in res.matches]

    return measure("conifer (Pinecone Python client, REST)", search, queries, truth, args.requests)


def start_chroma(work, port):
    import chromadb

    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "chroma"), "run", "--path", work, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            client = chromadb.HttpClient(host="127.0.0.1", port=port)
            client.heartbeat()
            return server, client
        except Exception:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("chroma run did not answer")


def stop(server):
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()


def chroma(args, vectors, queries, truth, wanted):
    import chromadb

    work = tempfile.mkdtemp(prefix="conifer-bench-chroma-")
    port = free_port()
    server, client = start_chroma(work, port)
    try:
        collection = client.create_collection(
            name="bench",
            embedding_function=None,
            configuration={"hnsw": {"space": "l2", "ef_construction": 100, "max_neighbors": 16, "ef_search": CHROMA_EF_SEARCH[0]}},
        )
        batch = min(5000, client.get_max_batch_size())
        start = time.perf_counter()
        for at in range(0, len(vectors), batch):
            part = vectors[at : at + batch]
            collection.add(ids=[str(i) for i in range(at, at + len(part))], embeddings=part)
        ingest = round(len(vectors) / (time.perf_counter() - start))
        log("chroma: ingest", ingest, "vectors/s")

        def search(q):
            res = collection.query(query_embeddings=[q], n_results=K, include=[])
            return [int(x) for x in res["ids"][0]]

        def set_ef(ef):
            nonlocal server, collection
            if ef == CHROMA_EF_SEARCH[0]:
                return  # the collection was created with it
            # A running server keeps the ef_search the collection was loaded with (modify() only
            # records the new one: measured), so the server restarts on its data to apply it.
            collection.modify(configuration={"hnsw": {"ef_search": ef}})
            stop(server)
            server, restarted = start_chroma(work, port)
            collection = restarted.get_collection("bench", embedding_function=None)

        ef, _ = tune("chroma ef_search", CHROMA_EF_SEARCH, set_ef, search, queries, truth, wanted)
        rows = measure(f"chroma {chromadb.__version__} (HttpClient, HNSW M=16 ef_search={ef})", search, queries, truth, args.requests)
        return rows, {"chromaIngestVectorsPerSecond": ingest, "chromaEfSearch": ef, "chromaBatch": batch}
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)


def milvus(args, vectors, queries, truth, wanted):
    import milvus_lite
    from pymilvus import DataType, MilvusClient

    work = tempfile.mkdtemp(prefix="conifer-bench-milvus-")
    port = free_port()
    # Its gRPC server in a process of its own (`python -m milvus_lite server`), as a server peer:
    # given a .db path, pymilvus would run it inside this process, beside the load generator.
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", work, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = None
    try:
        for _ in range(600):
            try:
                client = MilvusClient(uri=f"http://127.0.0.1:{port}")
                client.list_collections()
                break
            except Exception:
                client = None
                time.sleep(0.1)
        if client is None:
            raise RuntimeError("milvus_lite server did not answer")
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
        client.create_collection("bench", schema=schema)
        start = time.perf_counter()
        batch = 5000
        for at in range(0, len(vectors), batch):
            part = vectors[at : at + batch]
            client.insert("bench", [{"id": at + i, "vector": v} for i, v in enumerate(part)])
        # Sealed segments get the index; rows left in a growing segment are searched one by one.
        client.flush("bench")
        nlist = args.nlist
        params = MilvusClient.prepare_index_params()
        params.add_index(field_name="vector", index_type="IVF_FLAT", metric_type="L2", params={"nlist": nlist})
        try:
            client.create_index("bench", params)
            kind = f"IVF_FLAT nlist={nlist}"
        except Exception as error:  # an index type this Milvus Lite does not build
            log("milvus: IVF_FLAT refused:", error)
            params = MilvusClient.prepare_index_params()
            params.add_index(field_name="vector", index_type="FLAT", metric_type="L2")
            client.create_index("bench", params)
            kind = "FLAT"
        client.load_collection("bench")
        ingest = round(len(vectors) / (time.perf_counter() - start))
        log("milvus: ingest + index", ingest, "vectors/s;", kind)
        knob = {"nprobe": 1}

        def search(q):
            res = client.search("bench", data=[q.tolist()], limit=K, search_params={"metric_type": "L2", "params": dict(knob)})
            return [int(hit["id"]) for hit in res[0]]

        if kind.startswith("IVF"):
            nprobe, _ = tune("milvus nprobe", [1, 2, 4, 8, 16, 32, 64, 128], lambda v: knob.update(nprobe=v), search, queries, truth, wanted)
            kind += f" nprobe={nprobe}"
        rows = measure(f"milvus-lite {milvus_lite.__version__} (MilvusClient, {kind})", search, queries, truth, args.requests)
        return rows, {"milvusIngestVectorsPerSecond": ingest, "milvusIndex": kind}
    finally:
        if client is not None:
            client.close()
        stop(server)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--dimension", type=int, required=True)
    parser.add_argument("--query-count", type=int, required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--control-url", required=True)
    parser.add_argument("--index-host", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    vectors, queries, truth = load(args.data, args.count, args.dimension, args.query_count)
    rows = conifer(args, queries, truth)
    # The peers are tuned to the recall Conifer reached at concurrency 1 (its default target).
    wanted = rows[0]["recall"]
    facts = {"recallToMatch": wanted}
    for peer in (chroma, milvus):
        try:
            peer_rows, peer_facts = peer(args, vectors, queries, truth, wanted)
            rows += peer_rows
            facts.update(peer_facts)
        except Exception as error:
            log(peer.__name__, "failed:", repr(error))
            facts[f"{peer.__name__}Error"] = repr(error)
    print(json.dumps({"rows": rows, "facts": facts}))


if __name__ == "__main__":
    main()
