package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// keyVars are the API key variables that may instead name a secret
// (<VAR>_SECRET_ARN) or an SSM parameter (<VAR>_PARAMETER).
var keyVars = []string{"WARPSTREAM_API_KEY", "COCKROACH_API_KEY", "SPECTROCLOUD_API_KEY"}

// keys resolves the API keys once per cold start: secrets are not read on
// every invocation (cost, throttling), and a rotated key arrives with the
// next cold start.
type keys struct {
	getenv func(string) string
	once   sync.Once
	vals   map[string]string
	err    error
}

// env returns a getenv that answers the key variables from their secrets.
func (k *keys) env(ctx context.Context) (func(string) string, error) {
	k.once.Do(func() { k.vals, k.err = k.fetch(ctx) })
	if k.err != nil {
		return nil, k.err
	}
	return func(name string) string {
		if v, ok := k.vals[name]; ok {
			return v
		}
		return k.getenv(name)
	}, nil
}

func (k *keys) fetch(ctx context.Context) (map[string]string, error) {
	vals := map[string]string{}
	var cfg *aws.Config
	load := func() (aws.Config, error) {
		if cfg == nil {
			c, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return c, fmt.Errorf("AWS configuration: %w", err)
			}
			cfg = &c
		}
		return *cfg, nil
	}
	for _, name := range keyVars {
		arn := strings.TrimSpace(k.getenv(name + "_SECRET_ARN"))
		param := strings.TrimSpace(k.getenv(name + "_PARAMETER"))
		switch {
		case arn != "" && param != "":
			return nil, fmt.Errorf("%s_SECRET_ARN and %s_PARAMETER are both set: keep one", name, name)
		case arn != "":
			c, err := load()
			if err != nil {
				return nil, err
			}
			out, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("reading %s from Secrets Manager %s: %w", name, arn, err)
			}
			vals[name] = strings.TrimSpace(aws.ToString(out.SecretString))
		case param != "":
			c, err := load()
			if err != nil {
				return nil, err
			}
			out, err := ssm.NewFromConfig(c).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("reading %s from SSM parameter %s: %w", name, param, err)
			}
			vals[name] = strings.TrimSpace(aws.ToString(out.Parameter.Value))
		default:
			continue
		}
		if vals[name] == "" {
			return nil, fmt.Errorf("%s: the secret named by %s_SECRET_ARN/_PARAMETER is empty", name, name)
		}
	}
	return vals, nil
}
