// Package carrier provides trackwatch's carrier status model: the contract's status
// with a sub-status (like the trackers people know: AfterShip's tags and subtags,
// 17TRACK's statuses and sub-statuses), and whether an event is a physical scan, the
// only evidence that a parcel was ever in a carrier's hands.
package carrier

import (
	"slices"
	"strings"
)

// SubStatus is a status and what exactly happened, written "status/detail".
type SubStatus string

// The sub-statuses. Physical reports which of them are physical scans.
const (
	// Pre-advice: the carrier has a label or shipment record, nobody has scanned a parcel.
	PreAdvice SubStatus = "info_received/pre_advice"

	Accepted       SubStatus = "picked_up/accepted"        // accepted at a counter, picked up from the sender
	Departed       SubStatus = "in_transit/departed"       // left a facility, country or airport
	Arrived        SubStatus = "in_transit/arrived"        // arrived at a facility, country or airport
	Processed      SubStatus = "in_transit/processed"      // sorted, processed at a facility
	HandedOver     SubStatus = "in_transit/handed_over"    // handed to an airline, a partner carrier, the destination post
	CustomsPending SubStatus = "in_transit/customs"        // in customs clearance, or released by customs
	InTransit      SubStatus = "in_transit/in_transit"     // moving, no more detail
	OutForDelivery SubStatus = "out_for_delivery/on_route" // on the vehicle for delivery
	AwaitPickup    SubStatus = "out_for_delivery/pickup"   // at a pickup point or post office, waiting for the addressee
	Delivered      SubStatus = "delivered/delivered"       // delivered to the addressee or their address
	PickedUp       SubStatus = "delivered/collected"       // collected by the addressee at a pickup point
	AttemptFailed  SubStatus = "failed_attempt/attempted"  // delivery attempted, nobody there, notice left
	AddressIssue   SubStatus = "exception/address_issue"   // address incomplete or wrong
	CustomsHeld    SubStatus = "exception/customs_held"    // held by customs, duties unpaid, clearance failed
	Delayed        SubStatus = "exception/delayed"         // delayed (weather, capacity, ...)
	Damaged        SubStatus = "exception/damaged"         // damaged
	Lost           SubStatus = "exception/lost"            // lost, missing, cannot be traced
	Destroyed      SubStatus = "exception/destroyed"       // destroyed, disposed of, confiscated
	Refused        SubStatus = "exception/refused"         // refused by the addressee
	Exception      SubStatus = "exception/other"           // any other exception a carrier reports
	ReturnToSender SubStatus = "returned/returning"        // on its way back to the sender
	ReturnedSender SubStatus = "returned/returned"         // back with the sender
	LabelVoided    SubStatus = "cancelled/label_voided"    // the label or shipment was cancelled: the parcel never went
	Unknown        SubStatus = "unknown/unknown"           // no phrase matched: never counted as movement
)

// SubStatuses lists every sub-status.
var SubStatuses = []SubStatus{PreAdvice, Accepted, Departed, Arrived, Processed, HandedOver, CustomsPending, InTransit,
	OutForDelivery, AwaitPickup, Delivered, PickedUp, AttemptFailed, AddressIssue, CustomsHeld, Delayed, Damaged, Lost,
	Destroyed, Refused, Exception, ReturnToSender, ReturnedSender, LabelVoided, Unknown}

// Physical reports whether an event with this sub-status is a physical scan: someone
// handled the parcel. Pre-advice, a voided label and an unknown phrase are not.
func (s SubStatus) Physical() bool {
	switch s {
	case PreAdvice, LabelVoided, Unknown:
		return false
	}
	return true
}

// Parse reads a sub-status written "status/detail", or a contract status alone (its
// least specific sub-status, ForStatus). It reports false for anything else, Unknown
// included: a reading that says nothing.
func Parse(s string) (SubStatus, bool) {
	if !strings.Contains(s, "/") {
		sub := ForStatus(s)
		return sub, sub != Unknown
	}
	sub := SubStatus(s)
	return sub, sub != Unknown && slices.Contains(SubStatuses, sub)
}
