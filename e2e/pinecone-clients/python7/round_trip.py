"""A round trip through the grpcio-based Pinecone Python client (`pinecone[grpc]` 7.3.0), unchanged.

Run by e2e/src/pinecone-grpc-clients.test.ts against a real Conifer server (CONIFER_URL,
CONIFER_API_KEY, CONIFER_INDEX in the environment).

Clients 7.x–9.x dial the gRPC host as they are given it, keeping an `http://` scheme in the target,
which gRPC cannot resolve: as with Pinecone Local, the index is reached by its host without the
scheme and a plaintext channel (`GRPCClientConfig(secure=False)`), the documented way. Every step
is checked and recorded; the JSON summary is printed last; the exit code is 1 when a step failed.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from pinecone import ServerlessSpec
from pinecone.grpc import GRPCClientConfig, PineconeGRPC

DIMENSION = 4
steps: list[dict] = []


def step(name: str, fn) -> None:
    try:
        fn()
        steps.append({"step": name, "ok": True})
    except Exception as error:  # noqa: BLE001 - every failure is recorded, the run goes on
        steps.append({"step": name, "ok": False, "error": f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"})


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def main() -> int:
    url, key, name = os.environ["CONIFER_URL"], os.environ["CONIFER_API_KEY"], os.environ["CONIFER_INDEX"]
    pc = PineconeGRPC(api_key=key, host=url)
    pc.create_index(name=name, dimension=DIMENSION, metric="cosine", spec=ServerlessSpec(cloud="aws", region="us-east-1"))
    host = pc.describe_index(name).host
    expect(host.startswith("http://127.0.0.1:"), f"host {host!r}")
    index = pc.Index(host=host.removeprefix("http://"), grpc_config=GRPCClientConfig(secure=False))
    vectors = [(f"v{i}", [1.0, float(i), float(i * i), 1.0 / (i + 1)], {"genre": "drama" if i % 2 == 0 else "comedy", "year": 2000 + i}) for i in range(10)]

    def upsert():
        response = index.upsert(vectors=vectors, namespace="ns")
        expect(response.upserted_count == 10, f"upserted {response.upserted_count}")

    def query():
        response = index.query(vector=vectors[4][1], top_k=3, namespace="ns", filter={"genre": {"$eq": "drama"}}, include_metadata=True)
        ids = [m.id for m in response.matches]
        expect(ids[0] == "v4", f"matches {ids}")
        expect(all(m.metadata["genre"] == "drama" for m in response.matches), "filter not applied")
        scores = [m.score for m in response.matches]
        expect(scores == sorted(scores, reverse=True), f"scores {scores}")

    def query_by_id():
        response = index.query(id="v7", top_k=1, namespace="ns")
        expect(response.matches[0].id == "v7", f"matches {[m.id for m in response.matches]}")

    def fetch():
        response = index.fetch(ids=["v1", "nope"], namespace="ns")
        expect(list(response.vectors.keys()) == ["v1"], f"fetched {list(response.vectors.keys())}")
        expect([round(x, 5) for x in response.vectors["v1"].values] == [1.0, 1.0, 1.0, 0.5], f"values {response.vectors['v1'].values}")

    def update():
        index.update(id="v1", set_metadata={"genre": "drama"}, namespace="ns")
        response = index.fetch(ids=["v1"], namespace="ns")
        expect(response.vectors["v1"].metadata["genre"] == "drama", f"metadata {response.vectors['v1'].metadata}")

    def delete():
        index.delete(ids=["v0", "v1"], namespace="ns")
        response = index.fetch(ids=["v0", "v1", "v2"], namespace="ns")
        expect(list(response.vectors.keys()) == ["v2"], f"after delete {list(response.vectors.keys())}")

    def stats():
        response = index.describe_index_stats()
        expect(response.dimension == DIMENSION, f"dimension {response.dimension}")
        expect(response.namespaces["ns"].vector_count == 8, f"namespaces {response.namespaces}")

    def wrong_dimension():
        try:
            index.query(vector=[1.0, 2.0], top_k=1, namespace="ns")
        except Exception as error:  # noqa: BLE001 - the client's gRPC error type varies by version
            expect("dimension" in str(error), f"error {error}")
            return
        raise AssertionError("a query of the wrong dimension succeeded")

    for name_, fn in [("upsert", upsert), ("query with filter", query), ("query by id", query_by_id), ("fetch", fetch), ("update", update), ("delete", delete), ("describe_index_stats", stats), ("wrong dimension", wrong_dimension)]:
        step(name_, fn)
    pc.delete_index(name)
    passed = sum(1 for s in steps if s["ok"])
    print(json.dumps({"client": "pinecone[grpc] 7.3.0", "passed": passed, "failed": len(steps) - passed, "steps": steps}, indent=2))
    return 0 if passed == len(steps) else 1


if __name__ == "__main__":
    sys.exit(main())
