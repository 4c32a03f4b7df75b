package schemas

import "embed"

// JSONSchemas holds the JSON Schema (draft 2020-12) of each v1 topic, for producers and
// for validating tools: jsonschema/tracking-event.v1.json and jsonschema/order-event.v1.json.
//
//go:embed jsonschema/*.json
var JSONSchemas embed.FS
