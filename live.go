package invoiceexport

import (
	"context"
	"fmt"
	"time"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/registry"
	"github.com/invoice-export/invoice-export/load"
)

// LiveSource calls the APIs of the accounts o runs and lands every response
// under raw/ of o.Sink in the capture layout (each account's under
// extract.AccountPrefix), so that any live run, local or in Lambda, can be
// replayed with cmd/local --in.
func LiveSource(o Options, opt extract.HTTPOptions) extract.Source {
	return extract.Record(NewAccountsHTTP(o.accounts(), withLogger(opt, o)), (&load.Store{Sink: o.Sink, RunID: o.RunID}).SaveRaw(time.Now()))
}

func withLogger(opt extract.HTTPOptions, o Options) extract.HTTPOptions {
	if opt.Logger == nil {
		opt.Logger = o.Logger
	}
	return opt
}

// AccountsHTTP is the live Source of several accounts: one extract.HTTP
// per account, so that each has its own client, key, rate gate and
// Retry-After wait, and one account's throttling never slows another's.
type AccountsHTTP map[[2]string]*extract.HTTP

// NewAccountsHTTP returns the live Source of accounts.
func NewAccountsHTTP(accounts []Account, opt extract.HTTPOptions) AccountsHTTP {
	h := AccountsHTTP{}
	for _, a := range accounts {
		p, err := registry.Get(a.Provider)
		if err != nil {
			continue // Run fails the account on its provider
		}
		ep := p.Endpoint(a.Config)
		if !a.Key.IsZero() { // configured by a document: name its key and address there
			ep.KeyVar = fmt.Sprintf("the key of account %q (%s)", a.ID, a.Key)
			ep.URLVar = fmt.Sprintf("the url of account %q", a.ID)
		}
		h[[2]string{a.Provider, a.ID}] = extract.NewHTTP(map[string]extract.Endpoint{a.Provider: ep}, opt)
	}
	return h
}

// Fetch makes c with the HTTP client of c's account (DefaultAccount when
// the call names none).
func (h AccountsHTTP) Fetch(ctx context.Context, c extract.Call) (*extract.Body, error) {
	id := c.Account
	if id == "" {
		id = DefaultAccount
	}
	src, ok := h[[2]string{c.Provider, id}]
	if !ok {
		return nil, fmt.Errorf("%s: no account %q is configured", c.Provider, id)
	}
	return src.Fetch(ctx, c)
}
