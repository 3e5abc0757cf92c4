package extract

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/invoice-export/invoice-export/internal/billing"
)

// Secret is a credential (an API key). Every way of printing it prints
// "[redacted]", so a key cannot reach a log line, an error or a file by
// accident; Reveal is for authorizing requests only.
type Secret string

const redacted = billing.Redacted

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) IsSet() bool                { return s != "" }

// Reveal returns the credential itself, to put in a request.
func (s Secret) Reveal() string { return string(s) }

// Setting is one configuration value of a provider, described as data so
// that any source of named values can supply it: the environment
// (<PREFIX>_<NAME>) or a document listing several accounts.
type Setting struct {
	// Name follows the provider's prefix: API_KEY is read from
	// <PREFIX>_API_KEY.
	Name    string
	Default string
	// Secret marks a credential: it is never printed, and in Lambda it may
	// come from Secrets Manager (<VAR>_SECRET_ARN) or SSM (<VAR>_PARAMETER).
	Secret bool
	// Required: without it, the provider is skipped (with a notice).
	Required bool
	// Check normalizes a value (trimmed, never empty) or says what is wrong
	// with it in a message that names the setting as name.
	Check func(name, value string) (string, error)
	// Doc says what the setting is for (docs/vendors.md).
	Doc string
	// Credential names the credential the setting is part of, for a
	// provider that accepts one of several ("a service account", "an API
	// key"). Such a provider needs every Required setting of exactly one
	// credential: without any it is skipped; half of one, or two at once,
	// is a mistake ReadConfig names. Empty: the setting stands alone.
	Credential string
	// Rejected, for a key, is what a 401 or 403 tells the user to do
	// instead of the general advice: which kind of key to create, say.
	Rejected string
}

// APIKey is the setting of a provider whose requests carry one key.
var APIKey = Setting{Name: "API_KEY", Secret: true, Required: true, Doc: "the API key"}

// BaseURL is the setting of a provider's API address, with its public one
// as the default.
func BaseURL(def string) Setting {
	return Setting{Name: "API_URL", Default: def, Doc: "the API's base URL",
		Check: func(name, v string) (string, error) { return checkURL(name, v, def) }}
}

// Config is one provider's settings, read and checked. It is a value:
// several configurations of one provider (accounts) can coexist.
type Config struct {
	Provider string // the slug
	prefix   string
	settings []Setting
	values   map[string]string // by Setting.Name: trimmed, checked, defaults applied
	secrets  map[string]Secret // the same for secret settings: printing a Config shows none
}

// ReadConfig reads a provider's settings through get (os.Getenv:
// <prefix>_<NAME>), applies the defaults and checks every value, so that a
// typo is one clear line naming the variable rather than a run of retries
// against an address that cannot work. The error names every setting at
// fault, never a secret's value; the Config is complete even then.
func ReadConfig(provider, prefix string, settings []Setting, get func(string) string) (Config, error) {
	c := Config{Provider: provider, prefix: prefix, settings: settings, values: map[string]string{}, secrets: map[string]Secret{}}
	var problems []string
	for _, s := range settings {
		v := strings.TrimSpace(get(c.Var(s.Name)))
		if v == "" {
			v = s.Default
		}
		if v != "" && s.Check != nil {
			norm, err := s.Check(c.Var(s.Name), v)
			if err != nil {
				problems = append(problems, err.Error())
			} else {
				v = norm
			}
		}
		if s.Secret {
			c.secrets[s.Name] = Secret(v)
		} else {
			c.values[s.Name] = v
		}
	}
	problems = append(problems, c.credentialProblems()...)
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// credential is one of the credentials a provider accepts: its settings,
// in order.
type credential struct {
	name     string
	settings []Setting
}

// credentials lists the provider's alternative credentials, in the order
// of their first setting.
func (c Config) credentials() []credential {
	var out []credential
	for _, s := range c.settings {
		if s.Credential == "" {
			continue
		}
		i := slices.IndexFunc(out, func(k credential) bool { return k.name == s.Credential })
		if i < 0 {
			out = append(out, credential{name: s.Credential})
			i = len(out) - 1
		}
		out[i].settings = append(out[i].settings, s)
	}
	return out
}

func (c Config) isSet(s Setting) bool { return c.values[s.Name] != "" || c.secrets[s.Name].IsSet() }

// vars names a credential's required settings: "A and B".
func (c Config) vars(k credential) string {
	var vs []string
	for _, s := range k.settings {
		if s.Required {
			vs = append(vs, c.Var(s.Name))
		}
	}
	return strings.Join(vs, " and ")
}

// inUse is the credential whose settings are set (several: the first),
// and whether there is one.
func (c Config) inUse() (credential, bool) {
	for _, k := range c.credentials() {
		if slices.ContainsFunc(k.settings, c.isSet) {
			return k, true
		}
	}
	return credential{}, false
}

// credentialProblems names half a credential and two credentials at once;
// none at all is not a mistake (the provider is skipped).
func (c Config) credentialProblems() []string {
	var out, set []string
	for _, k := range c.credentials() {
		if !slices.ContainsFunc(k.settings, c.isSet) {
			continue
		}
		set = append(set, k.name+" ("+c.vars(k)+")")
		for _, s := range k.settings {
			if s.Required && !c.isSet(s) {
				out = append(out, fmt.Sprintf("%s is not set: %s needs %s", c.Var(s.Name), k.name, c.vars(k)))
			}
		}
	}
	if len(set) > 1 {
		out = append(out, fmt.Sprintf("%s are set: set one of them", strings.Join(set, " and ")))
	}
	return out
}

// Format prints the provider and nothing else: fmt does not call Secret's
// methods on the unexported maps, which would print the keys.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "%s settings", c.Provider) }

// LogValue keeps a Config out of log records as well.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.Provider + " settings") }

// Var is the name of a setting's variable: <PREFIX>_<NAME>.
func (c Config) Var(name string) string { return c.prefix + "_" + name }

// Value is a setting's value ("" when unset and without a default).
func (c Config) Value(name string) string { return c.values[name] }

// Secret is a secret setting's value.
func (c Config) Secret(name string) Secret { return c.secrets[name] }

// Secrets are the values of every secret setting that is set.
func (c Config) Secrets() []Secret {
	var out []Secret
	for _, s := range c.settings {
		if v := c.secrets[s.Name]; v.IsSet() {
			out = append(out, v)
		}
	}
	return out
}

// Missing lists the required settings that are not set, by variable; a
// provider that accepts one of several credentials and has none counts
// them as one: "A and B, or C and D".
func (c Config) Missing() []string {
	var out []string
	for _, s := range c.settings {
		if s.Required && s.Credential == "" && !c.isSet(s) {
			out = append(out, c.Var(s.Name))
		}
	}
	if ks := c.credentials(); len(ks) > 0 {
		if k, ok := c.inUse(); ok {
			for _, s := range k.settings {
				if s.Required && !c.isSet(s) {
					out = append(out, c.Var(s.Name))
				}
			}
		} else {
			alts := make([]string, len(ks))
			for i, k := range ks {
				alts[i] = c.vars(k)
			}
			out = append(out, strings.Join(alts, ", or "))
		}
	}
	return out
}

// CredentialVars are the variables of the credential in use, which a
// refusal names: the settings of the one configured when the provider
// accepts several, else every secret setting.
func (c Config) CredentialVars() []string {
	var out []string
	if k, ok := c.inUse(); ok {
		for _, s := range k.settings {
			out = append(out, c.Var(s.Name))
		}
		return out
	}
	for _, s := range c.settings {
		if s.Secret {
			out = append(out, c.Var(s.Name))
		}
	}
	return out
}

// checkURL is the Check of a base URL: an absolute http(s) URL with a host
// and no query, fragment or credentials; trailing slashes are dropped
// (paths are appended to it). example is the provider's public address.
func checkURL(name, raw, example string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s=%q is not a URL: use an absolute URL such as %s", name, raw, example)
	}
	if u.User != nil {
		// The value is not printed: it carries a user or password.
		return "", fmt.Errorf("%s carries a user name or password: give only the scheme, host and path, such as %s (keys go in *_API_KEY)", name, example)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		hint := ""
		if !strings.Contains(raw, "://") {
			hint = fmt.Sprintf(" (did you mean https://%s?)", raw)
		}
		return "", fmt.Errorf("%s=%q is not an absolute http(s) URL%s: use an absolute URL such as %s", name, raw, hint, example)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%s=%q has no host: use an absolute URL such as %s", name, raw, example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%s=%q has a query or fragment: give only the scheme, host and path, such as %s", name, raw, example)
	}
	return strings.TrimRight(raw, "/"), nil
}

// CheckID rejects an identifier that would escape its place in the capture
// layout, where it names a file (invoice/<id>.json) and part of an S3 key:
// empty, ".", or holding "..", a path separator ('/', '\\') or a control
// character, or over 200 bytes. Providers' ids are opaque, and anything else
// may be one ("inv%2Fx", "a?b#c", "a b"): in a URL every id is a segment of
// its own, escaped by Path, so no character needs refusing for the request's
// sake.
func CheckID(provider, what, id string) error {
	bad := id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\") || strings.Contains(id, "..")
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			bad = true
		}
	}
	if bad || len(id) > 200 {
		return fmt.Errorf("%s: %s %q is not a safe identifier (empty, too long, or contains '/', '\\', '..' or control characters)", provider, what, billing.Excerpt([]byte(id), nil))
	}
	return nil
}
