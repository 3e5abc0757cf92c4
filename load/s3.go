package load

import (
	"context"
	"fmt"
)

func openS3(ctx context.Context, dest string) (Sink, error) {
	return nil, fmt.Errorf("%s: S3 output is not supported yet", dest)
}
