package spectrocloud

import (
	source "github.com/invoice-export/invoice-export/extract/spectrocloud"
	"github.com/invoice-export/invoice-export/internal/registry"
)

// Provider is Spectro Cloud Palette's description, registered by the root
// package's providers.go.
var Provider = registry.Provider{
	Slug:            source.Slug,
	Name:            "Spectro Cloud",
	EnvPrefix:       "SPECTROCLOUD",
	TemplateName:    "SpectroCloud",
	Settings:        source.Settings,
	Authorize:       source.Authorize,
	Jobs:            source.Jobs,
	Transform:       Transform,
	ServiceCategory: serviceCategory,
	Permissions:     "a user's API key (Profile > My API Keys) of a user who can see the tenant's invoices; Palette's specification names no narrower permission",
	Columns:         "transform/spectrocloud/columns.md",
}
