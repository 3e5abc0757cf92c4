package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// secretTimeout bounds one read of a secret (the SDK's own retries
// included), so a hanging endpoint costs one vendor, not the invocation.
const secretTimeout = 30 * time.Second

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
	ctx, cancel := context.WithTimeout(ctx, secretTimeout)
	defer cancel()
	cfg, err := k.awsConfig(ctx)
	if err != nil {
		return "", true, err
	}
	const retry = " (the next invocation tries again)"
	if arn != "" {
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", true, fmt.Errorf("reading %s from Secrets Manager %s: %w%s", name, arn, err, retry)
		}
		v = strings.TrimSpace(aws.ToString(out.SecretString))
	} else {
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", true, fmt.Errorf("reading %s from SSM parameter %s: %w%s", name, param, err, retry)
		}
		if out.Parameter != nil {
			v = strings.TrimSpace(aws.ToString(out.Parameter.Value))
		}
	}
	if v == "" {
		return "", true, fmt.Errorf("%s: the secret named by %s_SECRET_ARN/_PARAMETER is empty", name, name)
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
