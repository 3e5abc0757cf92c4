package mongodbatlas

import (
	source "github.com/invoice-export/invoice-export/extract/mongodbatlas"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// Provider is MongoDB Atlas's description, registered by the root
// package's providers.go.
var Provider = registry.Provider{
	Slug:              source.Slug,
	Name:              "MongoDB Atlas",
	EnvPrefix:         "ATLAS",
	TemplateName:      "Atlas",
	Settings:          source.Settings,
	Authorize:         source.Authorize,
	Jobs:              source.Jobs,
	Transform:         Transform,
	ServiceCategory:   serviceCategory,
	Permissions:       "the organization role Organization Billing Viewer, the role the specification names for the invoice calls (Organization Billing Admin or Organization Owner to see linked organizations' invoices)",
	RequestsPerSecond: source.RequestsPerSecond,
	Columns:           "transform/mongodbatlas/columns.md",
}
