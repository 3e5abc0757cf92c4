// Command lambda is the scheduled export: an AWS Lambda on provided.al2023
// (binary bootstrap) that runs the same pipeline as cmd/local against the
// vendors' APIs and writes to OUTPUT_URI. The schedule's event means the
// default window; a backfill event names a range (README: "Run it once now").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// deadlineMargin is kept back from the invocation's deadline: enough to
// finish the partition being written and report, so Lambda never kills a
// run mid-write (nothing half-written would be visible anyway, but the
// error and metrics would be lost).
const deadlineMargin = 20 * time.Second

func main() {
	invoiceexport.LimitMemory()
	h := &handler{getenv: os.Getenv, keys: &keys{getenv: os.Getenv}}
	lambda.Start(h)
}

type handler struct {
	getenv func(string) string
	keys   *keys
}

// Result is the invocation's answer when every provider was written.
type Result struct {
	RunID        string      `json:"run_id"`
	Partitions   []partition `json:"partitions"`
	Unreconciled int         `json:"unreconciled_invoices"`
}

type partition struct {
	Provider string `json:"provider"`
	Period   string `json:"billing_period"`
	Rows     int64  `json:"rows"`
}

// Invoke takes the event's bytes as sent (aws-lambda-go would otherwise
// fail on malformed JSON before the handler could say what it accepts).
func (h *handler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	res, err := h.handle(ctx, event)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// Units answers {"list_units":true}: one item per configured (provider,
// account), with the window a run would export for it (template.yaml's
// state machine maps over them, invoking the function with each).
type Units struct {
	Units []unit `json:"units"`
}

type unit struct {
	Provider string `json:"provider"`
	Account  string `json:"account"`
	From     string `json:"from"`
	To       string `json:"to"`
	AsOf     string `json:"as_of"`
}

func (h *handler) handle(ctx context.Context, event []byte) (any, error) {
	start := time.Now()
	o := invoiceexport.Options{RunID: invoiceexport.NewRunID(start)}
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	o.Logger = slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("run_id", o.RunID, "request_id", requestID)
	fail := func(err error) (any, error) {
		o.Logger.Error("run failed", "error", err)
		return nil, err
	}

	req, err := parseEvent(event)
	if err != nil {
		return fail(err)
	}
	// Everything that can be checked without a network call, first: a
	// mistyped setting is one line, not a run of retries.
	if _, err := invoiceexport.ReadConfigs(stored(h.getenv)); err != nil {
		return fail(err)
	}
	if o.RestatementDays, err = invoiceexport.RestatementDaysFromEnv(h.getenv); err != nil {
		return fail(err)
	}
	dest := h.getenv("OUTPUT_URI")
	if dest == "" {
		return fail(errors.New("OUTPUT_URI is not set: set it to s3://bucket/prefix"))
	}
	sinkOpt, err := load.OptionsFromEnv(h.getenv)
	sinkOpt.AWS = func(context.Context) (aws.Config, error) { return awsFromEnv(h.getenv) }
	if err != nil {
		return fail(err)
	}
	opt, err := extract.HTTPOptionsFromEnv(h.getenv)
	if err != nil {
		return fail(err)
	}
	if o.AsOf, err = invoiceexport.AsOf(req.AsOf, start); err != nil {
		return fail(fmt.Errorf("event: as_of %w", err))
	}
	o.From, o.To = req.From, req.To
	if o.MaxRangeMonths, err = invoiceexport.MaxRangeMonthsFromEnv(h.getenv); err != nil {
		return fail(err)
	}
	if err := invoiceexport.CheckRange(o.AsOf, o.From, o.To, o.MaxRangeMonths); err != nil {
		return fail(fmt.Errorf("event: from/to: %w", err))
	}
	o.AcceptUnreconciled = req.AcceptUnreconciled

	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
		defer cancel()
	}
	if o.Sink, err = load.Open(ctx, dest, sinkOpt); err != nil {
		return fail(fmt.Errorf("OUTPUT_URI %s: %w", dest, err))
	}
	doc, err := h.accountsDocument(ctx, sinkOpt)
	if err != nil {
		return fail(err)
	}
	if o.AccountConcurrency, err = invoiceexport.AccountConcurrencyFromEnv(h.getenv); err != nil {
		return fail(err)
	}
	if req.ListUnits {
		return h.listUnits(ctx, o, req, doc)
	}
	if doc != nil || req.Account != "" && req.Account != invoiceexport.DefaultAccount {
		return h.runAccounts(ctx, start, o, opt, req, doc)
	}

	// A key that cannot be read fails its provider only: one provider's
	// failure never stops the others.
	getenv, keyErrs := h.keys.resolve(ctx, req.Providers)
	if o.Config, err = invoiceexport.ReadConfigs(getenv); err != nil { // checked above; only the keys differ
		return fail(err)
	}
	var keyFailures []invoiceexport.Failure
	var requested []string
	for _, p := range req.Providers {
		if err := keyErrs[p]; err != nil {
			keyFailures = append(keyFailures, invoiceexport.Failure{Provider: p, Err: err})
			o.Logger.Error("export failed", "provider", p, "period", "all", "error", err.Error())
			continue
		}
		requested = append(requested, p)
	}
	var skipped []string
	o.Providers, skipped = invoiceexport.Usable(requested, invoiceexport.HasKey(o.Config))
	for _, s := range skipped {
		o.Logger.Warn(s)
	}
	if len(o.Providers) == 0 && len(keyFailures) == 0 {
		return fail(errors.New("no provider to run: no API key is configured (see *_API_KEY_SECRET_ARN)"))
	}
	o.Source = invoiceexport.LiveSource(o, opt)
	window := "default"
	if !req.From.IsZero() || !req.To.IsZero() {
		window = "backfill " + req.From.String() + ".." + req.To.String()
	}
	o.Logger.Info("run started", "providers", o.Providers, "as_of", o.AsOf.Format("2006-01-02"), "window", window, "accept_unreconciled", o.AcceptUnreconciled)

	rep := &invoiceexport.Report{RunID: o.RunID}
	if len(o.Providers) > 0 {
		rep = invoiceexport.Run(ctx, o)
	}
	return h.finish(start, o, o.Providers, rep, keyFailures)
}

// finish reports a run: metrics, then the answer, or the error that makes
// Lambda retry and the alarms fire.
func (h *handler) finish(start time.Time, o invoiceexport.Options, providers []string, rep *invoiceexport.Report, keyFailures []invoiceexport.Failure) (any, error) {
	// The metrics and the error count a provider whose key failed as failed.
	rep.Failures = append(rep.Failures, keyFailures...)
	rep.Sort()
	ran := slices.Clone(providers)
	for _, f := range keyFailures {
		if !slices.Contains(ran, f.Provider) {
			ran = append(ran, f.Provider)
		}
	}
	slices.SortFunc(ran, registry.Compare)
	emitMetrics(os.Stdout, h.getenv("AWS_LAMBDA_FUNCTION_NAME"), ran, rep, time.Since(start))
	res := &Result{RunID: o.RunID, Unreconciled: rep.Unreconciled()}
	for _, p := range rep.Partitions {
		res.Partitions = append(res.Partitions, partition{p.Provider, p.Period.String(), p.Manifest.Rows})
	}
	if err := rep.Err(); err != nil {
		// Lambda retries, the on-failure queue and the alarm all key on an error.
		err = fmt.Errorf("run %s: %d provider/period(s) failed (the others were written): %w", o.RunID, len(rep.Failures), err)
		o.Logger.Error("run failed", "error", err)
		return nil, err
	}
	o.Logger.Info("run finished", "partitions", len(res.Partitions), "unreconciled_invoices", res.Unreconciled, "seconds", time.Since(start).Seconds())
	return res, nil
}
