package schemas

import (
	"encoding/json"
	"time"
)

// ContractVersion is the version of the producer-facing event contract these types follow.
const ContractVersion = 1

// Topic names of the v1 contract; deployments may rename them in config.
const (
	TrackingTopic = "tracking-events"
	OrderTopic    = "order-events"
)

// Place is a location or address as producers send it. Country is an ISO 3166-1
// alpha-2 code or a country name.
type Place struct {
	Country    string `json:"country,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
}

// TrackingEvent is one carrier scan on topic tracking-events (contract v1).
// Required: event_id, tracking_number, occurred_at, and status or raw_status.
type TrackingEvent struct {
	EventID        string    `json:"event_id"`
	TrackingNumber string    `json:"tracking_number"`
	Carrier        string    `json:"carrier,omitempty"`
	Status         string    `json:"status,omitempty"`
	RawStatus      string    `json:"raw_status,omitempty"`
	OccurredAt     time.Time `json:"occurred_at"`
	Location       *Place    `json:"location,omitempty"`
	Destination    *Place    `json:"destination,omitempty"`
	// Provider names the tracking aggregator whose reading ProviderStatus is, when the
	// event came through one (package feeds); optional.
	Provider string `json:"provider,omitempty"`
	// ProviderStatus is that aggregator's own normalised status, as a contract status or
	// a "status/detail" sub-status (package carrier); optional. It decides where no
	// phrase table knows RawStatus; where one does and disagrees, RawStatus wins.
	ProviderStatus string `json:"provider_status,omitempty"`
}

// OrderEvent is one change of a marketplace order on topic order-events (contract v1).
// Required: event_id, order_id, seller_id, buyer_id, status, occurred_at; tracking_number
// with status shipped; ship_to with status placed.
type OrderEvent struct {
	EventID                string       `json:"event_id"`
	OrderID                string       `json:"order_id"`
	Marketplace            string       `json:"marketplace,omitempty"`
	SellerID               string       `json:"seller_id"`
	BuyerID                string       `json:"buyer_id"`
	Status                 string       `json:"status"`
	OccurredAt             time.Time    `json:"occurred_at"`
	TrackingNumber         string       `json:"tracking_number,omitempty"`
	Carrier                string       `json:"carrier,omitempty"`
	ShipTo                 *Place       `json:"ship_to,omitempty"`
	ProtectionDays         *int         `json:"protection_days,omitempty"`
	ProtectionExtendedDays *int         `json:"protection_extended_days,omitempty"`
	Amount                 *json.Number `json:"amount,omitempty"`
	Currency               string       `json:"currency,omitempty"`
	// PaymentMethod is how the buyer paid (PaymentMethods), on paid: it sets how long a
	// refund may take. Optional, as every field added to v1 is: v1 producers keep working.
	PaymentMethod string `json:"payment_method,omitempty"`
	// RefundAmount is, on refund_approved, the amount to be refunded (the order's amount
	// when absent) and, on refund_completed, the amount refunded in all so far.
	RefundAmount *json.Number `json:"refund_amount,omitempty"`
	// Reason is the buyer's or the platform's words on cancel_requested, cancel_rejected,
	// disputed, dispute_responded, dispute_escalated, refund_approved and cancelled.
	Reason string `json:"reason,omitempty"`
}

// TrackingStatuses are the normalised carrier statuses of contract v1.
var TrackingStatuses = []string{
	"info_received", "picked_up", "in_transit", "out_for_delivery", "delivered",
	"failed_attempt", "exception", "returned", "cancelled",
}

// OrderStatuses are the order statuses of contract v1, with the buyer's journey after
// the order (JourneyStatuses) added compatibly.
var OrderStatuses = []string{
	"placed", "paid", "awaiting_shipment", "shipped", "delivered", "confirmed",
	"cancelled", "disputed", "refunded", "completed",
	"cancel_requested", "cancel_rejected", "dispute_responded", "dispute_escalated", "refund_approved", "refund_completed",
}

// MilestoneStatuses are the statuses that mark a step of the buyer's journey without
// changing the order's state: after cancel_requested an order still awaits shipment,
// after dispute_responded it is still disputed. The detectors read an order's state from
// its latest event of another status; refund_completed ends an order as refunded does.
var MilestoneStatuses = []string{"cancel_requested", "cancel_rejected", "dispute_responded", "dispute_escalated", "refund_approved"}

// PaymentMethods are the values of payment_method.
var PaymentMethods = []string{"card_credit", "card_debit", "paypal", "bank_transfer", "convenience_store", "wallet", "other"}
