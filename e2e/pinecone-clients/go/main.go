// A round trip through the official Pinecone Go client (github.com/pinecone-io/go-pinecone/v5
// v5.2.0), used unchanged, against a real Conifer server. Built and run by
// e2e/src/pinecone-grpc-clients.test.ts:
//
//	round-trip -control-url http://127.0.0.1:5080 -api-key KEY -index go-grpc
//
// (or CONIFER_URL / CONIFER_API_KEY / CONIFER_INDEX in the environment; CONIFER_INDEX_PORTS=a-b,
// when set, is the range the index's port must come from).
//
// It creates a dense serverless index (dimension 8, cosine) on the control plane — the client's
// only change is NewClientParams.Host — then drives the data plane over gRPC through
// pc.Index(NewIndexConnParams{Host: <describe_index's host>}): the host's http:// scheme is what
// makes the client dial plaintext HTTP/2, which is how Conifer serves gRPC. Every step is checked
// (ids, score order and values, metadata, counts) and recorded; a failing step does not stop the
// ones after it, so one run lists every problem. The summary is printed as JSON on stdout; the
// exit code is 1 when any step failed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pinecone-io/go-pinecone/v5/pinecone"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const dimension = 8

// Scores come back as float32: compare at that precision.
const scoreTolerance = 1e-4
const valueTolerance = 1e-5

// vec is record i's values: 1 at position i, falling off with the distance to it. The cosine
// scores between these differ by at least 0.001 (no ties), so the order of a query's matches is
// fixed and computed here in advance.
func vec(i int) []float32 {
	v := make([]float32, dimension)
	for j := range v {
		v[j] = float32(1 / (1 + math.Abs(float64(i-j))))
	}
	return v
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// record is what the round trip wrote under one id: its values and metadata.
type record struct {
	values   []float32
	metadata map[string]any
}

type records map[string]record

// nsA is namespace "ns-a": six documents alternately drama and comedy, and two news items (listed
// apart by their id prefix "other#"). Numbers are float64: that is what metadata (a
// google.protobuf.Struct) gives back.
func nsA() records {
	r := records{}
	for i := 0; i < 6; i++ {
		genre := "comedy"
		if i%2 == 0 {
			genre = "drama"
		}
		r[fmt.Sprintf("doc#%d", i)] = record{vec(i), map[string]any{"genre": genre, "year": float64(2000 + i), "tags": []any{fmt.Sprintf("t%d", i)}}}
	}
	r["other#0"] = record{vec(6), map[string]any{"genre": "news", "year": float64(1990)}}
	r["other#1"] = record{vec(7), map[string]any{"genre": "news", "year": float64(1991)}}
	return r
}

// nsB is namespace "ns-b": the same ids as ns-a's first three, other values.
func nsB() records {
	r := records{}
	for i := 0; i < 3; i++ {
		r[fmt.Sprintf("doc#%d", i)] = record{vec(7 - i), map[string]any{"genre": "drama"}}
	}
	return r
}

func (r records) where(keep func(id string, rec record) bool) records {
	out := records{}
	for id, rec := range r {
		if keep(id, rec) {
			out[id] = rec
		}
	}
	return out
}

type scored struct {
	id    string
	score float64
}

// ranked is what an exact cosine search of r for query must return, best first.
func ranked(query []float32, r records, topK int) []scored {
	out := make([]scored, 0, len(r))
	for id, rec := range r {
		out = append(out, scored{id, cosine(query, rec.values)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].score > out[j].score })
	if len(out) > topK {
		out = out[:topK]
	}
	return out
}

// mismatch is a step's failure where the server answered, but not what the client should get.
func mismatch(format string, args ...any) error { return fmt.Errorf("mismatch: "+format, args...) }

func closeTo(a []float32, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > valueTolerance {
			return false
		}
	}
	return true
}

func valuesOf(v *pinecone.Vector) []float32 {
	if v == nil || v.Values == nil {
		return nil
	}
	return *v.Values
}

func metadataOf(v *pinecone.Vector) map[string]any {
	if v == nil || v.Metadata == nil {
		return nil
	}
	return v.Metadata.AsMap()
}

// checkMatches: a query's matches are the expected ids in the expected order, their scores as
// computed and never increasing, and (when asked for) each record's values and metadata.
func checkMatches(res *pinecone.QueryVectorsResponse, want []scored, r records, withValues, withMetadata bool) ([]string, error) {
	ids := []string{}
	for _, m := range res.Matches {
		ids = append(ids, m.Vector.Id)
	}
	wantIds := []string{}
	for _, w := range want {
		wantIds = append(wantIds, w.id)
	}
	if !reflect.DeepEqual(ids, wantIds) {
		return ids, mismatch("match ids %v, want %v", ids, wantIds)
	}
	for i, m := range res.Matches {
		if math.Abs(float64(m.Score)-want[i].score) > scoreTolerance {
			return ids, mismatch("%s: score %v, want %v", m.Vector.Id, m.Score, want[i].score)
		}
		if i > 0 && m.Score > res.Matches[i-1].Score {
			return ids, mismatch("scores not in descending order at %d: %v > %v", i, m.Score, res.Matches[i-1].Score)
		}
		rec := r[m.Vector.Id]
		if withValues && !closeTo(valuesOf(m.Vector), rec.values) {
			return ids, mismatch("%s: values %v, want %v", m.Vector.Id, valuesOf(m.Vector), rec.values)
		}
		if !withValues && len(valuesOf(m.Vector)) > 0 {
			return ids, mismatch("%s: values returned without IncludeValues: %v", m.Vector.Id, valuesOf(m.Vector))
		}
		if withMetadata && !reflect.DeepEqual(metadataOf(m.Vector), rec.metadata) {
			return ids, mismatch("%s: metadata %v, want %v", m.Vector.Id, metadataOf(m.Vector), rec.metadata)
		}
		if !withMetadata && len(metadataOf(m.Vector)) > 0 {
			return ids, mismatch("%s: metadata returned without IncludeMetadata: %v", m.Vector.Id, metadataOf(m.Vector))
		}
	}
	return ids, nil
}

func upsertVectors(r records) ([]*pinecone.Vector, error) {
	out := []*pinecone.Vector{}
	for _, id := range sortedKeys(r) {
		metadata, err := pinecone.NewMetadata(r[id].metadata)
		if err != nil {
			return nil, err
		}
		values := append([]float32(nil), r[id].values...)
		out = append(out, &pinecone.Vector{Id: id, Values: &values, Metadata: metadata})
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func filter(m map[string]any) *pinecone.MetadataFilter {
	f, err := pinecone.NewMetadataFilter(m)
	if err != nil {
		panic(err) // the filters below are literals
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// step is one recorded step of the run.
type step struct {
	Step   string `json:"step"`
	Ok     bool   `json:"ok"`
	Ms     int64  `json:"ms,omitempty"`
	Error  string `json:"error,omitempty"`
	Detail any    `json:"detail,omitempty"`
}

type run struct{ steps []step }

// do runs one step, recording it; a failure does not stop the run.
func (r *run) do(name string, action func() (any, error)) bool {
	started := time.Now()
	detail, err := func() (detail any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return action()
	}()
	if err != nil {
		r.steps = append(r.steps, step{Step: name, Ok: false, Error: describeError(err)})
		fmt.Fprintf(os.Stderr, "FAIL %s: %s\n", name, describeError(err))
		return false
	}
	r.steps = append(r.steps, step{Step: name, Ok: true, Ms: time.Since(started).Milliseconds(), Detail: detail})
	fmt.Fprintf(os.Stderr, "ok   %s\n", name)
	return true
}

// describeError names a gRPC status's code, so a failure says what the server answered.
func describeError(err error) string {
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return fmt.Sprintf("gRPC %s: %s", s.Code(), s.Message())
	}
	return err.Error()
}

func (r *run) failed() int {
	n := 0
	for _, s := range r.steps {
		if !s.Ok {
			n++
		}
	}
	return n
}

func (r *run) finish(index, host string) int {
	summary := map[string]any{
		"client": "go-pinecone v5.2.0",
		"index":  index,
		"host":   host,
		"passed": len(r.steps) - r.failed(),
		"failed": r.failed(),
		"steps":  r.steps,
	}
	out, _ := json.MarshalIndent(summary, "", "  ")
	fmt.Println(string(out))
	if r.failed() > 0 {
		return 1
	}
	return 0
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() { os.Exit(roundTrip()) }

func roundTrip() int {
	controlURL := flag.String("control-url", os.Getenv("CONIFER_URL"), "the control plane, e.g. http://127.0.0.1:5080")
	apiKey := flag.String("api-key", os.Getenv("CONIFER_API_KEY"), "the API key")
	name := flag.String("index", env("CONIFER_INDEX", "go-grpc"), "the index to create")
	indexPorts := flag.String("index-ports", os.Getenv("CONIFER_INDEX_PORTS"), "a-b: the range the index port must be in")
	flag.Parse()
	if *controlURL == "" || *apiKey == "" {
		fmt.Fprintln(os.Stderr, "-control-url and -api-key (or CONIFER_URL and CONIFER_API_KEY) are required")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := &run{}
	host := ""

	pc, err := pinecone.NewClient(pinecone.NewClientParams{ApiKey: *apiKey, Host: *controlURL})
	if err != nil {
		r.do("control: NewClient", func() (any, error) { return nil, err })
		return r.finish(*name, host)
	}

	createIndex := func() (any, error) {
		if _, err := pc.DescribeIndex(ctx, *name); err == nil {
			if err := pc.DeleteIndex(ctx, *name); err != nil {
				return nil, err
			}
		}
		metric := pinecone.Cosine
		created, err := pc.CreateServerlessIndex(ctx, &pinecone.CreateServerlessIndexRequest{
			Name: *name, Dimension: ptr(int32(dimension)), Metric: &metric, Cloud: pinecone.Aws, Region: "us-east-1",
		})
		if err != nil {
			return nil, err
		}
		// CreateServerlessIndex does not wait: poll until the index is ready, as a user would.
		for deadline := time.Now().Add(2 * time.Minute); ; {
			idx, err := pc.DescribeIndex(ctx, *name)
			if err != nil {
				return nil, err
			}
			if idx.Status != nil && idx.Status.Ready {
				return map[string]any{"state": idx.Status.State, "created_host": created.Host}, nil
			}
			if time.Now().After(deadline) {
				return nil, mismatch("index not ready after 2 minutes: %+v", idx.Status)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !r.do("control: CreateServerlessIndex (dense, 8, cosine)", createIndex) {
		return r.finish(*name, host)
	}

	describeIndex := func() (any, error) {
		idx, err := pc.DescribeIndex(ctx, *name)
		if err != nil {
			return nil, err
		}
		host = idx.Host
		// The design: each index has a port of its own, serving REST and gRPC, on the hostname the
		// request used.
		m := regexp.MustCompile(`^http://127\.0\.0\.1:(\d+)$`).FindStringSubmatch(host)
		if m == nil {
			return nil, mismatch("host %q is not http://127.0.0.1:<port>", host)
		}
		port, _ := strconv.Atoi(m[1])
		if strings.HasSuffix(strings.TrimRight(*controlURL, "/"), ":"+m[1]) {
			return nil, mismatch("index port %d is the control-plane port", port)
		}
		if *indexPorts != "" {
			var low, high int
			if _, err := fmt.Sscanf(*indexPorts, "%d-%d", &low, &high); err == nil && (port < low || port > high) {
				return nil, mismatch("index port %d outside CONIFER_INDEX_PORTS %s", port, *indexPorts)
			}
		}
		if idx.Dimension == nil || *idx.Dimension != dimension || idx.Metric != pinecone.Cosine {
			return nil, mismatch("dimension %v metric %v", idx.Dimension, idx.Metric)
		}
		return map[string]any{"host": host}, nil
	}
	if !r.do("control: DescribeIndex host", describeIndex) {
		return r.finish(*name, host)
	}

	// The index connection: the host as described (its http:// scheme makes the channel
	// plaintext), one connection per namespace as the client is meant to be used.
	var a *pinecone.IndexConnection
	if !r.do("grpc: pc.Index(NewIndexConnParams{Host, Namespace})", func() (any, error) {
		var err error
		a, err = pc.Index(pinecone.NewIndexConnParams{Host: host, Namespace: "ns-a"})
		return nil, err
	}) {
		return r.finish(*name, host)
	}
	defer a.Close()
	b := a.WithNamespace("ns-b")
	recA, recB := nsA(), nsB()

	r.do("grpc: UpsertVectors with metadata into two namespaces", func() (any, error) {
		va, err := upsertVectors(recA)
		if err != nil {
			return nil, err
		}
		na, err := a.UpsertVectors(ctx, va)
		if err != nil {
			return nil, err
		}
		vb, err := upsertVectors(recB)
		if err != nil {
			return nil, err
		}
		nb, err := b.UpsertVectors(ctx, vb)
		if err != nil {
			return nil, err
		}
		if int(na) != len(recA) || int(nb) != len(recB) {
			return nil, mismatch("upserted %d and %d, want %d and %d", na, nb, len(recA), len(recB))
		}
		return map[string]any{"ns-a": na, "ns-b": nb}, nil
	})

	r.do("grpc: QueryByVectorValues with a metadata filter, values and metadata", func() (any, error) {
		res, err := a.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{
			Vector: vec(0), TopK: 3, MetadataFilter: filter(map[string]any{"genre": map[string]any{"$eq": "drama"}}), IncludeValues: true, IncludeMetadata: true,
		})
		if err != nil {
			return nil, err
		}
		drama := recA.where(func(_ string, rec record) bool { return rec.metadata["genre"] == "drama" })
		ids, err := checkMatches(res, ranked(vec(0), drama, 3), recA, true, true)
		return map[string]any{"ids": ids}, err
	})

	r.do("grpc: QueryByVectorValues with $and/$in/$gte", func() (any, error) {
		res, err := a.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{
			Vector: vec(5), TopK: 10,
			MetadataFilter: filter(map[string]any{"$and": []any{
				map[string]any{"genre": map[string]any{"$in": []any{"comedy", "news"}}},
				map[string]any{"year": map[string]any{"$gte": 1991}},
			}}),
		})
		if err != nil {
			return nil, err
		}
		wanted := recA.where(func(_ string, rec record) bool {
			g := rec.metadata["genre"]
			return (g == "comedy" || g == "news") && rec.metadata["year"].(float64) >= 1991
		})
		ids, err := checkMatches(res, ranked(vec(5), wanted, 10), recA, false, false)
		return map[string]any{"ids": ids}, err
	})

	r.do("grpc: QueryByVectorId", func() (any, error) {
		res, err := a.QueryByVectorId(ctx, &pinecone.QueryByVectorIdRequest{VectorId: "doc#1", TopK: 3, IncludeMetadata: true})
		if err != nil {
			return nil, err
		}
		ids, err := checkMatches(res, ranked(vec(1), recA, 3), recA, false, true)
		return map[string]any{"ids": ids}, err
	})

	r.do("grpc: QueryByVectorValues in another namespace", func() (any, error) {
		res, err := b.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{Vector: vec(7), TopK: 2, IncludeMetadata: true})
		if err != nil {
			return nil, err
		}
		ids, err := checkMatches(res, ranked(vec(7), recB, 2), recB, false, true)
		return map[string]any{"ids": ids}, err
	})

	checkFetched := func(got map[string]*pinecone.Vector, want records, ids []string) error {
		if !reflect.DeepEqual(sortedKeys(got), ids) {
			return mismatch("fetched %v, want %v", sortedKeys(got), ids)
		}
		for _, id := range ids {
			if got[id].Id != id || !closeTo(valuesOf(got[id]), want[id].values) || !reflect.DeepEqual(metadataOf(got[id]), want[id].metadata) {
				return mismatch("%s: fetched id %q values %v metadata %v, want %v %v", id, got[id].Id, valuesOf(got[id]), metadataOf(got[id]), want[id].values, want[id].metadata)
			}
		}
		return nil
	}

	r.do("grpc: FetchVectors (two present, one missing)", func() (any, error) {
		res, err := a.FetchVectors(ctx, []string{"doc#0", "doc#1", "missing"})
		if err != nil {
			return nil, err
		}
		if res.Namespace != "ns-a" {
			return nil, mismatch("namespace %q", res.Namespace)
		}
		return sortedKeys(res.Vectors), checkFetched(res.Vectors, recA, []string{"doc#0", "doc#1"})
	})

	r.do("grpc: FetchVectorsByMetadata with pagination", func() (any, error) {
		news := filter(map[string]any{"genre": map[string]any{"$eq": "news"}})
		first, err := a.FetchVectorsByMetadata(ctx, &pinecone.FetchVectorsByMetadataRequest{Filter: news, Limit: ptr(uint32(1))})
		if err != nil {
			return nil, err
		}
		if len(first.Vectors) != 1 || first.Pagination == nil || first.Pagination.Next == "" {
			return nil, mismatch("first page: %d records (limit 1), pagination %+v", len(first.Vectors), first.Pagination)
		}
		second, err := a.FetchVectorsByMetadata(ctx, &pinecone.FetchVectorsByMetadataRequest{Filter: news, Limit: ptr(uint32(1)), PaginationToken: &first.Pagination.Next})
		if err != nil {
			return nil, err
		}
		both := map[string]*pinecone.Vector{}
		for id, v := range first.Vectors {
			both[id] = v
		}
		for id, v := range second.Vectors {
			both[id] = v
		}
		return sortedKeys(both), checkFetched(both, recA, []string{"other#0", "other#1"})
	})

	r.do("grpc: UpdateVector values and metadata", func() (any, error) {
		metadata, _ := pinecone.NewMetadata(map[string]any{"genre": "thriller"})
		if err := a.UpdateVector(ctx, &pinecone.UpdateVectorRequest{Id: "doc#3", Values: vec(7), Metadata: metadata}); err != nil {
			return nil, err
		}
		// Metadata given to an update is merged in: year and tags stay.
		recA["doc#3"] = record{vec(7), map[string]any{"genre": "thriller", "year": float64(2003), "tags": []any{"t3"}}}
		res, err := a.FetchVectors(ctx, []string{"doc#3"})
		if err != nil {
			return nil, err
		}
		return nil, checkFetched(res.Vectors, recA, []string{"doc#3"})
	})

	r.do("grpc: UpdateVectorsByMetadata", func() (any, error) {
		// doc#1 and doc#5 are the comedies left (doc#3 became a thriller).
		metadata, _ := pinecone.NewMetadata(map[string]any{"rated": true})
		res, err := a.UpdateVectorsByMetadata(ctx, &pinecone.UpdateVectorsByMetadataRequest{Filter: filter(map[string]any{"genre": map[string]any{"$eq": "comedy"}}), Metadata: metadata})
		if err != nil {
			return nil, err
		}
		if res.MatchedRecords != 2 {
			return nil, mismatch("MatchedRecords %d, want 2", res.MatchedRecords)
		}
		for _, id := range []string{"doc#1", "doc#5"} {
			rec := recA[id]
			rec.metadata["rated"] = true
		}
		fetched, err := a.FetchVectors(ctx, []string{"doc#1", "doc#5"})
		if err != nil {
			return nil, err
		}
		return map[string]any{"matched_records": res.MatchedRecords}, checkFetched(fetched.Vectors, recA, []string{"doc#1", "doc#5"})
	})

	r.do("grpc: DeleteVectorsById", func() (any, error) {
		if err := a.DeleteVectorsById(ctx, []string{"doc#5"}); err != nil {
			return nil, err
		}
		delete(recA, "doc#5")
		res, err := a.FetchVectors(ctx, []string{"doc#5", "doc#4"})
		if err != nil {
			return nil, err
		}
		return nil, checkFetched(res.Vectors, recA, []string{"doc#4"})
	})

	r.do("grpc: ListVectors with prefix and pagination", func() (any, error) {
		ids := []string{}
		pages := 0
		var token *string
		for {
			res, err := a.ListVectors(ctx, &pinecone.ListVectorsRequest{Prefix: ptr("doc#"), Limit: ptr(uint32(2)), PaginationToken: token})
			if err != nil {
				return nil, err
			}
			pages++
			if len(res.VectorIds) > 2 {
				return nil, mismatch("a page of %d ids with limit 2", len(res.VectorIds))
			}
			for _, id := range res.VectorIds {
				ids = append(ids, *id)
			}
			if res.NextPaginationToken == nil || *res.NextPaginationToken == "" || pages > 100 {
				break
			}
			token = res.NextPaginationToken
		}
		want := sortedKeys(recA.where(func(id string, _ record) bool { return strings.HasPrefix(id, "doc#") }))
		if !reflect.DeepEqual(ids, want) || pages != 3 {
			return nil, mismatch("listed %v in %d pages, want %v in 3", ids, pages, want)
		}
		return map[string]any{"ids": ids, "pages": pages}, nil
	})

	namespaceCounts := func() (map[string]uint32, *pinecone.DescribeIndexStatsResponse, error) {
		stats, err := a.DescribeIndexStats(ctx)
		if err != nil {
			return nil, nil, err
		}
		counts := map[string]uint32{}
		for ns, s := range stats.Namespaces {
			counts[ns] = s.VectorCount
		}
		return counts, stats, nil
	}

	r.do("grpc: DescribeIndexStats", func() (any, error) {
		counts, stats, err := namespaceCounts()
		if err != nil {
			return nil, err
		}
		var sum uint32
		for _, c := range counts {
			sum += c
		}
		if stats.Dimension == nil || *stats.Dimension != dimension || counts["ns-a"] != uint32(len(recA)) || counts["ns-b"] != uint32(len(recB)) || stats.TotalVectorCount != sum {
			return nil, mismatch("dimension %v, namespaces %v, total %d; want ns-a %d, ns-b %d", stats.Dimension, counts, stats.TotalVectorCount, len(recA), len(recB))
		}
		// (No filter: like Pinecone's serverless indexes, Conifer refuses one here.)
		return map[string]any{"namespaces": counts, "total": stats.TotalVectorCount}, nil
	})

	r.do("grpc: the default namespace (the client sends \"__default__\")", func() (any, error) {
		d, err := pc.Index(pinecone.NewIndexConnParams{Host: host})
		if err != nil {
			return nil, err
		}
		defer d.Close()
		v, _ := upsertVectors(records{"default#0": {vec(2), map[string]any{"genre": "drama"}}})
		if _, err := d.UpsertVectors(ctx, v); err != nil {
			return nil, err
		}
		fetched, err := d.FetchVectors(ctx, []string{"default#0"})
		if err != nil {
			return nil, err
		}
		if len(fetched.Vectors) != 1 {
			return nil, mismatch("fetch in the default namespace: %v", sortedKeys(fetched.Vectors))
		}
		counts, _, err := namespaceCounts()
		if err != nil {
			return nil, err
		}
		if counts["__default__"] != 1 {
			return nil, mismatch("stats of the default namespace: %v", counts)
		}
		return map[string]any{"namespaces": counts}, nil
	})

	r.do("grpc: List/Describe/Create/DeleteNamespace", func() (any, error) {
		all, err := a.ListNamespaces(ctx, &pinecone.ListNamespacesParams{})
		if err != nil {
			return nil, err
		}
		listed := map[string]uint64{}
		for _, d := range all.Namespaces {
			listed[d.Name] = d.RecordCount
		}
		if listed["ns-a"] != uint64(len(recA)) || listed["ns-b"] != uint64(len(recB)) {
			return nil, mismatch("ListNamespaces %v", listed)
		}
		created, err := a.CreateNamespace(ctx, &pinecone.CreateNamespaceParams{Name: "ns-c"})
		if err != nil {
			return nil, err
		}
		if created.Name != "ns-c" || created.RecordCount != 0 {
			return nil, mismatch("CreateNamespace answered %+v", created)
		}
		described, err := a.DescribeNamespace(ctx, "ns-c")
		if err != nil {
			return nil, err
		}
		if described.Name != "ns-c" || described.RecordCount != 0 {
			return nil, mismatch("DescribeNamespace(ns-c) %+v", described)
		}
		// Two at a time, with the prefix: ns-a, ns-b, then ns-c.
		first, err := a.ListNamespaces(ctx, &pinecone.ListNamespacesParams{Prefix: ptr("ns-"), Limit: ptr(uint32(2))})
		if err != nil {
			return nil, err
		}
		if len(first.Namespaces) != 2 || first.Namespaces[0].Name != "ns-a" || first.Namespaces[1].Name != "ns-b" || first.Pagination == nil || first.Pagination.Next == "" {
			return nil, mismatch("first page of namespaces %v, pagination %+v", namesOf(first), first.Pagination)
		}
		second, err := a.ListNamespaces(ctx, &pinecone.ListNamespacesParams{Prefix: ptr("ns-"), Limit: ptr(uint32(2)), PaginationToken: &first.Pagination.Next})
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(namesOf(second), []string{"ns-c"}) {
			return nil, mismatch("second page of namespaces %v", namesOf(second))
		}
		if err := a.DeleteNamespace(ctx, "ns-b"); err != nil {
			return nil, err
		}
		if _, err := a.DescribeNamespace(ctx, "ns-b"); status.Code(err) != codes.NotFound {
			return nil, mismatch("DescribeNamespace of a deleted namespace: %v, want NotFound", err)
		}
		counts, _, err := namespaceCounts()
		if err != nil {
			return nil, err
		}
		if _, still := counts["ns-b"]; still {
			return nil, mismatch("ns-b still in stats after DeleteNamespace: %v", counts)
		}
		if err := a.DeleteNamespace(ctx, "ns-c"); err != nil {
			return nil, err
		}
		return map[string]any{"listed": listed, "total_count": first.TotalCount}, nil
	})

	r.do("grpc error: wrong API key -> Unauthenticated", func() (any, error) {
		bad, err := pinecone.NewClient(pinecone.NewClientParams{ApiKey: "not-the-key-0123456789", Host: *controlURL})
		if err != nil {
			return nil, err
		}
		conn, err := bad.Index(pinecone.NewIndexConnParams{Host: host, Namespace: "ns-a"})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		_, err = conn.DescribeIndexStats(ctx)
		if status.Code(err) != codes.Unauthenticated {
			return nil, mismatch("wrong key: %v, want Unauthenticated", err)
		}
		return map[string]any{"error": describeError(err)}, nil
	})

	r.do("grpc error: query of the wrong dimension -> InvalidArgument naming the dimension", func() (any, error) {
		_, err := a.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{Vector: []float32{0.1, 0.2, 0.3}, TopK: 1})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(strings.ToLower(status.Convert(err).Message()), "dimension") {
			return nil, mismatch("wrong dimension: %v, want InvalidArgument naming the dimension", err)
		}
		return map[string]any{"error": describeError(err)}, nil
	})

	// A sparse-only index: VectorType "sparse", no dimension; upsert and query sparse values.
	sparseName := *name + "-sparse"
	r.do("sparse index: create (VectorType sparse), upsert, query with filter, fetch, stats", func() (any, error) {
		if _, err := pc.DescribeIndex(ctx, sparseName); err == nil {
			if err := pc.DeleteIndex(ctx, sparseName); err != nil {
				return nil, err
			}
		}
		metric, vectorType := pinecone.Dotproduct, "sparse"
		created, err := pc.CreateServerlessIndex(ctx, &pinecone.CreateServerlessIndexRequest{
			Name: sparseName, Metric: &metric, VectorType: &vectorType, Cloud: pinecone.Aws, Region: "us-east-1",
		})
		if err != nil {
			return nil, err
		}
		defer func() { _ = pc.DeleteIndex(ctx, sparseName) }()
		if created.VectorType != "sparse" || created.Dimension != nil {
			return nil, mismatch("created vector type %q dimension %v", created.VectorType, created.Dimension)
		}
		conn, err := pc.Index(pinecone.NewIndexConnParams{Host: created.Host, Namespace: "words"})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		meta := func(lang string) *pinecone.Metadata {
			m, _ := pinecone.NewMetadata(map[string]any{"lang": lang})
			return m
		}
		docs := []*pinecone.Vector{
			{Id: "a", SparseValues: &pinecone.SparseValues{Indices: []uint32{1, 5}, Values: []float32{0.5, 2}}, Metadata: meta("en")},
			{Id: "b", SparseValues: &pinecone.SparseValues{Indices: []uint32{5, 9}, Values: []float32{1, 1}}, Metadata: meta("fr")},
			{Id: "c", SparseValues: &pinecone.SparseValues{Indices: []uint32{3}, Values: []float32{4}}, Metadata: meta("en")},
		}
		if n, err := conn.UpsertVectors(ctx, docs); err != nil || n != 3 {
			return nil, fmt.Errorf("upsert: %d, %v", n, err)
		}
		res, err := conn.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{SparseValues: &pinecone.SparseValues{Indices: []uint32{5, 1}, Values: []float32{1, 2}}, TopK: 5})
		if err != nil {
			return nil, err
		}
		var got []string
		for _, m := range res.Matches {
			got = append(got, fmt.Sprintf("%s:%.3f", m.Vector.Id, m.Score))
		}
		// a: 0.5·2 + 2·1 = 3; b: 1·1; c shares no dimension.
		if strings.Join(got, " ") != "a:3.000 b:1.000" {
			return nil, mismatch("sparse query %v", got)
		}
		filtered, err := conn.QueryByVectorValues(ctx, &pinecone.QueryByVectorValuesRequest{
			SparseValues: &pinecone.SparseValues{Indices: []uint32{5}, Values: []float32{1}}, TopK: 5, MetadataFilter: filter(map[string]any{"lang": map[string]any{"$eq": "fr"}}),
		})
		if err != nil {
			return nil, err
		}
		if len(filtered.Matches) != 1 || filtered.Matches[0].Vector.Id != "b" {
			return nil, mismatch("filtered sparse query %+v", filtered.Matches)
		}
		fetched, err := conn.FetchVectors(ctx, []string{"c"})
		if err != nil {
			return nil, err
		}
		if v := fetched.Vectors["c"]; v == nil || v.SparseValues == nil || len(v.SparseValues.Indices) != 1 || v.SparseValues.Indices[0] != 3 || v.SparseValues.Values[0] != 4 {
			return nil, mismatch("fetched %+v", fetched.Vectors["c"])
		}
		stats, err := conn.DescribeIndexStats(ctx)
		if err != nil {
			return nil, err
		}
		if stats.TotalVectorCount != 3 {
			return nil, mismatch("total vector count %d", stats.TotalVectorCount)
		}
		return map[string]any{"matches": got}, nil
	})

	r.do("control: DeleteIndex", func() (any, error) {
		if err := pc.DeleteIndex(ctx, *name); err != nil {
			return nil, err
		}
		_, err := pc.DescribeIndex(ctx, *name)
		var perr *pinecone.PineconeError
		if err == nil || !errors.As(err, &perr) || perr.Code != 404 {
			return nil, mismatch("DescribeIndex after DeleteIndex: %v, want a 404", err)
		}
		return nil, nil
	})

	return r.finish(*name, host)
}

func namesOf(res *pinecone.ListNamespacesResponse) []string {
	names := []string{}
	for _, d := range res.Namespaces {
		names = append(names, d.Name)
	}
	return names
}
