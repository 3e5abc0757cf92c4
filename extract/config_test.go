package extract

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A provider that takes one of two credentials (a service account or an
// API key, as MongoDB Atlas does): it needs all of one, and only one.
var twoCredentials = []Setting{
	{Name: "CLIENT_ID", Required: true, Credential: "a service account"},
	{Name: "CLIENT_SECRET", Secret: true, Required: true, Credential: "a service account"},
	{Name: "PUBLIC_KEY", Required: true, Credential: "an API key"},
	{Name: "PRIVATE_KEY", Secret: true, Required: true, Credential: "an API key"},
	{Name: "ORG_ID"},
}

func TestOneOfSeveralCredentials(t *testing.T) {
	const secret = "s3cr3t-0123456789"
	for _, c := range []struct {
		env             map[string]string
		err             string
		missing, keyVar []string
	}{
		{env: nil, missing: []string{"X_CLIENT_ID and X_CLIENT_SECRET, or X_PUBLIC_KEY and X_PRIVATE_KEY"},
			keyVar: []string{"X_CLIENT_SECRET", "X_PRIVATE_KEY"}},
		{env: map[string]string{"X_CLIENT_ID": "id", "X_CLIENT_SECRET": secret}, keyVar: []string{"X_CLIENT_ID", "X_CLIENT_SECRET"}},
		{env: map[string]string{"X_PUBLIC_KEY": "pub", "X_PRIVATE_KEY": secret}, keyVar: []string{"X_PUBLIC_KEY", "X_PRIVATE_KEY"}},
		{env: map[string]string{"X_CLIENT_ID": "id"}, err: "X_CLIENT_SECRET is not set: a service account needs X_CLIENT_ID and X_CLIENT_SECRET",
			missing: []string{"X_CLIENT_SECRET"}, keyVar: []string{"X_CLIENT_ID", "X_CLIENT_SECRET"}},
		{env: map[string]string{"X_PRIVATE_KEY": secret}, err: "X_PUBLIC_KEY is not set: an API key needs X_PUBLIC_KEY and X_PRIVATE_KEY",
			missing: []string{"X_PUBLIC_KEY"}, keyVar: []string{"X_PUBLIC_KEY", "X_PRIVATE_KEY"}},
		{env: map[string]string{"X_CLIENT_ID": "id", "X_CLIENT_SECRET": secret, "X_PUBLIC_KEY": "pub", "X_PRIVATE_KEY": secret},
			err:    "a service account (X_CLIENT_ID and X_CLIENT_SECRET) and an API key (X_PUBLIC_KEY and X_PRIVATE_KEY) are set: set one of them",
			keyVar: []string{"X_CLIENT_ID", "X_CLIENT_SECRET"}},
	} {
		t.Run(fmt.Sprint(c.env), func(t *testing.T) {
			cfg, err := ReadConfig("x", "X", twoCredentials, func(k string) string { return c.env[k] })
			switch {
			case c.err == "" && err != nil:
				t.Errorf("err = %v", err)
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("err = %v, want %q", err, c.err)
			case err != nil && strings.Contains(err.Error(), secret):
				t.Errorf("a secret in %v", err)
			}
			if got := cfg.Missing(); !slices.Equal(got, c.missing) {
				t.Errorf("Missing() = %q, want %q", got, c.missing)
			}
			if got := cfg.CredentialVars(); !slices.Equal(got, c.keyVar) {
				t.Errorf("CredentialVars() = %q, want %q", got, c.keyVar)
			}
		})
	}
}

// Settings without a credential keep their own rule: a required one
// missing is missing; the variables a refusal names are the secrets.
func TestStandaloneSettings(t *testing.T) {
	cfg, err := ReadConfig("x", "X", []Setting{APIKey, {Name: "TENANT", Required: true}, BaseURL("https://x.example")}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Missing(); !slices.Equal(got, []string{"X_API_KEY", "X_TENANT"}) {
		t.Errorf("Missing() = %q", got)
	}
	if got := cfg.CredentialVars(); !slices.Equal(got, []string{"X_API_KEY"}) {
		t.Errorf("CredentialVars() = %q", got)
	}
}
