package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/transform"
)

// Store lays out partitions and manifests on a Sink (DESIGN §5, §7).
type Store struct {
	Sink  Sink
	RunID string
	AsOf  time.Time
	Now   func() time.Time // the manifest's written_at; time.Now if nil
}

// Keys of a partition's files and manifest.
func partitionDir(table, provider string, p extract.Period) string {
	return fmt.Sprintf("%s/provider=%s/billing_period=%s/", table, provider, p)
}

func manifestKey(provider string, p extract.Period) string {
	return fmt.Sprintf("_manifests/provider=%s/billing_period=%s.json", provider, p)
}

const partFile = "part-00000.parquet"

// Manifest describes a written partition. It is written after the data
// files, so a manifest always points at complete files; it carries the only
// run-specific facts (run id, times), which the data files never do.
type Manifest struct {
	SchemaVersion int                          `json:"schema_version"`
	Provider      string                       `json:"provider"`
	BillingPeriod string                       `json:"billing_period"`
	RunID         string                       `json:"run_id"`
	AsOf          string                       `json:"as_of"`
	WrittenAt     time.Time                    `json:"written_at"`
	Final         bool                         `json:"final"`
	Reconciled    bool                         `json:"reconciled"`
	Rows          int64                        `json:"rows"`
	Totals        map[string]transform.Decimal `json:"totals"` // Σ of the lines per currency
	Files         []File                       `json:"files"`
	Invoices      []ManifestInvoice            `json:"invoices"`
	Notes         []string                     `json:"notes,omitempty"`
}

// File is one data file of a partition.
type File struct {
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ManifestInvoice is an invoice's reconciliation status.
type ManifestInvoice struct {
	InvoiceID   string            `json:"invoice_id,omitempty"`
	Currency    string            `json:"currency"`
	Status      string            `json:"status,omitempty"`
	Final       bool              `json:"final"`
	VendorTotal transform.Decimal `json:"vendor_total"`
	LinesTotal  transform.Decimal `json:"lines_total"`
	Reconciled  bool              `json:"reconciled"`
	Problem     string            `json:"problem,omitempty"`
}

// Partition is one provider and period being written. Lines stream into
// its Parquet file as they come; nothing is visible until Commit.
type Partition struct {
	store    *Store
	ctx      context.Context
	provider string
	period   extract.Period
	obj      Object
	hw       *hashWriter
	lines    *rowWriter[chargeRow, transform.Line]
	totals   map[string]transform.Decimal
	done     bool
}

// Begin starts writing provider's partition for period.
func (s *Store) Begin(ctx context.Context, provider string, period extract.Period) (*Partition, error) {
	key := partitionDir(ChargeLines.Name, provider, period) + partFile
	obj, err := s.Sink.Create(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", key, err)
	}
	hw := newHashWriter(obj)
	return &Partition{
		store: s, ctx: ctx, provider: provider, period: period, obj: obj, hw: hw,
		lines:  newPipelinedRowWriter(hw, toChargeRow),
		totals: map[string]transform.Decimal{},
	}, nil
}

// Write adds a line (transform.Output). The manifest's totals sum
// BilledCost per billing currency and, for lines priced in a virtual
// currency (credits), their PricingCurrencyEffectiveCost under it.
func (p *Partition) Write(l *transform.Line) error {
	if err := p.total(l.BillingCurrency, l.BilledCost); err != nil {
		return err
	}
	if c := l.PricingCurrency; c != "" && c != l.BillingCurrency && l.PricingCurrencyEffectiveCost.Valid {
		if err := p.total(c, l.PricingCurrencyEffectiveCost.Decimal); err != nil {
			return err
		}
	}
	return p.lines.Write(l)
}

func (p *Partition) total(currency string, d transform.Decimal) error {
	t, ok := p.totals[currency].Add(d)
	if !ok {
		return fmt.Errorf("%s %s: the sum of %s lines leaves DECIMAL(38,24)", p.provider, p.period, currency)
	}
	p.totals[currency] = t
	return nil
}

// Abort drops everything written: the partition's previous files, if any,
// stay as they were.
func (p *Partition) Abort() {
	if !p.done {
		p.done = true
		p.lines.abort() // the encoder writes to obj: stop it first
		p.obj.Abort()
	}
}

// Commit makes the partition visible: charge lines, then invoices, then the
// manifest, then removal of any stale file the manifest does not list.
func (p *Partition) Commit(res *transform.Result) (*Manifest, error) {
	if p.done {
		return nil, errors.New("partition already finished")
	}
	p.done = true
	dir := partitionDir(ChargeLines.Name, p.provider, p.period)
	lineFile, err := p.finish(dir + partFile)
	if err != nil {
		return nil, err
	}
	invKey := partitionDir(Invoices.Name, p.provider, p.period) + partFile
	invFile, err := p.store.writeInvoices(p.ctx, invKey, res.Invoices)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		SchemaVersion: SchemaVersion,
		Provider:      p.provider,
		BillingPeriod: p.period.String(),
		RunID:         p.store.RunID,
		AsOf:          p.store.AsOf.Format("2006-01-02"),
		WrittenAt:     p.store.now().UTC().Truncate(time.Second),
		// With no invoice at all, the data is final once the period is over.
		Final:      len(res.Invoices) > 0 || !p.store.AsOf.Before(p.period.End()),
		Reconciled: true,
		Rows:       lineFile.Rows,
		Totals:     p.totals,
		Files:      []File{lineFile, invFile},
		Notes:      res.Notes,
	}
	for _, inv := range res.Invoices {
		m.Final = m.Final && inv.Final
		m.Reconciled = m.Reconciled && inv.Reconciled
		m.Invoices = append(m.Invoices, ManifestInvoice{
			InvoiceID: inv.InvoiceID, Currency: inv.Currency, Status: inv.Status, Final: inv.Final,
			VendorTotal: inv.VendorTotal, LinesTotal: inv.LinesTotal, Reconciled: inv.Reconciled, Problem: inv.Problem,
		})
	}
	if err := p.store.put(p.ctx, manifestKey(p.provider, p.period), m); err != nil {
		return nil, err
	}
	// Only now may older files go: the manifest lists what is current.
	keep := map[string]bool{lineFile.Key: true, invFile.Key: true}
	for _, table := range []string{ChargeLines.Name, Invoices.Name} {
		keys, err := p.store.Sink.List(p.ctx, partitionDir(table, p.provider, p.period))
		if err != nil {
			return m, fmt.Errorf("listing stale files: %w", err)
		}
		var stale []string
		for _, k := range keys {
			if !keep[k] {
				stale = append(stale, k)
			}
		}
		if err := p.store.Sink.Delete(p.ctx, stale...); err != nil {
			return m, fmt.Errorf("removing stale files: %w", err)
		}
	}
	return m, nil
}

// finish closes a streamed file and commits it.
func (p *Partition) finish(key string) (File, error) {
	if err := p.lines.Close(); err != nil {
		p.obj.Abort()
		return File{}, fmt.Errorf("writing %s: %w", key, err)
	}
	if err := p.obj.Commit(); err != nil {
		return File{}, fmt.Errorf("committing %s: %w", key, err)
	}
	return File{Key: key, Rows: p.lines.total, Bytes: p.hw.n, SHA256: p.hw.sum()}, nil
}

func (s *Store) writeInvoices(ctx context.Context, key string, invoices []transform.Invoice) (File, error) {
	obj, err := s.Sink.Create(ctx, key)
	if err != nil {
		return File{}, fmt.Errorf("creating %s: %w", key, err)
	}
	hw := newHashWriter(obj)
	w := newRowWriter(hw, toInvoiceRow)
	for i := range invoices {
		if err := w.Write(&invoices[i]); err != nil {
			obj.Abort()
			return File{}, err
		}
	}
	if err := w.Close(); err != nil {
		obj.Abort()
		return File{}, fmt.Errorf("writing %s: %w", key, err)
	}
	if err := obj.Commit(); err != nil {
		return File{}, fmt.Errorf("committing %s: %w", key, err)
	}
	return File{Key: key, Rows: w.total, Bytes: hw.n, SHA256: hw.sum()}, nil
}

func (s *Store) put(ctx context.Context, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	obj, err := s.Sink.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := obj.Write(append(b, '\n')); err != nil {
		obj.Abort()
		return err
	}
	return obj.Commit()
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Manifest reads the manifest of a partition; nil when there is none.
func (s *Store) Manifest(ctx context.Context, provider string, p extract.Period) (*Manifest, error) {
	r, err := s.Sink.Open(ctx, manifestKey(provider, p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var m Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", manifestKey(provider, p), err)
	}
	return &m, nil
}

// HasManifests reports whether provider has any partition yet.
func (s *Store) HasManifests(ctx context.Context, provider string) (bool, error) {
	keys, err := s.Sink.List(ctx, "_manifests/provider="+provider+"/")
	return len(keys) > 0, err
}

// SaveRaw returns a SaveFunc landing raw responses under
// raw/<run date>/<run id>/ in the capture layout.
func (s *Store) SaveRaw(runDate time.Time) extract.SaveFunc {
	prefix := path.Join("raw", runDate.UTC().Format("2006-01-02"), s.RunID)
	return func(ctx context.Context, capture string, r io.Reader) error {
		obj, err := s.Sink.Create(ctx, prefix+"/"+capture)
		if err != nil {
			return err
		}
		if _, err := io.Copy(obj, r); err != nil {
			obj.Abort()
			return err
		}
		return obj.Commit()
	}
}

// Partitions lists the periods of provider that have a manifest, ascending.
func (s *Store) Partitions(ctx context.Context, provider string) ([]extract.Period, error) {
	keys, err := s.Sink.List(ctx, "_manifests/provider="+provider+"/")
	if err != nil {
		return nil, err
	}
	var out []extract.Period
	for _, k := range keys {
		var y, m int
		if _, err := fmt.Sscanf(path.Base(k), "billing_period=%04d-%02d.json", &y, &m); err == nil {
			if p, err := extract.ParsePeriod(fmt.Sprintf("%04d-%02d", y, m)); err == nil {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b extract.Period) int { return a.Start().Compare(b.Start()) })
	return out, nil
}

// hashWriter counts and hashes what passes through to w.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, h: sha256.New()} }

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashWriter) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }
