package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object is a JSON object that keeps its keys in order.
type Object struct {
	Keys   []string
	Values map[string]any
}

// Set adds or replaces a key.
func (o *Object) Set(k string, v any) {
	if o.Values == nil {
		o.Values = map[string]any{}
	}
	if _, ok := o.Values[k]; !ok {
		o.Keys = append(o.Keys, k)
	}
	o.Values[k] = v
}

// MarshalJSON writes the keys in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.Values[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// lookup follows a dot path through decoded JSON.
func lookup(v any, path string) any {
	if path == "" || path == "." {
		return v
	}
	for _, k := range strings.Split(path, ".") {
		if list, ok := v.([]any); ok { // a numeric segment indexes a list
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(list) {
				return nil
			}
			v = list[i]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// apply builds the legacy value that m describes from the result v.
func (m *Mapping) apply(v any) (any, error) {
	switch {
	case m.Object != nil:
		o := &Object{}
		for _, k := range m.keys() {
			val, err := m.Object[k].apply(v)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", k, err)
			}
			o.Set(k, val)
		}
		if m.As == "json" { // the object as a JSON string
			b, err := o.MarshalJSON()
			return string(b), err
		}
		return o, nil
	case m.Each != "":
		list, _ := lookup(v, m.Each).([]any)
		out := make([]any, 0, len(list))
		for _, el := range list {
			val, err := m.Item.apply(el)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	case m.From != "":
		return m.convert(lookup(v, m.From))
	}
	return m.Const, nil
}

func (m *Mapping) keys() []string { return OrderedKeys(m.Order, m.Object) }

// OrderedKeys returns a map's keys in declaration order when it is known,
// sorted otherwise.
func OrderedKeys(order []string, m map[string]*Mapping) []string {
	if len(order) == len(m) {
		return order
	}
	return SortedKeys(m)
}

// convert applies As and Map to a scalar.
func (m *Mapping) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if len(m.Map) > 0 {
		if mv, ok := m.Map[fmt.Sprint(v)]; ok {
			v = mv
		}
	}
	switch m.As {
	case "":
		return v, nil
	case "string":
		return fmt.Sprint(v), nil
	case "int":
		switch t := v.(type) {
		case json.Number:
			return t, nil
		case string:
			if _, err := strconv.ParseInt(t, 10, 64); err != nil {
				return nil, fmt.Errorf("%s: %q is not an integer", m.From, t)
			}
			return json.Number(t), nil
		case int, int64:
			return t, nil
		}
		return nil, fmt.Errorf("%s: %v is not an integer", m.From, v)
	case "unix":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %v is not a time", m.From, v)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.From, err)
		}
		return t.Unix(), nil
	case "json":
		s, err := json.Marshal(v)
		return string(s), err
	case "hundredths": // 150 (percent of a core) -> 1.5
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s: %v is not a number", m.From, v)
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.From, err)
		}
		return f / 100, nil
	}
	return nil, fmt.Errorf("%s: unknown conversion %q", m.From, m.As)
}
