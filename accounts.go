package invoiceexport

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoice-export/invoice-export/extract"
	"github.com/invoice-export/invoice-export/internal/billing"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// DefaultAccount is the id of the one account per vendor that the
// single-account variables (<PREFIX>_API_KEY, ...) configure, and of output
// written before accounts existed (docs/accounts.md, "Upgrading").
const DefaultAccount = "default"

// Account is one configured account of a provider. The unit of work and of
// replacement is (provider, account, period): each account has its own
// key, settings, HTTP client and rate gate, and its own files.
type Account struct {
	Provider string
	ID       string // [a-z0-9][a-z0-9-]{0,62}: part of file names and manifest keys
	Name     string // a display name, optional
	Key      KeyRef // where its key comes from (zero: the environment, as Config read it)
	Config   extract.Config
}

// Label names the account in the summary, progress and failure lines: the
// provider alone for the default account (single-account output stays as
// it was), provider/id otherwise.
func (a Account) Label() string { return UnitLabel(a.Provider, a.ID) }

// UnitLabel is Account.Label for a provider and account id.
func UnitLabel(provider, account string) string {
	if account == "" || account == DefaultAccount {
		return provider
	}
	return provider + "/" + account
}

// KeyRef says where an account's key is: exactly one of an environment
// variable, a Secrets Manager secret (ARN) or an SSM parameter.
type KeyRef struct {
	Env          string `json:"env,omitempty"`
	SecretARN    string `json:"secret_arn,omitempty"`
	SSMParameter string `json:"ssm_parameter,omitempty"`
}

func (k KeyRef) IsZero() bool { return k == KeyRef{} }

// String names the place, never the key.
func (k KeyRef) String() string {
	switch {
	case k.Env != "":
		return "environment variable " + k.Env
	case k.SecretARN != "":
		return "Secrets Manager secret " + k.SecretARN
	case k.SSMParameter != "":
		return "SSM parameter " + k.SSMParameter
	}
	return "the environment"
}

// SecretReader reads a key kept in Secrets Manager or SSM (cmd/lambda and
// cmd/local give the AWS SDK's); nil: such keys cannot be read.
type SecretReader func(ctx context.Context, ref KeyRef) (string, error)

var accountID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// The members an account may have, for the one-line refusals.
var accountFields = []string{"provider", "id", "name", "key", "url", "settings"}

type accountDoc struct {
	Provider string            `json:"provider"`
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Key      map[string]string `json:"key"`
	URL      string            `json:"url"`
	Settings map[string]string `json:"settings"`
}

// ParseAccounts reads an accounts document (docs/accounts.md):
// {"accounts":[{"provider","id","name","key":{one of env, secret_arn,
// ssm_parameter},"url","settings":{<PREFIX>_<NAME>: value}}]}. Every
// mistake is one line naming the document (name), the account and the
// field. Settings are checked as the environment's are; keys are not read
// here (ResolveKeys), so a document is checked before any network call.
func ParseAccounts(name string, data []byte) ([]Account, error) {
	var top struct {
		Accounts []jsontext.Value `json:"accounts"`
	}
	if err := json.Unmarshal(data, &top, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("%s: not an accounts document (%s): expected {\"accounts\":[{\"provider\":...,\"id\":...,\"key\":{\"env\":...}}]}", name, docWhy(err))
	}
	if len(top.Accounts) == 0 {
		return nil, fmt.Errorf("%s: accounts: the list is empty: list at least one account", name)
	}
	var out []Account
	for i, raw := range top.Accounts {
		a, err := parseAccount(raw)
		where := fmt.Sprintf("%s: account %d", name, i+1)
		if a.Provider != "" && a.ID != "" {
			where += fmt.Sprintf(" (%s/%s)", a.Provider, billing.Excerpt([]byte(a.ID), nil))
		}
		if err == nil {
			if j := slices.IndexFunc(out, func(b Account) bool { return b.Provider == a.Provider && b.ID == a.ID }); j >= 0 {
				err = fmt.Errorf("id: %q is already the id of account %d: each account of a provider needs its own id", a.ID, j+1)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseAccount(raw jsontext.Value) (Account, error) {
	var fields map[string]jsontext.Value
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Account{}, fmt.Errorf("not a JSON object (%s)", docWhy(err))
	}
	for f := range fields {
		if !slices.Contains(accountFields, f) {
			return Account{}, fmt.Errorf("%s: unknown field (an account has %s)", quoteField(f), strings.Join(accountFields, ", "))
		}
	}
	var d accountDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return Account{}, errors.New(docWhy(err))
	}
	a := Account{Provider: d.Provider, ID: d.ID, Name: strings.TrimSpace(d.Name)}
	if d.Provider == "" {
		return a, errors.New("provider: missing: name the vendor (" + strings.Join(registry.Slugs(), ", ") + ")")
	}
	p, err := registry.Get(d.Provider)
	if err != nil {
		return Account{}, fmt.Errorf("provider: %w", err)
	}
	if !accountID.MatchString(d.ID) {
		return Account{}, fmt.Errorf("id: %q is not a safe account id: use 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit (it names files and keys)", billing.Excerpt([]byte(d.ID), nil))
	}
	if a.Key, err = parseKey(d.Key); err != nil {
		return a, err
	}
	values := map[string]string{}
	known := map[string]extract.Setting{}
	for _, s := range p.Settings {
		known[p.EnvPrefix+"_"+s.Name] = s
	}
	for k, v := range d.Settings {
		s, ok := known[k]
		switch {
		case !ok:
			return a, fmt.Errorf("settings: unknown setting %s for %s (its settings: %s)", quoteField(k), p.Slug, strings.Join(settingNames(p), ", "))
		case s.Secret:
			return a, fmt.Errorf("settings: %s is a secret: give it as the account's key, never in the document", k)
		case s.Name == "API_URL":
			return a, fmt.Errorf("settings: %s: give the address as the account's url", k)
		}
		values[k] = v
	}
	if d.URL != "" {
		values[p.EnvPrefix+"_API_URL"] = d.URL
	}
	// Where the API names no account (WarpStream), the account's id is
	// its BillingAccountId unless its settings say otherwise.
	if v := p.EnvPrefix + "_ACCOUNT_ID"; slices.ContainsFunc(p.Settings, func(s extract.Setting) bool { return s.Name == "ACCOUNT_ID" }) && values[v] == "" {
		values[v] = a.ID
	}
	secret, err := keySetting(p, values)
	if err != nil {
		return a, err
	}
	// The key is checked present but not read: a placeholder stands for it.
	values[p.EnvPrefix+"_"+secret] = "(key in " + a.Key.String() + ")"
	if a.Config, err = p.ReadConfig(func(n string) string { return values[n] }); err != nil {
		field := "settings"
		if d.URL != "" && strings.Contains(err.Error(), p.EnvPrefix+"_API_URL") {
			field = "url"
		}
		return a, fmt.Errorf("%s: %v", field, err)
	}
	return a, nil
}

func parseKey(k map[string]string) (KeyRef, error) {
	var r KeyRef
	var given []string
	for name, v := range k {
		switch name {
		case "env":
			r.Env = strings.TrimSpace(v)
		case "secret_arn":
			r.SecretARN = strings.TrimSpace(v)
		case "ssm_parameter":
			r.SSMParameter = strings.TrimSpace(v)
		default:
			return r, fmt.Errorf("key: unknown way %s: give exactly one of env, secret_arn, ssm_parameter", quoteField(name))
		}
		if strings.TrimSpace(v) == "" {
			return r, fmt.Errorf("key: %s is empty", name)
		}
		given = append(given, name)
	}
	slices.Sort(given)
	switch len(given) {
	case 0:
		return r, errors.New(`key: missing: give exactly one of {"env":"VAR"}, {"secret_arn":"arn:..."}, {"ssm_parameter":"/name"}`)
	case 1:
		return r, nil
	}
	return r, fmt.Errorf("key: given in %d ways (%s): give exactly one of env, secret_arn, ssm_parameter", len(given), strings.Join(given, " and "))
}

// keySetting is the secret setting an account's key fills: the provider's
// only one, or, for a provider that takes one of several credentials
// (MongoDB Atlas: a service account or an API key), the secret of the one
// whose other settings the account gives.
func keySetting(p registry.Provider, values map[string]string) (string, error) {
	var secrets []extract.Setting
	for _, s := range p.Settings {
		if s.Secret {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 1 {
		return secrets[0].Name, nil
	}
	var chosen []string
	for _, s := range secrets {
		for _, o := range p.Settings {
			if o.Credential != "" && o.Credential == s.Credential && !o.Secret && values[p.EnvPrefix+"_"+o.Name] != "" {
				chosen = append(chosen, s.Name)
				break
			}
		}
	}
	if len(chosen) == 1 {
		return chosen[0], nil
	}
	var ids []string
	for _, s := range p.Settings {
		if s.Credential != "" && !s.Secret {
			ids = append(ids, p.EnvPrefix+"_"+s.Name)
		}
	}
	return "", fmt.Errorf("settings: %s takes one of several credentials: set exactly one of %s, whose secret is the key", p.Slug, strings.Join(ids, ", "))
}

func settingNames(p registry.Provider) []string {
	var out []string
	for _, s := range p.Settings {
		if !s.Secret && s.Name != "API_URL" {
			out = append(out, p.EnvPrefix+"_"+s.Name)
		}
	}
	return out
}

func quoteField(s string) string { return fmt.Sprintf("%q", billing.Excerpt([]byte(s), nil)) }

// docWhy says in a few words what the JSON decoder refused.
func docWhy(err error) string {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, json.ErrUnknownName):
		return fmt.Sprintf("unknown field %s", quoteField(se.JSONPointer.LastToken()))
	case errors.As(err, &se) && se.JSONPointer != "":
		return fmt.Sprintf("%s: expected %s, found %s", strings.TrimPrefix(string(se.JSONPointer), "/"), kindOf(se), billing.KindName(se.JSONKind))
	case errors.As(err, &se):
		return "not a JSON object"
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("field %s appears twice", quoteField(syn.JSONPointer.LastToken()))
	case errors.As(err, &syn):
		return strings.TrimPrefix(syn.Err.Error(), "jsontext: ")
	}
	return err.Error()
}

func kindOf(se *json.SemanticError) string {
	if se.GoType != nil {
		switch se.GoType.Kind().String() {
		case "map", "struct":
			return "an object"
		case "slice":
			return "an array"
		}
	}
	return "a string"
}

// DefaultAccounts is the configuration without a document: one account
// "default" per provider, read from the single-account variables.
func DefaultAccounts(cfgs Configs) []Account {
	var out []Account
	for _, p := range registry.All() {
		if c, ok := cfgs[p.Slug]; ok {
			out = append(out, Account{Provider: p.Slug, ID: DefaultAccount, Config: c})
		}
	}
	return out
}

// ResolveKeys reads the key of every account configured by a document,
// from the environment (getenv), Secrets Manager or SSM (read), and puts
// it in its Config. An account whose key cannot be read is returned apart
// with why: it fails alone (one FAILED line), the others run. Accounts
// without a KeyRef (DefaultAccounts) pass as they are.
func ResolveKeys(ctx context.Context, accounts []Account, getenv func(string) string, read SecretReader) (ok []Account, failed []Failure) {
	for _, a := range accounts {
		if a.Key.IsZero() {
			ok = append(ok, a)
			continue
		}
		key, err := readKey(ctx, a.Key, getenv, read)
		if err == nil {
			var p registry.Provider
			if p, err = registry.Get(a.Provider); err == nil {
				a.Config, err = withKey(p, a.Config, key)
			}
		}
		if err != nil {
			failed = append(failed, Failure{Provider: a.Provider, Account: a.ID, Err: fmt.Errorf("reading its key from %s: %w", a.Key, err)})
			continue
		}
		ok = append(ok, a)
	}
	return ok, failed
}

func readKey(ctx context.Context, k KeyRef, getenv func(string) string, read SecretReader) (string, error) {
	if k.Env != "" {
		v := strings.TrimSpace(getenv(k.Env))
		if v == "" {
			return "", fmt.Errorf("%s is not set", k.Env)
		}
		return v, nil
	}
	if read == nil {
		return "", errors.New("this command cannot read secrets from AWS")
	}
	v, err := read(ctx, k)
	if err == nil && strings.TrimSpace(v) == "" {
		err = errors.New("it is empty")
	}
	return strings.TrimSpace(v), err
}

// withKey is c with its key (the secret setting keySetting names) set.
func withKey(p registry.Provider, c extract.Config, key string) (extract.Config, error) {
	values := map[string]string{}
	for _, s := range p.Settings {
		n := p.EnvPrefix + "_" + s.Name
		if s.Secret {
			continue
		}
		values[n] = c.Value(s.Name)
	}
	name, err := keySetting(p, values)
	if err != nil {
		return c, err
	}
	values[p.EnvPrefix+"_"+name] = key
	return p.ReadConfig(func(n string) string { return values[n] })
}
