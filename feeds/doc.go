// Package feeds provides the ways into trackwatch for the feeds marketplaces and
// merchants already have: tracking aggregators' webhooks (AfterShip, 17TRACK,
// TrackingMore, EasyPost, Ship24) and a shop platform's order webhooks (Shopify).
// Each provider's request is verified with the provider's own signature scheme before
// anything of it is read, then mapped into contract v1 events, which the Handler
// produces to the tracking and order topics: the ingest stays the one path into
// ClickHouse. The same mapping reads saved webhook bodies and API responses for
// `trackwatch backfill load --format PROVIDER`.
//
// Every checkpoint becomes one tracking event whose event_id is derived from the
// provider, the number and the checkpoint's identity, so a provider's retries and its
// re-sent histories store nothing twice. The provider's own normalised status travels as
// provider_status beside the carrier's words; the ingest decides with it where no phrase
// table knows the words.
package feeds
