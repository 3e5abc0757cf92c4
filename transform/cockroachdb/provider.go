package cockroachdb

import (
	source "github.com/invoice-export/invoice-export/extract/cockroachdb"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// Provider is CockroachDB Cloud's description, registered by the root
// package's providers.go.
var Provider = registry.Provider{
	Slug:            source.Slug,
	Name:            "CockroachDB Cloud",
	EnvPrefix:       "COCKROACH",
	TemplateName:    "Cockroach",
	Settings:        source.Settings,
	Authorize:       source.Authorize,
	Jobs:            source.Jobs,
	Transform:       Transform,
	ServiceCategory: serviceCategory,
	Permissions:     "a service account's API key with the organization role Billing Coordinator (or Cluster Admin), the roles the API names for its invoices",
	Columns:         "transform/cockroachdb/columns.md",
}
