// Package awskey reads a key kept in AWS Secrets Manager or SSM Parameter
// Store: the one code path for the Lambda's <VAR>_SECRET_ARN /
// <VAR>_PARAMETER variables and for the keys of an accounts document
// (docs/accounts.md), in the Lambda and locally.
package awskey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Timeout bounds one read (the SDK's own retries included), so that a
// hanging endpoint costs one account, not the run.
const Timeout = 30 * time.Second

// Read returns the value of the Secrets Manager secret arn or, when arn is
// empty, of the SSM parameter param (decrypted), trimmed. Errors name the
// secret, never its value; an empty value is an error.
func Read(ctx context.Context, cfg aws.Config, arn, param string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var v string
	switch {
	case arn != "" && param != "":
		return "", errors.New("a Secrets Manager secret and an SSM parameter are both named: keep one")
	case arn != "":
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("reading Secrets Manager %s: %w", arn, err)
		}
		v = aws.ToString(out.SecretString)
	case param != "":
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("reading SSM parameter %s: %w", param, err)
		}
		if out.Parameter != nil {
			v = aws.ToString(out.Parameter.Value)
		}
	default:
		return "", errors.New("no secret named")
	}
	v = strings.TrimSpace(v)
	if v == "" {
		where := "Secrets Manager " + arn
		if arn == "" {
			where = "SSM parameter " + param
		}
		return "", fmt.Errorf("reading %s: it is empty", where)
	}
	return v, nil
}
