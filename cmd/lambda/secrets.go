package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	invoiceexport "github.com/invoice-export/invoice-export"
	"github.com/invoice-export/invoice-export/internal/awskey"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// keys resolves the API keys that name a secret (<VAR>_SECRET_ARN) or an
// SSM parameter (<VAR>_PARAMETER) instead of a value. A key read is kept
// for the life of the container (secrets are not read on every invocation:
// cost, throttling; a rotated key arrives with the next cold start). A
// failure is not kept: AccessDenied right after a deploy, throttling or a
// cancelled invocation is tried again by the next invocation.
type keys struct {
	getenv func(string) string
	mu     sync.Mutex
	cfg    *aws.Config       // loaded once it loads
	vals   map[string]string // key variable → the key; successes only
}

// resolve reads the keys of providers (every secret setting the registry
// names) that come from a secret and returns a getenv that answers the key
// variables with them, and the providers whose key could not be read, with
// why: those fail alone, the others run.
func (k *keys) resolve(ctx context.Context, providers []string) (func(string) string, map[string]error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.vals == nil {
		k.vals = map[string]string{}
	}
	failed := map[string]error{}
	for _, slug := range providers {
		p, err := registry.Get(slug)
		if err != nil {
			failed[slug] = err
			continue
		}
		for _, name := range p.SecretVars() {
			if _, ok := k.vals[name]; ok {
				continue
			}
			v, fromSecret, err := k.read(ctx, name)
			switch {
			case err != nil:
				failed[slug] = errors.Join(failed[slug], err)
			case fromSecret:
				k.vals[name] = v
			}
		}
	}
	vals := make(map[string]string, len(k.vals))
	for n, v := range k.vals {
		vals[n] = v
	}
	return stored(func(name string) string {
		if v, ok := vals[name]; ok {
			return v
		}
		return k.getenv(name)
	}), failed
}

// stored answers getenv, and a secret variable that a secret or a
// parameter names (<VAR>_SECRET_ARN, <VAR>_PARAMETER) and that has no
// value (not read yet, or its read failed) as set, so that checking the
// settings sees each credential whole: a provider that takes a pair (an
// id in a variable, its secret in Secrets Manager) is not half
// configured. A provider whose secret could not be read fails alone, as
// resolve reports; it never runs with this placeholder.
func stored(getenv func(string) string) func(string) string {
	secret := map[string]bool{}
	for _, p := range registry.All() {
		for _, v := range p.SecretVars() {
			secret[v] = true
		}
	}
	return func(name string) string {
		v := getenv(name)
		if v == "" && secret[name] && (strings.TrimSpace(getenv(name+"_SECRET_ARN")) != "" || strings.TrimSpace(getenv(name+"_PARAMETER")) != "") {
			return "(stored in " + name + "_SECRET_ARN or _PARAMETER)"
		}
		return v
	}
}

// read fetches the key variable name from the secret or parameter its
// <name>_SECRET_ARN / <name>_PARAMETER names; fromSecret is false when
// neither is set (the key, if any, is the variable itself).
func (k *keys) read(ctx context.Context, name string) (v string, fromSecret bool, err error) {
	arn := strings.TrimSpace(k.getenv(name + "_SECRET_ARN"))
	param := strings.TrimSpace(k.getenv(name + "_PARAMETER"))
	if arn == "" && param == "" {
		return "", false, nil
	}
	if arn != "" && param != "" {
		return "", true, fmt.Errorf("%s_SECRET_ARN and %s_PARAMETER are both set: keep one", name, name)
	}
	cfg, err := k.awsConfig(ctx)
	if err != nil {
		return "", true, err
	}
	const retry = " (the next invocation tries again)"
	v, err = awskey.Read(ctx, cfg, arn, param)
	if err != nil {
		// "reading WARPSTREAM_API_KEY from Secrets Manager arn:...: ..."
		return "", true, fmt.Errorf("reading %s from %s%s", name, strings.TrimPrefix(err.Error(), "reading "), retry)
	}
	return v, true, nil
}

func (k *keys) awsConfig(ctx context.Context) (aws.Config, error) {
	if k.cfg == nil {
		c, err := awsFromEnv(k.getenv)
		if err != nil {
			return c, fmt.Errorf("AWS configuration: %w", err)
		}
		k.cfg = &c
	}
	return *k.cfg, nil
}

// secret reads a key an accounts document keeps in Secrets Manager or SSM
// (an invoiceexport.SecretReader), kept for the container's life like the
// variables' keys.
func (k *keys) secret(ctx context.Context, ref invoiceexport.KeyRef) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := "arn " + ref.SecretARN
	if ref.SecretARN == "" {
		id = "parameter " + ref.SSMParameter
	}
	if v, ok := k.vals[id]; ok {
		return v, nil
	}
	cfg, err := k.awsConfig(ctx)
	if err != nil {
		return "", err
	}
	v, err := awskey.Read(ctx, cfg, ref.SecretARN, ref.SSMParameter)
	if err != nil {
		return "", fmt.Errorf("%w (the next invocation tries again)", err)
	}
	if k.vals == nil {
		k.vals = map[string]string{}
	}
	k.vals[id] = v
	return v, nil
}
