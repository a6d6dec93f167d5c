package graph
import "github.com/meridianplane/meridian/graph/generated"
func setComplexity(c *generated.ComplexityRoot) {}
