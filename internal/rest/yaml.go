package rest

import (
	"fmt"

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
