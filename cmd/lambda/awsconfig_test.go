package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The function's AWS configuration is the environment Lambda sets: the
// role's temporary credentials, the region, and the endpoints the SDK
// would read from AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL.
func TestAWSFromEnv(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-example", "AWS_SESSION_TOKEN": "token-example",
		"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2",
		"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9001",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9999",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := awsFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret-example" || creds.SessionToken != "token-example" {
		t.Errorf("credentials %+v, %v", creds, err)
	}
	if cfg.Region != "eu-central-1" {
		t.Errorf("region %q, want AWS_REGION's", cfg.Region)
	}
	endpoint := func(cfg aws.Config) (s3ep, smep, ssmep string) {
		return aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint),
			aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint),
			aws.ToString(ssm.NewFromConfig(cfg).Options().BaseEndpoint)
	}
	// Each service's own variable, else the general one.
	if a, b, c := endpoint(cfg); a != "http://127.0.0.1:9000" || b != "http://127.0.0.1:9001" || c != "http://127.0.0.1:9999" {
		t.Errorf("endpoints S3 %q, Secrets Manager %q, SSM %q", a, b, c)
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	if cfg, _ = awsFromEnv(getenv); cfg.BaseEndpoint != nil {
		t.Errorf("ignored endpoints still set: %q", *cfg.BaseEndpoint)
	}
	if a, b, c := endpoint(cfg); a != "" || b != "" || c != "" {
		t.Errorf("ignored endpoints: S3 %q, Secrets Manager %q, SSM %q", a, b, c)
	}

	delete(env, "AWS_REGION")
	if cfg, _ := awsFromEnv(getenv); cfg.Region != "us-west-2" {
		t.Errorf("region %q, want AWS_DEFAULT_REGION's", cfg.Region)
	}
	delete(env, "AWS_SECRET_ACCESS_KEY")
	if _, err := awsFromEnv(getenv); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set") {
		t.Errorf("err = %v", err)
	}
}
