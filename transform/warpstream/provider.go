package warpstream

import (
	source "github.com/invoice-export/invoice-export/extract/warpstream"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// Provider is WarpStream's description, registered by the root package's
// providers.go.
var Provider = registry.Provider{
	Slug:            source.Slug,
	Name:            "WarpStream",
	EnvPrefix:       "WARPSTREAM",
	TemplateName:    "WarpStream",
	Settings:        source.Settings,
	Authorize:       source.Authorize,
	Jobs:            source.Jobs,
	Transform:       Transform,
	ServiceCategory: serviceCategory,
	Permissions:     "an account key (`aks_...`): the billing calls span every workspace; WarpStream documents no narrower kind of key",
	Columns:         "transform/warpstream/columns.md",
}
