package httpx

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/knowledge"
)

// KnowledgeViewer is the signed-in user as the knowledge package sees them.
func (k *Kit) KnowledgeViewer(c echo.Context) knowledge.Viewer {
	return knowledge.Viewer{UserID: CurrentPrincipal(c).ID(), Authz: k.Authz}
}
