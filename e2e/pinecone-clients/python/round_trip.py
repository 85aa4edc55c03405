"""A round trip through the official Pinecone Python client (pinecone==10.2.0), used unchanged.

Run by e2e/src/pinecone-grpc-clients.test.ts against a real Conifer server:

    python round_trip.py --control-url http://127.0.0.1:5080 --api-key KEY --index py-grpc

(or CONIFER_URL / CONIFER_API_KEY / CONIFER_INDEX in the environment; CONIFER_INDEX_PORTS=a-b, when
set, is the range the index's port must come from).

What it does, as a user of the client would:

1. Creates a dense serverless index (dimension 8, cosine) on the control plane, with the client's
   control-plane host pointed at Conifer (`Pinecone(host=...)`: the only change a user makes).
2. Drives the whole data plane over gRPC through `pc.index(name=..., grpc=True)`, which resolves
   the index's host through describe_index. Conifer serves gRPC as plaintext HTTP/2 (h2c), so the
   client is told so the documented way: `grpc_scheme="http"` on the client.
3. Does a few calls through the legacy `PineconeGRPC(...).Index(name)` and through the REST data
   plane (`pc.index(name=...)`), which must reach the same index on the same host, its records
   search (`index.search`, by vector and by id) included.
4. Checks the errors the client raises: a wrong API key, a query of the wrong dimension.

Every step is checked (ids, score order and values, metadata, counts) and recorded; a failing
step does not stop the ones after it, so one run lists every problem. The summary is printed as
JSON on stdout; the exit code is 1 when any step failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from pinecone import (
    ApiError,
    NotFoundError,
    Pinecone,
    ServerlessSpec,
    UnauthorizedError,
)
from pinecone import __version__ as CLIENT_VERSION
from pinecone.grpc import PineconeGRPC

DIMENSION = 8
# Scores come back as float32: compare at that precision.
SCORE_TOLERANCE = 1e-4
VALUE_TOLERANCE = 1e-5


def vec(i: int) -> list[float]:
    """Record i's values: 1 at position i, falling off with the distance to it. The cosine scores
    between these differ by at least 0.001 (no ties), so the order of a query's matches is fixed
    and computed here in advance."""
    return [1.0 / (1 + abs(i - j)) for j in range(DIMENSION)]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


# The records of namespace "ns-a": six documents alternately drama and comedy, and two news items
# (listed apart by their id prefix "other#").
NS_A: dict[str, tuple[list[float], dict[str, Any]]] = {
    **{
        f"doc#{i}": (vec(i), {"genre": "drama" if i % 2 == 0 else "comedy", "year": 2000 + i, "tags": [f"t{i}"]})
        for i in range(6)
    },
    "other#0": (vec(6), {"genre": "news", "year": 1990}),
    "other#1": (vec(7), {"genre": "news", "year": 1991}),
}
# Namespace "ns-b": the same ids as ns-a's first three, other values, to show namespaces are apart.
NS_B: dict[str, tuple[list[float], dict[str, Any]]] = {f"doc#{i}": (vec(7 - i), {"genre": "drama"}) for i in range(3)}


class Mismatch(AssertionError):
    """The server answered, but not what the client should have got."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def close_to(a: list[float], b: list[float], tolerance: float = VALUE_TOLERANCE) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def ranked(query: list[float], records: dict[str, tuple[list[float], dict[str, Any]]], top_k: int) -> list[tuple[str, float]]:
    """The matches an exact cosine search must return, best first."""
    scored = sorted(((rid, cosine(query, values)) for rid, (values, _) in records.items()), key=lambda m: -m[1])
    return scored[:top_k]


def check_matches(response: Any, expected: list[tuple[str, float]], records: dict[str, tuple[list[float], dict[str, Any]]], *, with_values: bool, with_metadata: bool) -> list[str]:
    """A query's matches: the expected ids in the expected order, scores as computed and never
    increasing, and (when asked for) each record's values and metadata."""
    got = [(m.id, m.score) for m in response.matches]
    expect([i for i, _ in got] == [i for i, _ in expected], f"match ids {got} != expected {expected}")
    for (rid, score), (_, want) in zip(got, expected):
        expect(abs(score - want) <= SCORE_TOLERANCE, f"{rid}: score {score} != {want}")
    scores = [s for _, s in got]
    expect(all(a >= b for a, b in zip(scores, scores[1:])), f"scores not in descending order: {scores}")
    for m in response.matches:
        values, metadata = records[m.id]
        if with_values:
            expect(close_to(list(m.values), values), f"{m.id}: values {m.values} != {values}")
        else:
            expect(not m.values, f"{m.id}: values returned without include_values: {m.values}")
        if with_metadata:
            expect(m.metadata == metadata, f"{m.id}: metadata {m.metadata} != {metadata}")
        else:
            expect(not m.metadata, f"{m.id}: metadata returned without include_metadata: {m.metadata}")
    return [i for i, _ in got]


def list_all(index: Any, *, namespace: str, prefix: str, limit: int) -> tuple[list[str], int]:
    """Every id under `prefix`, page by page with list_paginated; also the number of pages."""
    ids: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = index.list_paginated(prefix=prefix, limit=limit, pagination_token=token, namespace=namespace)
        pages += 1
        page_ids = [v.id for v in page.vectors]
        expect(len(page_ids) <= limit, f"a page of {len(page_ids)} ids with limit {limit}")
        ids += page_ids
        token = page.pagination.next if page.pagination is not None else None
        if not token:
            return ids, pages
        expect(pages < 100, "list_paginated never ends")


class RoundTrip:
    """Runs named steps, recording each as passed or failed; a failure does not stop the run."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def step(self, name: str, action: Callable[[], Any]) -> bool:
        started = time.monotonic()
        try:
            detail = action()
        except Exception as error:  # noqa: BLE001 - every failure is recorded, whatever its type
            self.steps.append({"step": name, "ok": False, "error": f"{type(error).__name__}: {error}"})
            print(f"FAIL {name}: {type(error).__name__}: {error}", file=sys.stderr)
            if not isinstance(error, Mismatch):
                traceback.print_exc(file=sys.stderr)
            return False
        entry: dict[str, Any] = {"step": name, "ok": True, "ms": round((time.monotonic() - started) * 1000)}
        if detail is not None:
            entry["detail"] = detail
        self.steps.append(entry)
        print(f"ok   {name}", file=sys.stderr)
        return True

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [s for s in self.steps if not s["ok"]]


def raised(action: Callable[[], Any]) -> Exception:
    """The exception `action` raised; a Mismatch when it raised none."""
    try:
        action()
    except Exception as error:  # noqa: BLE001
        return error
    raise Mismatch("expected an error, the call succeeded")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--control-url", default=os.environ.get("CONIFER_URL"), help="the control plane, e.g. http://127.0.0.1:5080")
    parser.add_argument("--api-key", default=os.environ.get("CONIFER_API_KEY"))
    parser.add_argument("--index", default=os.environ.get("CONIFER_INDEX", "py-grpc"))
    parser.add_argument("--index-ports", default=os.environ.get("CONIFER_INDEX_PORTS"), help="a-b: the range the index port must be in")
    args = parser.parse_args()
    if not args.control_url or not args.api_key:
        parser.error("--control-url and --api-key (or CONIFER_URL and CONIFER_API_KEY) are required")

    run = RoundTrip()
    name: str = args.index
    state: dict[str, Any] = {}

    # The control plane: the client unchanged but for its host. grpc_scheme="http" only tells
    # pc.index(grpc=True) to dial the data plane without TLS (the client's documented setting for
    # a plaintext data plane; PINECONE_GRPC_SCHEME=http would do the same).
    pc = Pinecone(api_key=args.api_key, host=args.control_url, grpc_scheme="http")

    def create_index() -> Any:
        if pc.indexes.exists(name):
            pc.indexes.delete(name)
        # The 9.x-style call most code has: dimension, metric and a serverless spec (the client
        # translates them into its 2026-07 body). It waits until the index is ready.
        model = pc.create_index(name=name, dimension=DIMENSION, metric="cosine", spec=ServerlessSpec(cloud="aws", region="us-east-1"), timeout=120)
        expect(model.status.ready, f"created index not ready: {model.status}")
        return {"status": str(model.status.state)}

    if not run.step("control: create_index (dense, 8, cosine, serverless)", create_index):
        return finish(run, name, state)

    def describe_index() -> Any:
        model = pc.indexes.describe(name)
        host = model.host
        state["host"] = host
        # The design: each index has a port of its own, serving REST and gRPC, on the hostname the
        # request used.
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", host or "")
        expect(match is not None, f"host {host!r} is not http://127.0.0.1:<port>")
        port = int(match.group(1))  # type: ignore[union-attr]
        control_port = int(args.control_url.rsplit(":", 1)[1].rstrip("/"))
        expect(port != control_port, f"index port {port} is the control-plane port")
        if args.index_ports:
            low, high = (int(p) for p in args.index_ports.split("-"))
            expect(low <= port <= high, f"index port {port} outside CONIFER_INDEX_PORTS {args.index_ports}")
        expect(model.dimension == DIMENSION, f"dimension {model.dimension}")
        expect(str(model.metric) in ("cosine", "Metric.COSINE"), f"metric {model.metric}")
        return {"host": host}

    if not run.step("control: describe_index host", describe_index):
        return finish(run, name, state)

    expect_host: str = state["host"]

    # ---- gRPC, through pc.index(name=..., grpc=True) ----------------------------------------

    def open_grpc_index() -> Any:
        index = pc.index(name=name, grpc=True)
        state["grpc_index"] = index
        expect(index.host.rstrip("/").endswith(expect_host.split("://", 1)[1]), f"gRPC index host {index.host} != {expect_host}")
        return {"grpc_host": index.host}

    if not run.step("grpc: pc.index(name, grpc=True) resolves the described host", open_grpc_index) and "grpc_index" not in state:
        return finish(run, name, state)
    grpc_index = state.pop("grpc_index")

    def upsert() -> Any:
        a = grpc_index.upsert(vectors=[{"id": i, "values": v, "metadata": m} for i, (v, m) in NS_A.items()], namespace="ns-a", show_progress=False)
        expect(a.upserted_count == len(NS_A), f"ns-a upserted_count {a.upserted_count} != {len(NS_A)}")
        # The tuple form, (id, values, metadata), as well.
        b = grpc_index.upsert(vectors=[(i, v, m) for i, (v, m) in NS_B.items()], namespace="ns-b", show_progress=False)
        expect(b.upserted_count == len(NS_B), f"ns-b upserted_count {b.upserted_count} != {len(NS_B)}")
        return {"ns-a": a.upserted_count, "ns-b": b.upserted_count}

    run.step("grpc: upsert with metadata into two namespaces", upsert)

    def query_filter() -> Any:
        drama = {k: r for k, r in NS_A.items() if r[1]["genre"] == "drama"}
        response = grpc_index.query(vector=vec(0), top_k=3, namespace="ns-a", filter={"genre": {"$eq": "drama"}}, include_values=True, include_metadata=True)
        ids = check_matches(response, ranked(vec(0), drama, 3), NS_A, with_values=True, with_metadata=True)
        expect(response.namespace == "ns-a", f"namespace {response.namespace!r}")
        return {"ids": ids, "scores": [round(m.score, 5) for m in response.matches]}

    run.step("grpc: query by vector, metadata filter, include_values/metadata", query_filter)

    def query_filter_operators() -> Any:
        # $in, $gte and $and together; no values, no metadata asked for.
        response = grpc_index.query(vector=vec(5), top_k=10, namespace="ns-a", filter={"$and": [{"genre": {"$in": ["comedy", "news"]}}, {"year": {"$gte": 1991}}]})
        wanted = {k: r for k, r in NS_A.items() if r[1]["genre"] in ("comedy", "news") and r[1]["year"] >= 1991}
        return {"ids": check_matches(response, ranked(vec(5), wanted, 10), NS_A, with_values=False, with_metadata=False)}

    run.step("grpc: query with $and/$in/$gte filter", query_filter_operators)

    def query_by_id() -> Any:
        response = grpc_index.query(id="doc#1", top_k=3, namespace="ns-a", include_metadata=True)
        return {"ids": check_matches(response, ranked(vec(1), NS_A, 3), NS_A, with_values=False, with_metadata=True)}

    run.step("grpc: query by id", query_by_id)

    def query_other_namespace() -> Any:
        response = grpc_index.query(vector=vec(7), top_k=2, namespace="ns-b", include_metadata=True)
        return {"ids": check_matches(response, ranked(vec(7), NS_B, 2), NS_B, with_values=False, with_metadata=True)}

    run.step("grpc: query another namespace", query_other_namespace)

    def fetch() -> Any:
        response = grpc_index.fetch(ids=["doc#0", "doc#1", "missing"], namespace="ns-a")
        expect(sorted(response.vectors) == ["doc#0", "doc#1"], f"fetched ids {sorted(response.vectors)}")
        for rid, record in response.vectors.items():
            values, metadata = NS_A[rid]
            expect(record.id == rid, f"record id {record.id} under key {rid}")
            expect(close_to(list(record.values), values), f"{rid}: values {record.values}")
            expect(record.metadata == metadata, f"{rid}: metadata {record.metadata} != {metadata}")
        expect(response.namespace == "ns-a", f"namespace {response.namespace!r}")
        return {"ids": sorted(response.vectors)}

    run.step("grpc: fetch (two present, one missing)", fetch)

    def fetch_by_metadata() -> Any:
        # Paged one record at a time, to see the pagination token work.
        first = grpc_index.fetch_by_metadata(filter={"genre": {"$eq": "news"}}, namespace="ns-a", limit=1)
        expect(len(first.vectors) == 1, f"first page has {len(first.vectors)} records, limit 1")
        token = first.pagination.next if first.pagination is not None else None
        expect(bool(token), f"no pagination token after a full first page: {first.pagination}")
        second = grpc_index.fetch_by_metadata(filter={"genre": {"$eq": "news"}}, namespace="ns-a", limit=1, pagination_token=token)
        ids = sorted([*first.vectors, *second.vectors])
        expect(ids == ["other#0", "other#1"], f"fetched by metadata {ids}")
        for page in (first, second):
            for rid, record in page.vectors.items():
                expect(record.metadata == NS_A[rid][1], f"{rid}: metadata {record.metadata}")
                expect(close_to(list(record.values), NS_A[rid][0]), f"{rid}: values {record.values}")
        everything = grpc_index.fetch_by_metadata(filter={"genre": {"$eq": "news"}}, namespace="ns-a")
        expect(sorted(everything.vectors) == ["other#0", "other#1"], f"fetched without a limit {sorted(everything.vectors)}")
        return {"ids": ids}

    run.step("grpc: fetch_by_metadata with pagination", fetch_by_metadata)

    def update_by_id() -> Any:
        grpc_index.update(id="doc#3", values=vec(7), set_metadata={"genre": "thriller"}, namespace="ns-a")
        record = grpc_index.fetch(ids=["doc#3"], namespace="ns-a").vectors["doc#3"]
        expect(close_to(list(record.values), vec(7)), f"values after update {record.values}")
        # set_metadata merges: year and tags stay.
        want = {"genre": "thriller", "year": 2003, "tags": ["t3"]}
        expect(record.metadata == want, f"metadata after update {record.metadata} != {want}")
        NS_A["doc#3"] = (vec(7), want)
        return None

    run.step("grpc: update values and set_metadata by id", update_by_id)

    def update_by_filter() -> Any:
        # doc#1 and doc#5 are the comedies left (doc#3 became a thriller).
        response = grpc_index.update(filter={"genre": {"$eq": "comedy"}}, set_metadata={"rated": True}, namespace="ns-a")
        expect(response.matched_records == 2, f"matched_records {response.matched_records} != 2")
        fetched = grpc_index.fetch(ids=["doc#1", "doc#5"], namespace="ns-a").vectors
        for rid in ("doc#1", "doc#5"):
            want = {**NS_A[rid][1], "rated": True}
            expect(rid in fetched and fetched[rid].metadata == want, f"{rid}: metadata {fetched.get(rid) and fetched[rid].metadata} != {want}")
            NS_A[rid] = (NS_A[rid][0], want)
        return {"matched_records": response.matched_records}

    run.step("grpc: update set_metadata by filter", update_by_filter)

    def delete_ids() -> Any:
        grpc_index.delete(ids=["doc#5"], namespace="ns-a")
        left = grpc_index.fetch(ids=["doc#5", "doc#4"], namespace="ns-a").vectors
        expect(sorted(left) == ["doc#4"], f"after deleting doc#5, fetch finds {sorted(left)}")
        del NS_A["doc#5"]
        return None

    run.step("grpc: delete by ids", delete_ids)

    def list_ids() -> Any:
        ids, pages = list_all(grpc_index, namespace="ns-a", prefix="doc#", limit=2)
        want = sorted(k for k in NS_A if k.startswith("doc#"))
        expect(ids == want, f"listed {ids} != {want}")
        expect(pages == 3, f"{pages} pages of 2 for {len(want)} ids")
        others, _ = list_all(grpc_index, namespace="ns-a", prefix="other#", limit=100)
        expect(others == ["other#0", "other#1"], f"listed {others}")
        # The generator form walks the same pages.
        walked = [v.id for page in grpc_index.list(prefix="doc#", limit=2, namespace="ns-a") for v in page.vectors]
        expect(walked == want, f"list() walked {walked}")
        return {"ids": ids, "pages": pages}

    run.step("grpc: list with prefix and pagination", list_ids)

    def stats() -> Any:
        response = grpc_index.describe_index_stats()
        expect(response.dimension == DIMENSION, f"dimension {response.dimension}")
        counts = {ns: s.vector_count for ns, s in response.namespaces.items()}
        expect(counts.get("ns-a") == len(NS_A), f"ns-a count {counts.get('ns-a')} != {len(NS_A)}")
        expect(counts.get("ns-b") == len(NS_B), f"ns-b count {counts.get('ns-b')} != {len(NS_B)}")
        expect(response.total_vector_count == sum(counts.values()), f"total {response.total_vector_count} != sum {counts}")
        # (No filter: like Pinecone's serverless indexes, Conifer refuses one here.)
        return {"namespaces": counts, "total": response.total_vector_count}

    run.step("grpc: describe_index_stats", stats)

    def default_namespace() -> Any:
        # The default namespace is "" in the request; Pinecone reports it as "__default__".
        grpc_index.upsert(vectors=[("default#0", vec(2), {"genre": "drama"})], show_progress=False)
        fetched = grpc_index.fetch(ids=["default#0"])
        expect(list(fetched.vectors) == ["default#0"], f"fetch in the default namespace: {list(fetched.vectors)}")
        response = grpc_index.query(vector=vec(2), top_k=1)
        expect([m.id for m in response.matches] == ["default#0"], f"query in the default namespace: {[m.id for m in response.matches]}")
        counts = {ns: s.vector_count for ns, s in grpc_index.describe_index_stats().namespaces.items()}
        expect(counts.get("__default__") == 1, f"stats of the default namespace: {counts}")
        return {"namespaces": counts}

    run.step("grpc: the default namespace", default_namespace)

    def namespaces() -> Any:
        listed = {d.name: d.record_count for page in grpc_index.list_namespaces() for d in page.namespaces}
        expect(listed.get("ns-a") == len(NS_A) and listed.get("ns-b") == len(NS_B), f"list_namespaces {listed}")
        created = grpc_index.create_namespace(name="ns-c")
        expect(created.name == "ns-c" and created.record_count == 0, f"create_namespace answered {created}")
        described = grpc_index.describe_namespace(name="ns-c")
        expect(described.name == "ns-c" and described.record_count == 0, f"describe_namespace(ns-c) {described}")
        described_a = grpc_index.describe_namespace(name="ns-a")
        expect(described_a.record_count == len(NS_A), f"describe_namespace(ns-a) {described_a}")
        # Two at a time, with the prefix: ns-a, ns-b, then ns-c.
        first = grpc_index.list_namespaces_paginated(prefix="ns-", limit=2)
        expect([d.name for d in first.namespaces] == ["ns-a", "ns-b"], f"first page {[d.name for d in first.namespaces]}")
        token = first.pagination.next if first.pagination is not None else None
        expect(bool(token), f"no pagination token after a full page: {first.pagination}")
        second = grpc_index.list_namespaces_paginated(prefix="ns-", limit=2, pagination_token=token)
        expect([d.name for d in second.namespaces] == ["ns-c"], f"second page {[d.name for d in second.namespaces]}")
        grpc_index.delete_namespace(name="ns-b")
        gone = raised(lambda: grpc_index.describe_namespace(name="ns-b"))
        expect(isinstance(gone, NotFoundError), f"describe_namespace of a deleted namespace raised {type(gone).__name__}: {gone}")
        counts = {ns: s.vector_count for ns, s in grpc_index.describe_index_stats().namespaces.items()}
        expect("ns-b" not in counts, f"ns-b still in stats after delete_namespace: {counts}")
        grpc_index.delete_namespace(name="ns-c")
        return {"listed": listed, "total_count": first.total_count}

    run.step("grpc: list/describe/create/delete namespaces", namespaces)

    # ---- The legacy gRPC client: PineconeGRPC(...).Index(name) --------------------------------

    def legacy() -> Any:
        legacy_pc = PineconeGRPC(api_key=args.api_key, host=args.control_url, grpc_scheme="http")
        index = legacy_pc.Index(name)
        records = {f"legacy#{i}": (vec(i), {"n": i}) for i in range(3)}
        upserted = index.upsert(vectors=[(k, v, m) for k, (v, m) in records.items()], namespace="legacy", show_progress=False)
        expect(upserted.upserted_count == 3, f"upserted_count {upserted.upserted_count}")
        response = index.query(vector=vec(2), top_k=2, namespace="legacy", include_metadata=True, include_values=True)
        ids = check_matches(response, ranked(vec(2), records, 2), records, with_values=True, with_metadata=True)
        fetched = index.fetch(ids=["legacy#0"], namespace="legacy").vectors
        expect(fetched["legacy#0"].metadata == {"n": 0}, f"fetched {fetched}")
        counts = {ns: s.vector_count for ns, s in index.describe_index_stats().namespaces.items()}
        expect(counts.get("legacy") == 3, f"stats {counts}")
        index.close()
        return {"ids": ids}

    run.step("legacy PineconeGRPC(...).Index(name): upsert, query, fetch, stats", legacy)

    # ---- REST data plane on the same host: pc.index(name=...) ---------------------------------

    def rest() -> Any:
        index = pc.index(name=name)
        expect(index.host.rstrip("/") == expect_host.rstrip("/"), f"REST index host {index.host} != {expect_host}")
        # What gRPC wrote, REST reads...
        fetched = index.fetch(ids=["doc#0"], namespace="ns-a").vectors
        expect("doc#0" in fetched and fetched["doc#0"].metadata == NS_A["doc#0"][1], f"REST fetch {fetched}")
        drama = {k: r for k, r in NS_A.items() if r[1]["genre"] == "drama"}
        response = index.query(vector=vec(0), top_k=3, namespace="ns-a", filter={"genre": {"$eq": "drama"}}, include_metadata=True)
        ids = check_matches(response, ranked(vec(0), drama, 3), NS_A, with_values=False, with_metadata=True)
        listed = [v.id for page in index.list(prefix="doc#", namespace="ns-a") for v in page.vectors]
        expect(listed == sorted(k for k in NS_A if k.startswith("doc#")), f"REST list {listed}")
        # ...and what REST writes, gRPC reads.
        index.upsert(vectors=[("rest#0", vec(4), {"via": "rest"})], namespace="rest", show_progress=False)
        via_grpc = grpc_index.fetch(ids=["rest#0"], namespace="rest").vectors
        expect("rest#0" in via_grpc and via_grpc["rest#0"].metadata == {"via": "rest"}, f"gRPC fetch of a REST write {via_grpc}")
        rest_stats = {ns: s.vector_count for ns, s in index.describe_index_stats().namespaces.items()}
        grpc_stats = {ns: s.vector_count for ns, s in grpc_index.describe_index_stats().namespaces.items()}
        expect(rest_stats == grpc_stats, f"REST stats {rest_stats} != gRPC stats {grpc_stats}")
        rest_namespaces = sorted(d.name for page in index.list_namespaces() for d in page.namespaces)
        expect(rest_namespaces == sorted(grpc_stats), f"REST list_namespaces {rest_namespaces} != {sorted(grpc_stats)}")
        index.close()
        return {"query_ids": ids, "namespaces": rest_stats}

    run.step("rest: pc.index(name) on the same host reads gRPC's writes and vice versa", rest)

    def rest_search() -> Any:
        # The records API's search (POST /records/namespaces/{ns}/search) by vector and by id: no
        # embedding model needed. Hits are the query's matches, with the metadata as `fields`.
        index = pc.index(name=name)
        drama = {k: r for k, r in NS_A.items() if r[1]["genre"] == "drama"}
        want = ranked(vec(0), drama, 3)
        response = index.search(namespace="ns-a", top_k=3, vector=vec(0), filter={"genre": {"$eq": "drama"}})
        got = [(h.id, h.score) for h in response.result.hits]
        expect([i for i, _ in got] == [i for i, _ in want], f"search hit ids {got} != expected {want}")
        for (rid, score), (_, wanted) in zip(got, want):
            expect(abs(score - wanted) <= SCORE_TOLERANCE, f"{rid}: score {score} != {wanted}")
        # No `fields`: every metadata field.
        for hit in response.result.hits:
            expect(hit.fields == NS_A[hit.id][1], f"{hit.id}: fields {hit.fields} != metadata {NS_A[hit.id][1]}")
        expect(response.usage.read_units > 0, f"read_units {response.usage.read_units}")
        by_id = index.search(namespace="ns-a", top_k=2, id="doc#1", fields=["year"])
        want_id = ranked(vec(1), NS_A, 2)
        expect([h.id for h in by_id.result.hits] == [i for i, _ in want_id], f"search by id {[h.id for h in by_id.result.hits]} != {want_id}")
        for hit in by_id.result.hits:
            expect(hit.fields == {"year": NS_A[hit.id][1]["year"]}, f"{hit.id}: fields {hit.fields} with fields=['year']")
        # Searching by text needs an embedding model: a 400 saying so, not a crash or a retry.
        error = raised(lambda: index.search(namespace="ns-a", top_k=1, inputs={"text": "drama"}))
        status = getattr(error, "status_code", None)
        expect(isinstance(error, ApiError) and status == 400, f"text search raised {type(error).__name__} ({status}): {error}")
        expect("query.inputs" in str(error), f"the message does not name query.inputs: {error}")
        index.close()
        return {"by_vector": [i for i, _ in got], "by_id": [h.id for h in by_id.result.hits]}

    run.step("rest: index.search by vector (with filter) and by id, fields as metadata", rest_search)

    # ---- Errors, as the client raises them -----------------------------------------------------

    def wrong_key() -> Any:
        # The host is given, so no describe_index (which the wrong key would fail first) is made:
        # this is the gRPC data plane refusing the key sent as `api-key` metadata.
        bad = Pinecone(api_key="not-the-key-0123456789", host=args.control_url, grpc_scheme="http").index(host=expect_host, grpc=True)
        error = raised(lambda: bad.describe_index_stats())
        bad.close()
        expect(isinstance(error, UnauthorizedError), f"wrong key raised {type(error).__name__}: {error}")
        return {"raised": type(error).__name__, "message": str(error)[:200]}

    run.step("grpc error: wrong API key -> UnauthorizedError", wrong_key)

    def wrong_dimension() -> Any:
        error = raised(lambda: grpc_index.query(vector=[0.1, 0.2, 0.3], top_k=1, namespace="ns-a"))
        # The client has no error class of its own for INVALID_ARGUMENT: it raises its ApiError
        # with the HTTP status that code stands for, 400 ("[400 INVALID_ARGUMENT] <message>").
        expect(isinstance(error, ApiError), f"raised {type(error).__name__}: {error}")
        status = getattr(error, "status_code", None)
        expect(status == 400, f"status_code {status}, want 400 (INVALID_ARGUMENT): {error}")
        expect("dimension" in str(error).lower(), f"the message does not mention the dimension: {error}")
        return {"raised": type(error).__name__, "status_code": status, "message": str(error)[:200]}

    run.step("grpc error: query of the wrong dimension -> invalid argument naming the dimension", wrong_dimension)

    grpc_index.close()

    # ---- A sparse-only index: created as 9.x code does, used over gRPC and REST ----------------

    sparse_name = f"{name}-sparse"

    def sparse_round_trip() -> Any:
        if pc.indexes.exists(sparse_name):
            pc.indexes.delete(sparse_name)
        model = pc.create_index(name=sparse_name, metric="dotproduct", vector_type="sparse", spec=ServerlessSpec(cloud="aws", region="us-east-1"), timeout=120)
        expect(model.status.ready, f"sparse index not ready: {model.status}")
        index = pc.index(name=sparse_name, grpc=True)
        try:
            docs = {
                "a": ({"indices": [1, 5], "values": [0.5, 2.0]}, {"lang": "en"}),
                "b": ({"indices": [5, 9], "values": [1.0, 1.0]}, {"lang": "fr"}),
                "c": ({"indices": [3], "values": [4.0]}, {"lang": "en"}),
            }
            upserted = index.upsert(vectors=[{"id": i, "sparse_values": sv, "metadata": m} for i, (sv, m) in docs.items()], show_progress=False)
            expect(upserted.upserted_count == 3, f"upserted_count {upserted.upserted_count}")
            query = {"indices": [5, 1], "values": [1.0, 2.0]}
            response = index.query(sparse_vector=query, top_k=5, include_metadata=True)
            got = [(m.id, round(m.score, 4)) for m in response.matches]
            # a: 0.5·2 + 2·1 = 3; b: 1·1; c shares no dimension.
            expect(got == [("a", 3.0), ("b", 1.0)], f"grpc sparse query {got}")
            filtered = index.query(sparse_vector={"indices": [5], "values": [1.0]}, top_k=5, filter={"lang": {"$eq": "fr"}})
            expect([m.id for m in filtered.matches] == ["b"], f"filtered {[m.id for m in filtered.matches]}")
            fetched = index.fetch(ids=["c"])
            sv = fetched.vectors["c"].sparse_values
            expect(list(sv.indices) == [3] and list(sv.values) == [4.0], f"fetched sparse values {sv}")
            rest = pc.index(name=sparse_name)
            rest_response = rest.query(sparse_vector=query, top_k=1)
            expect([m.id for m in rest_response.matches] == ["a"], f"rest sparse query {[m.id for m in rest_response.matches]}")
            stats = index.describe_index_stats()
            expect(stats.total_vector_count == 3, f"total_vector_count {stats.total_vector_count}")
            return {"grpc": got, "rest": [m.id for m in rest_response.matches]}
        finally:
            index.close()
            pc.indexes.delete(sparse_name)

    run.step("sparse index: create (vector_type=sparse), upsert, query with filter, fetch over gRPC; query over REST; stats", sparse_round_trip)

    def delete_index() -> Any:
        pc.indexes.delete(name)
        expect(not pc.indexes.exists(name), "index still exists after delete")
        return None

    run.step("control: delete_index", delete_index)
    pc.close()
    return finish(run, name, state)


def finish(run: RoundTrip, index: str, state: dict[str, Any]) -> int:
    summary = {
        "client": f"pinecone (Python) {CLIENT_VERSION}",
        "index": index,
        "host": state.get("host"),
        "passed": len(run.steps) - len(run.failed),
        "failed": len(run.failed),
        "steps": run.steps,
    }
    print(json.dumps(summary, indent=2, default=str))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
