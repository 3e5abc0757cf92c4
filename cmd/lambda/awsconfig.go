package main

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// awsFromEnv is the function's AWS configuration, read from the
// environment Lambda sets: the role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and the region (AWS_REGION).
// The SDK's config.LoadDefaultConfig would find the same, but it links
// the SSO, SSO-OIDC, STS, sign-in and instance-metadata clients its other
// sources need, which the function never uses and which would take its
// binary past its size budget (docs/performance.md). Service endpoints
// are read as the SDK reads them: AWS_ENDPOINT_URL_<SERVICE> (S3,
// SECRETS_MANAGER, SSM), else AWS_ENDPOINT_URL, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func awsFromEnv(getenv func(string) string) (aws.Config, error) {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function's role)")
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
		ConfigSources: []any{envEndpoints(getenv)},
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" && !envEndpoints(getenv).ignored() {
		cfg.BaseEndpoint = &v
	}
	return cfg, nil
}

// envEndpoints answers the service clients' question for a configured
// endpoint (the SDK's internal ServiceBaseEndpointProvider and
// IgnoreConfiguredEndpointsProvider, which its own environment source
// implements the same way).
type envEndpoints func(string) string

func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

func (e envEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.ignored(), e("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "", nil
}

func (e envEndpoints) ignored() bool {
	return strings.EqualFold(e("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}
