package invoiceexport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// The end-to-end tests of the pipeline run it in process as cmd/local does
// (cmd/local's own tests cover its flags, summary and exit status) and read
// the output back with DuckDB, an independent reader.

// The bundled sample and the day it was captured.
const (
	sampleDir  = "testdata/captures"
	sampleAsOf = "2026-11-03"
)

// run is one export as cmd/local would make it: a replay of In (the
// sample when empty) or a live run against the APIs Env configures,
// recording into Record; into Out (a folder or s3://bucket/prefix).
type run struct {
	In, Out, Record string
	Live            bool
	Env             map[string]string
	AsOf            string // default: the sample's day
	From, To        string
	Providers       []string // default: every provider the source serves
	// AcceptUnreconciled is cmd/local's --accept-unreconciled.
	AcceptUnreconciled bool
}

// result is what a run did, and what it logged (its warnings and errors,
// as cmd/lambda logs them).
type result struct {
	*invoiceexport.Report
	log string
}

// printed is everything a run said: its log and its failures.
func (r result) printed() string {
	if err := r.Err(); err != nil {
		return r.log + err.Error()
	}
	return r.log
}

// export makes the run; it fails the test only where cmd/local would
// refuse to start.
func export(t testing.TB, r run) result {
	t.Helper()
	ctx := context.Background()
	getenv := func(k string) string { return r.Env[k] }
	cfg, err := invoiceexport.ReadConfigs(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if r.AsOf == "" {
		r.AsOf = sampleAsOf
	}
	var log syncBuffer
	o := invoiceexport.Options{Config: cfg, RunID: invoiceexport.NewRunID(time.Now()), Logger: slog.New(slog.NewTextHandler(&log, nil)),
		AcceptUnreconciled: r.AcceptUnreconciled}
	if o.AsOf, err = invoiceexport.AsOf(r.AsOf, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		val string
		dst *billing.Period
	}{{r.From, &o.From}, {r.To, &o.To}} {
		if p.val != "" {
			if *p.dst, err = billing.ParsePeriod(p.val); err != nil {
				t.Fatal(err)
			}
		}
	}
	sinkOpt, err := load.OptionsFromEnv(getenv)
	sinkOpt.AWS = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	if err != nil {
		t.Fatal(err)
	}
	if o.Sink, err = load.Open(ctx, r.Out, sinkOpt); err != nil {
		t.Fatal(err)
	}
	if o.RestatementDays, err = invoiceexport.RestatementDaysFromEnv(getenv); err != nil {
		t.Fatal(err)
	}
	requested := r.Providers
	if requested == nil {
		requested = registry.Slugs()
	}
	if r.Live {
		o.Providers, _ = invoiceexport.Usable(requested, invoiceexport.HasKey(cfg))
		opt, err := extract.HTTPOptionsFromEnv(getenv)
		if err != nil {
			t.Fatal(err)
		}
		o.Source = invoiceexport.LiveSource(o, opt)
		if r.Record != "" {
			o.Source = extract.Record(o.Source, extract.SaveToDir(r.Record))
		}
	} else {
		if r.In == "" {
			r.In = sampleDir
		}
		o.Providers, _ = invoiceexport.Usable(requested, invoiceexport.HasCaptures(extract.Dir(r.In)))
		o.Source = extract.Dir(r.In)
	}
	if len(o.Providers) == 0 {
		t.Fatalf("no provider to run of %v", requested)
	}
	return result{invoiceexport.Run(ctx, o), log.String()}
}

// mustExport is export of a run that must succeed.
func mustExport(t testing.TB, r run) result {
	t.Helper()
	res := export(t, r)
	if !res.OK() {
		t.Fatalf("run failed: %v\n%s", res.Err(), res.log)
	}
	return res
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// dataFiles hashes every Parquet file under dest (manifests carry run ids
// and times by design; data files must not).
func dataFiles(t testing.TB, dest string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			b, _ := os.ReadFile(p)
			s := sha256.Sum256(b)
			rel, _ := filepath.Rel(dest, p)
			sums[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		}
		return nil
	})
	return sums
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func rat(t testing.TB, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("%q is not a number", s)
	}
	return r
}

// assertNoKey checks that key is in nothing the run printed or wrote.
func assertNoKey(t testing.TB, key, printed, dest string) {
	t.Helper()
	if strings.Contains(printed, key) {
		t.Error("the API key was printed")
	}
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
				t.Errorf("the API key is in %s", p)
			}
		}
		return nil
	})
}

// assertRecorded checks that --record saved each capture byte for byte.
func assertRecorded(t testing.TB, provider, rec string, files []string) {
	t.Helper()
	for _, f := range files {
		want, _ := os.ReadFile(filepath.Join(sampleDir, provider, f))
		got, err := os.ReadFile(filepath.Join(rec, provider, f))
		if err != nil || len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("--record %s/%s: %v (equal=%v)", provider, f, err, bytes.Equal(got, want))
		}
	}
}

func fileSHA(t testing.TB, path string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v", err)
		return "", 0
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), int64(len(b))
}

// notes are the notes of a run's partitions, "provider period: note".
func notes(r result) []string {
	var out []string
	for _, p := range r.Partitions {
		for _, n := range p.Manifest.Notes {
			out = append(out, p.Provider+" "+p.Period.String()+": "+n)
		}
	}
	return out
}
