package schemas_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/schemas"
)

type jsonSchema struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func loadSchema(t *testing.T, name string) jsonSchema {
	t.Helper()
	b, err := schemas.JSONSchemas.ReadFile("jsonschema/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s jsonSchema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s is not valid JSON: %v", name, err)
	}
	return s
}

func jsonFields(v any) (all, required []string) {
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, opts, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	sort.Strings(all)
	sort.Strings(required)
	return all, required
}

func TestGoTypesAndJSONSchemaAgree(t *testing.T) {
	for _, tc := range []struct {
		file string
		typ  any
	}{
		{"tracking-event.v1.json", schemas.TrackingEvent{}},
		{"order-event.v1.json", schemas.OrderEvent{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s := loadSchema(t, tc.file)
			var props []string
			for p := range s.Properties {
				props = append(props, p)
			}
			sort.Strings(props)
			sort.Strings(s.Required)
			all, required := jsonFields(tc.typ)
			if !slices.Equal(all, props) {
				t.Errorf("Go fields %v, schema properties %v", all, props)
			}
			if !slices.Equal(required, s.Required) {
				t.Errorf("Go required (no omitempty) %v, schema required %v", required, s.Required)
			}
		})
	}
}

func TestContractExampleDecodesWithOffsetKept(t *testing.T) {
	raw := `{"event_id":"e1","tracking_number":"rr 1234-5678 5cn","raw_status":"Electronic information received",
	  "occurred_at":"2026-10-02T08:15:00+08:00","destination":{"country":"Japan","postal_code":"100-0001"},"extra":1}`
	var ev schemas.TrackingEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.OccurredAt.UTC().Format("2006-01-02T15:04:05Z"); got != "2026-10-02T00:15:00Z" {
		t.Fatalf("occurred_at in UTC = %s", got)
	}
	if ev.Destination == nil || ev.Destination.PostalCode != "100-0001" {
		t.Fatalf("destination = %+v", ev.Destination)
	}
}
