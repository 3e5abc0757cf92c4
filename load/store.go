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
	"strings"
	"time"

	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/transform"
)

// Store lays out partitions and manifests on a Sink (the layout: README,
// "Output layout"; replacement: docs/storage.md).
type Store struct {
	Sink  Sink
	RunID string
	AsOf  time.Time
	Now   func() time.Time // the manifest's written_at; time.Now if nil
	// AcceptUnreconciled lets a final invoice that no longer reconciles
	// replace one that did (see checkStillReconciled); the manifest notes it.
	AcceptUnreconciled bool
}

// Unit is one unit of replacement: a provider's account's billing period.
// Its data are one file per table inside the provider's period folder, and
// its own manifest (docs/accounts.md says why this layout).
type Unit struct {
	Provider string
	Account  string // [a-z0-9][a-z0-9-]{0,62}, checked by the configuration
	Period   billing.Period
}

func (u Unit) String() string {
	if u.Account == LegacyAccount {
		return u.Provider + " " + u.Period.String()
	}
	return u.Provider + "/" + u.Account + " " + u.Period.String()
}

// LegacyAccount is the account that takes over the files written before
// accounts existed (one part-00000.parquet per provider and period, and a
// manifest without an account level): the one account of a configuration
// without an accounts document.
const LegacyAccount = "default"

// PartitionDir is the folder of a provider's period in table: Glue's
// partition (provider, billing_period), shared by the provider's accounts.
func PartitionDir(table, provider string, p billing.Period) string {
	return fmt.Sprintf("%s/provider=%s/billing_period=%s/", table, provider, p)
}

// DataKey is the key of u's file in table.
func DataKey(table string, u Unit) string {
	return PartitionDir(table, u.Provider, u.Period) + "account-" + u.Account + ".parquet"
}

// ManifestKey is the key of u's manifest.
func ManifestKey(u Unit) string {
	return fmt.Sprintf("_manifests/provider=%s/account=%s/billing_period=%s.json", u.Provider, u.Account, u.Period)
}

// LegacyDataKey and LegacyManifestKey are where output written before
// accounts existed is: taken over by LegacyAccount (see Commit).
func LegacyDataKey(table, provider string, p billing.Period) string {
	return PartitionDir(table, provider, p) + "part-00000.parquet"
}

func LegacyManifestKey(provider string, p billing.Period) string {
	return fmt.Sprintf("_manifests/provider=%s/billing_period=%s.json", provider, p)
}

// Manifest describes a written partition. It is written after the data
// files, so a manifest always points at complete files; while a partition's
// files are being replaced, its manifest is a marker (Replacing) listing
// none. It carries the only run-specific facts (run id, times), which the
// data files never do.
type Manifest struct {
	SchemaVersion int       `json:"schema_version"`
	Provider      string    `json:"provider"`
	Account       string    `json:"account,omitempty"` // empty in manifests written before accounts existed
	BillingPeriod string    `json:"billing_period"`
	RunID         string    `json:"run_id"`
	AsOf          string    `json:"as_of"`
	WrittenAt     time.Time `json:"written_at"`
	Final         bool      `json:"final"`
	// Replacing marks a partition being replaced (see Partition.Commit):
	// not final, no files listed, its data files possibly a mix of two
	// runs'. The next run exports the period again.
	Replacing  bool                         `json:"replacing,omitempty"`
	Reconciled bool                         `json:"reconciled"`
	Rows       int64                        `json:"rows"`
	Totals     map[string]transform.Decimal `json:"totals"` // Σ of the lines per currency
	Files      []File                       `json:"files"`
	Invoices   []ManifestInvoice            `json:"invoices"`
	Notes      []string                     `json:"notes,omitempty"`
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

// commitGrace bounds a commit once the run's context has ended. A commit
// runs on a context of its own (context.WithoutCancel), because one cut in
// half leaves the partition half replaced (its manifest the marker, until
// the next run); when the run's
// context ends (cmd/lambda ends it deadlineMargin = 20 s before the
// invocation's deadline, Ctrl-C ends it locally) the commit in progress gets
// commitGrace more, then its context is cancelled, and an S3 upload cut
// then gets s3AbortGrace to abort its multipart upload: 10 s + 5 s, under
// the 20 s, so Lambda never kills a commit half done.
var commitGrace = 10 * time.Second // a variable for tests

// Partition is one provider and period being written. Lines stream into
// its Parquet file as they come; nothing is visible until Commit.
type Partition struct {
	store   *Store
	runCtx  context.Context // the run's: until Commit, the partition ends with it
	ctx     context.Context // what the partition's objects and its commit run on
	cancel  context.CancelCauseFunc
	stopRun func() bool // detaches ctx from runCtx
	unit    Unit
	obj     Object
	hw      *hashWriter
	lines   *rowWriter[chargeRow, transform.Line]
	totals  map[string]transform.Decimal
	done    bool
}

// Begin starts writing the unit u. Until Commit, ending ctx drops the
// partition (its uploads are aborted); from Commit on, see commitGrace.
func (s *Store) Begin(ctx context.Context, u Unit) (*Partition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopRun := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	key := DataKey(ChargeLines.Name, u)
	obj, err := s.Sink.Create(pctx, key)
	if err != nil {
		stopRun()
		cancel(nil)
		return nil, fmt.Errorf("creating %s: %w", key, err)
	}
	hw := newHashWriter(obj)
	return &Partition{
		store: s, runCtx: ctx, ctx: pctx, cancel: cancel, stopRun: stopRun,
		unit: u, obj: obj, hw: hw,
		lines:  newPipelinedRowWriter(hw, chargeRowOf(u.Account)),
		totals: map[string]transform.Decimal{},
	}, nil
}

// Write adds a line (transform.Output). The manifest's totals sum
// BilledCost per billing currency and, for lines priced in a virtual
// currency, what Line.VirtualAmount says under it.
func (p *Partition) Write(l *transform.Line) error {
	if err := p.total(l.BillingCurrency, l.BilledCost); err != nil {
		return err
	}
	if c, amount, ok := l.VirtualAmount(); ok {
		if err := p.total(c, amount); err != nil {
			return err
		}
	}
	return p.lines.Write(l)
}

func (p *Partition) total(currency string, d transform.Decimal) error {
	t, ok := p.totals[currency].Add(d)
	if !ok {
		return fmt.Errorf("%s: the sum of %s lines leaves DECIMAL(38,24)", p.unit, currency)
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
		p.release()
	}
}

func (p *Partition) release() {
	p.stopRun()
	p.cancel(nil)
}

// staged is a data file written whole but not yet committed (not visible).
type staged struct {
	obj  Object
	file File
}

// Commit replaces the partition as one unit: both files staged and
// validated, the marker manifest where the files change, the files, the
// manifest, a read-back, then the removal of stale files. Every step is
// ordered so that a crash or a concurrent run at any moment leaves either
// a consistent partition or the marker, which the next run repairs;
// docs/storage.md says why each step is there. From here on the run's
// context ending no longer cuts the commit short (commitGrace).
func (p *Partition) Commit(res *transform.Result) (*Manifest, error) {
	if p.done {
		return nil, errors.New("partition already finished")
	}
	p.done = true
	defer p.release()
	if p.runCtx.Err() != nil || !p.stopRun() {
		p.lines.abort()
		p.obj.Abort()
		return nil, context.Cause(p.runCtx)
	}
	finished, grace := make(chan struct{}), commitGrace
	defer close(finished)
	go func() {
		select {
		case <-p.runCtx.Done():
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-t.C:
				p.cancel(fmt.Errorf("the commit did not finish within %s of the run's end: %w", grace, context.Cause(p.runCtx)))
			case <-finished:
			}
		case <-finished:
		}
	}()

	// 1. Both files whole and valid, neither visible yet.
	lineKey := DataKey(ChargeLines.Name, p.unit)
	if err := p.lines.Close(); err != nil {
		p.obj.Abort()
		return nil, fmt.Errorf("writing %s: %w", lineKey, err)
	}
	lines := staged{p.obj, File{Key: lineKey, Rows: p.lines.total, Bytes: p.hw.n, SHA256: p.hw.sum()}}
	invKey := DataKey(Invoices.Name, p.unit)
	invoices, err := p.store.stageInvoices(p.ctx, invKey, p.unit.Account, res.Invoices)
	if err != nil {
		lines.obj.Abort()
		return nil, err
	}
	files := []staged{lines, invoices}
	abort := func(from int) {
		for _, f := range files[from:] {
			f.obj.Abort()
		}
	}
	m := p.manifest(res, lines.file, invoices.file)

	// 2. Nothing lost.
	mkey := ManifestKey(p.unit)
	old, legacy, err := p.store.manifest(p.ctx, p.unit)
	if err != nil {
		abort(0)
		return nil, fmt.Errorf("reading the current manifest: %w", err)
	}
	if err := p.store.checkNothingLost(old, m, mkey); err != nil {
		abort(0)
		return nil, err
	}
	if err := p.store.checkStillReconciled(old, m); err != nil {
		abort(0)
		return nil, err
	}

	// 3. The marker, where the files change.
	// remark writes the marker after a failure once data files may have
	// been committed, even when they were the same as the old manifest's:
	// a concurrent run may have replaced the files and the manifest since
	// (see "Concurrent runs"). Best effort: the error returned says what
	// failed, and a partition left final is then consistent unless another
	// run wrote it at the same time.
	remark := func(why string) { p.store.put(p.ctx, mkey, p.marker(old, m, why)) }
	// The legacy account takes over the unit's files written before
	// accounts existed. Their name differs from the new files', so no
	// single write replaces one by the other: they go first, after the
	// marker, so that a reader sees the old files or the new ones and never
	// both (double counting); for the moment between, the period's
	// provider shows none of this account's lines. docs/accounts.md,
	// "Upgrading".
	var legacyFiles []string
	if p.unit.Account == LegacyAccount {
		if legacyFiles, err = p.store.legacyFiles(p.ctx, p.unit); err != nil {
			abort(0)
			return nil, fmt.Errorf("listing the files written before accounts: %w", err)
		}
	}
	if (old != nil && !sameData(old.Files, m.Files)) || len(legacyFiles) > 0 {
		if err := p.store.put(p.ctx, mkey, p.marker(old, m, "being replaced by run "+p.store.RunID)); err != nil {
			abort(0)
			return nil, fmt.Errorf("marking %s as being replaced: %w", p.store.where(mkey), err)
		}
	}
	if err := p.store.Sink.Delete(p.ctx, legacyFiles...); err != nil {
		abort(0)
		remark("run " + p.store.RunID + " failed while taking over the files written before accounts")
		return nil, fmt.Errorf("removing the files written before accounts: %w", err)
	}

	// 4. The data files, then the manifest.
	for i, f := range files {
		if err := f.obj.Commit(); err != nil {
			abort(i + 1)
			remark("run " + p.store.RunID + " failed while replacing the partition")
			return nil, fmt.Errorf("committing %s: %w", f.file.Key, err)
		}
	}
	if err := p.store.put(p.ctx, mkey, m); err != nil {
		remark("run " + p.store.RunID + " failed while replacing the partition")
		return nil, fmt.Errorf("writing %s: %w", p.store.where(mkey), err)
	}

	// 5. What is there is what this run wrote.
	if err := p.store.verify(p.ctx, m.Files); err != nil {
		remark("run " + p.store.RunID + " found other files than it wrote: " + err.Error())
		return nil, fmt.Errorf("%w; the manifest now marks the partition as being replaced: run again", err)
	}

	// 6. The old manifest of a taken-over unit goes last: until the new
	// one is written, it still names the unit (window reads the new one
	// first). Each account's files have one fixed name, so no other stale
	// file of this unit can exist; other accounts' files are never touched.
	if legacy || len(legacyFiles) > 0 {
		if err := p.store.Sink.Delete(p.ctx, LegacyManifestKey(p.unit.Provider, p.unit.Period)); err != nil {
			return m, fmt.Errorf("removing the manifest written before accounts: %w", err)
		}
	}
	return m, nil
}

// legacyFiles lists the unit's provider and period's data files that
// belong to no account: today's part-00000.parquet, and any other part a
// run before accounts left.
func (s *Store) legacyFiles(ctx context.Context, u Unit) ([]string, error) {
	var out []string
	for _, table := range []string{ChargeLines.Name, Invoices.Name} {
		keys, err := s.Sink.List(ctx, PartitionDir(table, u.Provider, u.Period))
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if !strings.HasPrefix(path.Base(k), "account-") {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// manifest describes the partition Commit is writing.
func (p *Partition) manifest(res *transform.Result, lineFile, invFile File) *Manifest {
	m := &Manifest{
		SchemaVersion: SchemaVersion,
		Provider:      p.unit.Provider,
		Account:       p.unit.Account,
		BillingPeriod: p.unit.Period.String(),
		RunID:         p.store.RunID,
		AsOf:          p.store.AsOf.Format("2006-01-02"),
		WrittenAt:     p.store.now().UTC().Truncate(time.Second),
		// With no invoice at all, the data is final once the period is over.
		Final:      len(res.Invoices) > 0 || !p.store.AsOf.Before(p.unit.Period.End()),
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
	return m
}

// marker is the manifest of a partition being replaced: not final, no
// files, and the invoices of both the old manifest and the new one, so that
// checkNothingLost still protects them if the replacement never finishes.
func (p *Partition) marker(old, m *Manifest, why string) *Manifest {
	mk := &Manifest{
		SchemaVersion: SchemaVersion,
		Provider:      p.unit.Provider,
		Account:       p.unit.Account,
		BillingPeriod: p.unit.Period.String(),
		RunID:         p.store.RunID,
		AsOf:          m.AsOf,
		WrittenAt:     m.WrittenAt,
		Replacing:     true,
		Files:         []File{},
		Invoices:      slices.Clone(m.Invoices),
		Notes:         []string{why + "; if this stays, the replacement did not finish: the next run exports the period again"},
	}
	if old != nil {
		for _, inv := range old.Invoices {
			if inv.InvoiceID != "" && !slices.ContainsFunc(mk.Invoices, func(i ManifestInvoice) bool { return i.InvoiceID == inv.InvoiceID }) {
				mk.Invoices = append(mk.Invoices, inv)
			}
		}
	}
	return mk
}

// checkNothingLost refuses to replace a partition whose manifest lists
// invoices the new export lacks: a provider's answer missing invoices
// (another list of invoice ids in the configuration, a listing glitch)
// would otherwise replace good data with less, silently.
func (s *Store) checkNothingLost(old, m *Manifest, mkey string) error {
	if old == nil {
		return nil
	}
	have := map[string]bool{}
	for _, inv := range m.Invoices {
		have[inv.InvoiceID] = true
	}
	var missing []string
	for _, inv := range old.Invoices {
		if inv.InvoiceID != "" && !have[inv.InvoiceID] && !slices.Contains(missing, inv.InvoiceID) {
			missing = append(missing, inv.InvoiceID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("not replacing the partition: invoice(s) %s, exported by run %s, are missing from this export; "+
		"check the vendor's answer (and any invoice ids the configuration lists), or, if the vendor really voided them, delete %s and run again",
		strings.Join(missing, ", "), old.RunID, s.where(mkey))
}

// checkStillReconciled refuses to replace a partition whose invoices
// reconciled with one where the final version of one of them does not: a
// vendor that keeps a closed month's invoice but stops sending its lines
// (empty breakdowns, no invoice items) would otherwise replace a good month
// with a nearly empty one. Open invoices (pending, draft) still move and
// replace freely. With AcceptUnreconciled the replacement goes through and
// the new manifest notes it. Invoices are matched by id and currency (a
// vendor without invoice ids has one invoice per currency and period).
func (s *Store) checkStillReconciled(old, m *Manifest) error {
	if old == nil {
		return nil
	}
	type key struct{ id, currency string }
	reconciled := map[key]bool{}
	for _, inv := range old.Invoices {
		if inv.Reconciled {
			reconciled[key{inv.InvoiceID, inv.Currency}] = true
		}
	}
	var now []string
	for _, inv := range m.Invoices {
		if inv.Final && !inv.Reconciled && reconciled[key{inv.InvoiceID, inv.Currency}] {
			name := "final " + inv.Currency + " invoice"
			if inv.InvoiceID != "" {
				name = "final invoice " + inv.InvoiceID + " (" + inv.Currency + ")"
			}
			now = append(now, fmt.Sprintf("%s: lines add up to %s against its total of %s", name, inv.LinesTotal, inv.VendorTotal))
		}
	}
	if len(now) == 0 {
		return nil
	}
	was := fmt.Sprintf("run %s exported %d, reconciled", old.RunID, old.Rows)
	if old.Replacing {
		was = fmt.Sprintf("run %s, which did not finish replacing the partition, had them reconciled", old.RunID)
	}
	what := fmt.Sprintf("the vendor now sends %d lines (%s): %s", m.Rows, was, strings.Join(now, "; "))
	if s.AcceptUnreconciled {
		m.Notes = append(m.Notes, "replaced a reconciled partition on purpose (accept-unreconciled): "+what)
		return nil
	}
	return fmt.Errorf("not replacing the partition, which reconciled, with one that does not: %s; "+
		"the partition is kept; if the vendor really changed the invoice, accept it on purpose: run again with --accept-unreconciled "+
		`(in the Lambda's event: "accept_unreconciled": true)`, what)
}

// verify reads the files back and checks their size and sha256.
func (s *Store) verify(ctx context.Context, files []File) error {
	for _, f := range files {
		r, err := s.Sink.Open(ctx, f.Key)
		if err != nil {
			return fmt.Errorf("reading back %s: %w", f.Key, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("reading back %s: %w", f.Key, err)
		}
		if n != f.Bytes || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			return fmt.Errorf("%s is not the file this run wrote: another run wrote this partition at the same time, with different data", s.where(f.Key))
		}
	}
	return nil
}

// sameData reports whether two lists of files are the same, byte for byte.
func sameData(a, b []File) bool { return slices.Equal(a, b) }

// where names a key for people: DEST/key.
func (s *Store) where(key string) string {
	return strings.TrimSuffix(s.Sink.String(), "/") + "/" + key
}

// stageInvoices writes the invoices file whole, without committing it.
func (s *Store) stageInvoices(ctx context.Context, key, account string, invoices []transform.Invoice) (staged, error) {
	obj, err := s.Sink.Create(ctx, key)
	if err != nil {
		return staged{}, fmt.Errorf("creating %s: %w", key, err)
	}
	hw := newHashWriter(obj)
	w := newRowWriter(hw, invoiceRowOf(account))
	for i := range invoices {
		if err := w.Write(&invoices[i]); err != nil {
			obj.Abort()
			return staged{}, err
		}
	}
	if err := w.Close(); err != nil {
		obj.Abort()
		return staged{}, fmt.Errorf("writing %s: %w", key, err)
	}
	return staged{obj, File{Key: key, Rows: w.total, Bytes: hw.n, SHA256: hw.sum()}}, nil
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

// Manifest reads the manifest of a unit; nil when there is none. For the
// legacy account, a manifest written before accounts existed stands for
// the unit until the unit is replaced.
func (s *Store) Manifest(ctx context.Context, u Unit) (*Manifest, error) {
	m, _, err := s.manifest(ctx, u)
	return m, err
}

// manifest is Manifest, and whether the one found is the legacy one.
func (s *Store) manifest(ctx context.Context, u Unit) (m *Manifest, legacy bool, err error) {
	m, err = s.readManifest(ctx, ManifestKey(u))
	if m != nil || err != nil || u.Account != LegacyAccount {
		return m, false, err
	}
	m, err = s.readManifest(ctx, LegacyManifestKey(u.Provider, u.Period))
	return m, m != nil, err
}

func (s *Store) readManifest(ctx context.Context, key string) (*Manifest, error) {
	r, err := s.Sink.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Read whole first: a manifest read whole and found bad is for a person
	// to repair; one whose read was cut (a connection error) is not.
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.where(key), err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is not a manifest (fix or delete it, then run again): %w", s.where(key), err)
	}
	return &m, nil
}

// SaveRaw returns a function (an extract.SaveFunc) landing raw responses under
// raw/<run date>/<run id>/ in the capture layout.
func (s *Store) SaveRaw(runDate time.Time) func(ctx context.Context, capture string, r io.Reader) error {
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

// Partitions lists the periods of a provider's account that have a
// manifest, ascending (for the legacy account, manifests written before
// accounts existed count too).
func (s *Store) Partitions(ctx context.Context, provider, account string) ([]billing.Period, error) {
	prefix := "_manifests/provider=" + provider + "/"
	keys, err := s.Sink.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []billing.Period
	for _, k := range keys {
		dir, file := path.Split(strings.TrimPrefix(k, prefix))
		if dir != "account="+account+"/" && (account != LegacyAccount || dir != "") {
			continue
		}
		var y, m int
		if _, err := fmt.Sscanf(file, "billing_period=%04d-%02d.json", &y, &m); err == nil {
			if p, err := billing.ParsePeriod(fmt.Sprintf("%04d-%02d", y, m)); err == nil && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b billing.Period) int { return a.Start().Compare(b.Start()) })
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
