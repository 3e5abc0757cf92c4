// Command local runs the invoice export at a terminal: on the bundled
// sample captures (no flags), on captures of your own (--in), or against
// the vendors' APIs (--live); into a folder or any S3 endpoint (--out).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/awskey"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// The bundled captures were taken on this day; with no flags the run
// replays them as of it, so the sample output never changes.
const (
	sampleDir  = "testdata/captures"
	sampleAsOf = "2026-11-03"
)

const usage = `Usage: go run ./cmd/local [flags]

Exports vendors' invoices and daily charges as FOCUS charge lines in
partitioned Parquet (DEST/charge_lines, DEST/invoices, DEST/_manifests).

Examples:
  go run ./cmd/local                                   # the bundled sample captures into ./out
  go run ./cmd/local --in captures/ --out out/         # replay captures of your own
  go run ./cmd/local --live --out out/ --record captures/
                                                       # call the APIs (keys from *_API_KEY), save what they sent
  go run ./cmd/local --live --from 2025-01 --to 2025-12 --providers cockroachdb
                                                       # backfill a year of one vendor
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 go run ./cmd/local --out s3://bucket/prefix
                                                       # write to MinIO or any S3 endpoint
  go run ./cmd/local --live --from 2025-01 --dry-run   # which calls and partitions a backfill would make
  go run ./cmd/local --live --accounts accounts.json   # several accounts per vendor (docs/accounts.md)

Flags:
`

func main() {
	invoiceexport.LimitMemory()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	// The flag package would print the whole usage after a bad flag; one
	// line and a pointer to --help say more.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var (
		in           = fs.String("in", "", "replay captured responses from `DIR` (the layout --record and the Lambda's raw/ write; see the README)")
		out          = fs.String("out", "out", "write to `DEST`: a folder or s3://bucket/prefix")
		live         = fs.Bool("live", false, "call the vendors' APIs (keys from "+strings.Join(keyVars(), ", ")+")")
		from         = fs.String("from", "", "first billing period to export, `YYYY-MM` (a backfill)")
		to           = fs.String("to", "", "last billing period to export, `YYYY-MM` (default: the open period; alone, that one month)")
		providers    = fs.String("providers", "", "comma-separated `list` of providers (default: all: "+strings.Join(registry.Slugs(), ",")+")")
		asOf         = fs.String("as-of", "", "fix \"today\" (`YYYY-MM-DD`, UTC): which period is open, the restatement window (default: today; "+sampleAsOf+" for the sample)")
		record       = fs.String("record", "", "with --live, also save every raw response into `DIR` in the capture layout")
		verbose      = fs.Bool("v", false, "log every step, not only warnings and errors")
		dryRun       = fs.Bool("dry-run", false, "print the calls and partitions the run would make; fetch and write nothing")
		accountsFile = fs.String("accounts", "", "export the accounts listed in `FILE` (JSON; docs/accounts.md); default: one account per vendor from the variables above")
		accountConc  = fs.Int("account-concurrency", 0, "how many accounts of one vendor run at once (default: "+invoiceexport.AccountConcurrencyVar+", else 2)")
		accept       = fs.Bool("accept-unreconciled", false, "let a closed month whose final invoice no longer reconciles replace the reconciled partition exported before (by default that period fails and keeps its partition)")
	)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "invoice-export: "+format+"\n", a...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		return fail("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (flags start with --; see --help)", fs.Arg(0))
	}
	if *live && *in != "" {
		return fail("--live and --in exclude each other: call the APIs, or replay captures")
	}
	if *record != "" && !*live {
		return fail("--record saves what the APIs answer: use it with --live")
	}

	cfg, err := invoiceexport.ReadConfigs(getenv)
	if err != nil {
		return fail("%v", err)
	}
	var doc []invoiceexport.Account // nil: no accounts document
	if *accountsFile != "" {
		b, err := os.ReadFile(*accountsFile)
		if err != nil {
			return fail("--accounts: %v", err)
		}
		if doc, err = invoiceexport.ParseAccounts(*accountsFile, b); err != nil {
			return fail("%v", err)
		}
	}
	o := invoiceexport.Options{Config: cfg, RunID: invoiceexport.NewRunID(time.Now()), AcceptUnreconciled: *accept}
	if o.AccountConcurrency, err = invoiceexport.AccountConcurrencyFromEnv(getenv); err != nil {
		return fail("%v", err)
	}
	if *accountConc != 0 {
		if o.AccountConcurrency, err = invoiceexport.CheckAccountConcurrency("--account-concurrency", strconv.Itoa(*accountConc)); err != nil {
			return fail("%v", err)
		}
	}
	sample := !*live && *in == ""
	if sample {
		*in = sampleDir
		if *asOf == "" {
			*asOf = sampleAsOf
		}
	}
	if o.AsOf, err = invoiceexport.AsOf(*asOf, time.Now()); err != nil {
		return fail("--as-of %v", err)
	}
	for _, p := range []struct {
		flag, val string
		dst       *billing.Period
	}{{"--from", *from, &o.From}, {"--to", *to, &o.To}} {
		if p.val != "" {
			if *p.dst, err = billing.ParsePeriod(p.val); err != nil {
				return fail("%s: %v", p.flag, err)
			}
		}
	}
	if o.MaxRangeMonths, err = invoiceexport.MaxRangeMonthsFromEnv(getenv); err != nil {
		return fail("%v", err)
	}
	if err := invoiceexport.CheckRange(o.AsOf, o.From, o.To, o.MaxRangeMonths); err != nil {
		return fail("--from/--to: %v", err)
	}
	if o.RestatementDays, err = invoiceexport.RestatementDaysFromEnv(getenv); err != nil {
		return fail("%v", err)
	}
	sinkOpt, err := load.OptionsFromEnv(getenv)
	sinkOpt.AWS = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	if err != nil {
		return fail("%v", err)
	}
	requested, err := invoiceexport.ParseProviders(*providers)
	if err != nil {
		return fail("--providers: %v", err)
	}

	prog := newProgress(stderr, stderr == os.Stderr && isTerminal(os.Stderr))
	o.Logger = newLogger(stderr, prog, *verbose)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	if o.Sink, err = load.Open(ctx, *out, sinkOpt); err == nil {
		err = load.Check(ctx, o.Sink)
	}
	if down := load.Unresponsive(err); down != nil {
		// Not a mistake in the command: the endpoint is down or frozen.
		fmt.Fprintf(stderr, "invoice-export: FAILED %v\n", down)
		return 1
	}
	if err != nil {
		return fail("--out %s: %v", *out, err)
	}
	var skipped []string
	var keyFailures []invoiceexport.Failure // accounts whose key could not be read: each fails alone
	if *live && doc != nil {
		o.Providers = requested
		for _, a := range doc {
			if slices.Contains(requested, a.Provider) {
				o.Accounts = append(o.Accounts, a)
			}
		}
		if !*dryRun {
			o.Accounts, keyFailures = invoiceexport.ResolveKeys(ctx, o.Accounts, getenv, awsSecrets)
		}
		opt, err := extract.HTTPOptionsFromEnv(getenv)
		if err != nil {
			return fail("%v", err)
		}
		o.Source = invoiceexport.LiveSource(o, opt)
		if *record != "" {
			o.Source = extract.Record(o.Source, extract.SaveToDir(*record))
		}
	} else if *live {
		can := invoiceexport.HasKey(o.Config)
		if *dryRun {
			// A plan needs no key: say which providers a real run would skip.
			can = func(string) (bool, string) { return true, "" }
			for _, p := range requested {
				if ok, why := invoiceexport.HasKey(o.Config)(p); !ok {
					fmt.Fprintf(stderr, "invoice-export: %s: a real run would skip it, %s\n", p, why)
				}
			}
		}
		o.Providers, skipped = invoiceexport.Usable(requested, can)
		opt, err := extract.HTTPOptionsFromEnv(getenv)
		if err != nil {
			return fail("%v", err)
		}
		o.Source = invoiceexport.LiveSource(o, opt)
		if *record != "" {
			o.Source = extract.Record(o.Source, extract.SaveToDir(*record))
		}
	} else {
		dir := extract.Dir(*in)
		if st, err := os.Stat(*in); err != nil || !st.IsDir() {
			hint := ""
			if sample {
				hint = " (run from the repository root, or pass --in)"
			}
			return fail("--in %s: not a folder of captures%s", *in, hint)
		}
		o.Source = dir
		if doc != nil {
			for _, a := range doc {
				switch {
				case !slices.Contains(requested, a.Provider):
				case dir.HasAccount(a.Provider, a.ID):
					o.Accounts = append(o.Accounts, a)
				default:
					skipped = append(skipped, fmt.Sprintf("%s: skipped, no captures in %s", a.Label(), filepath.Join(*in, extract.AccountPrefix(a.ID), a.Provider)))
				}
			}
		} else {
			o.Accounts, skipped = invoiceexport.ReplayAccounts(dir, requested, o.Config, getenv)
		}
		o.Providers = requested
	}
	for _, s := range skipped {
		fmt.Fprintln(stderr, "invoice-export: "+s)
	}
	// A live run without a document runs o.Providers' default accounts;
	// every other run, the accounts listed in o.Accounts.
	byProvider := *live && doc == nil
	if byProvider && len(o.Providers) == 0 || !byProvider && len(o.Accounts) == 0 && len(keyFailures) == 0 {
		return fail("no provider to run: every one was skipped")
	}

	if *dryRun {
		if !printPlan(stdout, invoiceexport.DryRun(ctx, o), o, *live) {
			return 1
		}
		return 0
	}
	o.Progress = prog.event
	start := time.Now()
	rep := &invoiceexport.Report{RunID: o.RunID}
	if byProvider || len(o.Accounts) > 0 {
		rep = invoiceexport.Run(ctx, o)
	}
	rep.Failures = append(rep.Failures, keyFailures...)
	rep.Sort()
	prog.finish()
	printSummary(stdout, rep, o, o.Sink.String(), time.Since(start))
	for _, f := range rep.Failures {
		if rep.Stopped != nil && errors.Is(f.Err, rep.Stopped) {
			continue // one line for all, below
		}
		for _, line := range f.Lines() {
			fmt.Fprintln(stderr, "invoice-export: FAILED "+line)
		}
	}
	if err := rep.StopError(); err != nil {
		fmt.Fprintln(stderr, "invoice-export: FAILED "+err.Error())
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// awsSecrets reads an accounts document's keys kept in Secrets Manager or
// SSM, with the AWS SDK's default configuration (AWS_PROFILE, ...).
func awsSecrets(ctx context.Context, k invoiceexport.KeyRef) (string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", fmt.Errorf("AWS configuration: %w", err)
	}
	return awskey.Read(ctx, cfg, k.SecretARN, k.SSMParameter)
}

// keyVars are the variables of every provider's keys, for --help.
func keyVars() []string {
	var out []string
	for _, p := range registry.All() {
		out = append(out, p.SecretVars()...)
	}
	return out
}
