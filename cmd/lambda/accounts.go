package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/awskey"
	"github.com/invoice-export/invoice-export/load"
)

// The variables naming the accounts document (template.yaml's
// AccountsParameter and AccountsObject): read on every invocation, so an
// account is added without a redeploy (docs/accounts.md).
const (
	accountsParameterVar = "ACCOUNTS_PARAMETER"
	accountsObjectVar    = "ACCOUNTS_OBJECT"
)

// maxDocument bounds the accounts document read (SSM's advanced
// parameters hold 8 KB; an S3 object of thousands of accounts fits).
const maxDocument = 4 << 20

// accountsDocument reads the accounts document that ACCOUNTS_PARAMETER (an
// SSM parameter) or ACCOUNTS_OBJECT (s3://bucket/key) names; nil when
// neither is set: the single-account variables configure one account per
// vendor, as before accounts existed.
func (h *handler) accountsDocument(ctx context.Context, sinkOpt load.Options) ([]invoiceexport.Account, error) {
	param := strings.TrimSpace(h.getenv(accountsParameterVar))
	object := strings.TrimSpace(h.getenv(accountsObjectVar))
	var name string
	var text []byte
	switch {
	case param == "" && object == "":
		return nil, nil
	case param != "" && object != "":
		return nil, fmt.Errorf("%s and %s are both set: keep one", accountsParameterVar, accountsObjectVar)
	case param != "":
		name = "SSM parameter " + param
		h.keys.mu.Lock()
		cfg, err := h.keys.awsConfig(ctx)
		h.keys.mu.Unlock()
		if err != nil {
			return nil, err
		}
		v, err := awskey.Read(ctx, cfg, "", param)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", accountsParameterVar, err)
		}
		text = []byte(v)
	default:
		name = object
		rest, ok := strings.CutPrefix(object, "s3://")
		bucket, key, _ := strings.Cut(rest, "/")
		if !ok || bucket == "" || key == "" || strings.HasSuffix(key, "/") {
			return nil, fmt.Errorf("%s=%q: use s3://bucket/key", accountsObjectVar, object)
		}
		sink, err := load.Open(ctx, "s3://"+bucket+"/"+path.Dir(key), sinkOpt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", accountsObjectVar, err)
		}
		r, err := sink.Open(ctx, path.Base(key))
		if err != nil {
			return nil, fmt.Errorf("%s: reading %s: %w", accountsObjectVar, object, err)
		}
		defer r.Close()
		if text, err = io.ReadAll(io.LimitReader(r, maxDocument+1)); err != nil {
			return nil, fmt.Errorf("%s: reading %s: %w", accountsObjectVar, object, err)
		}
		if len(text) > maxDocument {
			return nil, fmt.Errorf("%s: %s is over %d MB", accountsObjectVar, object, maxDocument>>20)
		}
	}
	return invoiceexport.ParseAccounts(name, text)
}

// configured are the accounts an event may run: the document's, or
// without one the default account of each provider with a key, of the
// event's providers.
func (h *handler) configured(req request, doc []invoiceexport.Account) ([]invoiceexport.Account, error) {
	if doc == nil {
		cfg, err := invoiceexport.ReadConfigs(stored(h.getenv))
		if err != nil {
			return nil, err
		}
		doc = invoiceexport.DefaultAccounts(cfg)
		doc = slices.DeleteFunc(doc, func(a invoiceexport.Account) bool { return len(a.Config.Missing()) > 0 })
	}
	var out []invoiceexport.Account
	for _, a := range doc {
		if slices.Contains(req.Providers, a.Provider) && (req.Account == "" || req.Account == a.ID) {
			out = append(out, a)
		}
	}
	return out, nil
}

// listUnits answers {"list_units":true}.
func (h *handler) listUnits(ctx context.Context, o invoiceexport.Options, req request, doc []invoiceexport.Account) (any, error) {
	accounts, err := h.configured(req, doc)
	if err != nil {
		return nil, err
	}
	res := Units{Units: []unit{}}
	for _, a := range accounts {
		ps, err := invoiceexport.Window(ctx, o, a.Provider, a.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Label(), err)
		}
		if len(ps) == 0 {
			continue
		}
		res.Units = append(res.Units, unit{Provider: a.Provider, Account: a.ID, From: ps[0].String(), To: ps[len(ps)-1].String(), AsOf: o.AsOf.Format("2006-01-02")})
	}
	o.Logger.Info("units listed", "units", len(res.Units))
	return res, nil
}

// runAccounts runs the accounts of a document, or one account (the
// per-account event): each account's key is read on its own, and one that
// cannot be read fails that account alone.
func (h *handler) runAccounts(ctx context.Context, start time.Time, o invoiceexport.Options, opt extract.HTTPOptions, req request, doc []invoiceexport.Account) (any, error) {
	accounts, err := h.configured(req, doc)
	if err != nil {
		return nil, err
	}
	if req.Account != "" && len(accounts) == 0 {
		where := "the accounts document"
		if doc == nil {
			where = "the configuration (no accounts document: set " + accountsParameterVar + " or " + accountsObjectVar + ")"
		}
		return nil, fmt.Errorf("event: account %q of %s is not in %s", req.Account, req.Providers[0], where)
	}
	if len(accounts) == 0 {
		return nil, errors.New("no account to run: the accounts document lists none of the event's providers")
	}
	var keyFailures []invoiceexport.Failure
	o.Accounts, keyFailures = invoiceexport.ResolveKeys(ctx, accounts, h.getenv, h.keys.secret)
	for _, f := range keyFailures {
		o.Logger.Error("export failed", "provider", f.Provider, "account", f.Account, "period", "all", "error", f.Err.Error())
	}
	o.Providers = req.Providers
	o.Source = invoiceexport.LiveSource(o, opt)
	o.Logger.Info("run started", "accounts", len(o.Accounts), "as_of", o.AsOf.Format("2006-01-02"), "from", req.From.String(), "to", req.To.String())
	rep := &invoiceexport.Report{RunID: o.RunID}
	if len(o.Accounts) > 0 {
		rep = invoiceexport.Run(ctx, o)
	}
	var providers []string
	for _, a := range o.Accounts {
		if !slices.Contains(providers, a.Provider) {
			providers = append(providers, a.Provider)
		}
	}
	return h.finish(start, o, providers, rep, keyFailures)
}
