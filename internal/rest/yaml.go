package rest

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

var mappingKeys = map[string]bool{"from": true, "as": true, "map": true, "each": true, "item": true, "const": true, "object": true}

// UnmarshalYAML reads a Mapping in its short forms: a string is a path
// (From); a map whose keys are not from/as/map/each/item/const/object is an
// Object.
func (m *Mapping) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		m.From = n.Value
		return nil
	case yaml.MappingNode:
		structured := false
		for i := 0; i < len(n.Content); i += 2 {
			if mappingKeys[n.Content[i].Value] {
				structured = true
			}
		}
		if structured {
			type plain Mapping
			if err := n.Decode((*plain)(m)); err != nil {
				return err
			}
			for i := 0; i < len(n.Content); i += 2 {
				if n.Content[i].Value == "object" { // keep the keys' order
					sub := &Mapping{}
					if err := n.Content[i+1].Decode(sub); err != nil {
						return err
					}
					m.Object, m.Order = sub.Object, sub.Order
				}
			}
			return nil
		}
		m.Object = map[string]*Mapping{}
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i].Value
			sub := &Mapping{}
			if err := n.Content[i+1].Decode(sub); err != nil {
				return err
			}
			m.Object[k] = sub
			m.Order = append(m.Order, k)
		}
		return nil
	}
	return fmt.Errorf("line %d: a mapping is a path or a map", n.Line)
}

// UnmarshalYAML reads a Shape written as the JSON it produces: a string
// "$name" is a variable ("$$..." a literal string starting with $), a map is
// an object in key order, anything else a literal.
func (s *Shape) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return s.UnmarshalYAML(n.Alias)
	case yaml.MappingNode:
		*s = Shape{Kind: ShapeObject, Fields: []ShapeField{}}
		for i := 0; i < len(n.Content); i += 2 {
			v := &Shape{}
			if err := n.Content[i+1].Decode(v); err != nil {
				return err
			}
			s.Fields = append(s.Fields, ShapeField{Name: n.Content[i].Value, Value: v})
		}
		return nil
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			switch {
			case strings.HasPrefix(n.Value, "$$"):
				*s = Shape{Kind: ShapeConst, Const: n.Value[1:]}
			case strings.HasPrefix(n.Value, "$"):
				*s = Shape{Kind: ShapeVar, Var: n.Value[1:]}
			default:
				*s = Shape{Kind: ShapeConst, Const: n.Value}
			}
			return nil
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	*s = Shape{Kind: ShapeConst, Const: v}
	return nil
}
