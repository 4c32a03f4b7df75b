package feeds

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/trackwatch/trackwatch/schemas"
)

// Shopify signs every webhook with the app's client secret: the header
// X-Shopify-Hmac-Sha256 holds base64(HMAC-SHA256(secret, raw body)) (shopify.dev,
// "Verify webhooks"). The header X-Shopify-Topic says what the body is
// (orders/create, orders/paid, orders/cancelled, orders/updated, fulfillments/create,
// fulfillments/update); X-Shopify-Shop-Domain, whose shop it is: the seller.

// shopifyOrder is the REST Order resource as the orders/* webhooks send it.
type shopifyOrder struct {
	ID              json.Number `json:"id"`
	Email           string      `json:"email"`
	CreatedAt       string      `json:"created_at"`
	ProcessedAt     string      `json:"processed_at"`
	CancelledAt     *string     `json:"cancelled_at"`
	FinancialStatus string      `json:"financial_status"`
	TotalPrice      string      `json:"total_price"` // a decimal, in a string
	Currency        string      `json:"currency"`
	Customer        *struct {
		ID json.Number `json:"id"`
	} `json:"customer"`
	ShippingAddress *shopifyAddress      `json:"shipping_address"`
	BillingAddress  *shopifyAddress      `json:"billing_address"`
	Fulfillments    []shopifyFulfillment `json:"fulfillments"`
}

type shopifyAddress struct {
	City        string `json:"city"`
	Zip         string `json:"zip"`
	Country     string `json:"country"`
	CountryCode string `json:"country_code"`
}

// shopifyFulfillment is the REST Fulfillment resource (fulfillments/* webhooks, and an
// order's fulfillments).
type shopifyFulfillment struct {
	ID              json.Number `json:"id"`
	OrderID         json.Number `json:"order_id"`
	Status          string      `json:"status"`
	CreatedAt       string      `json:"created_at"`
	UpdatedAt       string      `json:"updated_at"`
	Email           string      `json:"email"`
	TrackingCompany string      `json:"tracking_company"`
	TrackingNumber  string      `json:"tracking_number"`
	TrackingNumbers []string    `json:"tracking_numbers"`
}

func parseShopify(body []byte, src Source) (Events, error) {
	topic := src.Header.Get("X-Shopify-Topic")
	seller := "shopify"
	if shop := strings.TrimSpace(src.Header.Get("X-Shopify-Shop-Domain")); shop != "" {
		seller = shop
	}
	marketplace := first(src.Marketplace, "shopify")
	var probe struct {
		OrderID json.Number `json:"order_id"`
	}
	if err := decode(body, &probe); err != nil {
		return Events{}, err
	}
	if strings.HasPrefix(topic, "fulfillments/") || (topic == "" && probe.OrderID != "") {
		var f shopifyFulfillment
		if err := decode(body, &f); err != nil {
			return Events{}, err
		}
		e, err := shopifyShipped(f, f.OrderID.String(), buyerID(f.Email, ""), seller, marketplace)
		if err != nil || e == nil {
			return Events{}, err
		}
		return Events{Orders: []schemas.OrderEvent{*e}}, nil
	}
	if topic != "" && !strings.HasPrefix(topic, "orders/") {
		return Events{}, unmappable(ReasonUnknownShape, "topic %q is not an order or fulfillment topic", topic)
	}
	var o shopifyOrder
	if err := decode(body, &o); err != nil {
		return Events{}, err
	}
	if o.ID == "" {
		return Events{}, unmappable(ReasonMissingField, "id: not an order")
	}
	customer := ""
	if o.Customer != nil {
		customer = o.Customer.ID.String()
	}
	buyer := buyerID(o.Email, customer)
	if buyer == "" {
		return Events{}, unmappable(ReasonMissingField, "order %s has neither email nor customer.id: no buyer", o.ID)
	}
	orderID := o.ID.String()
	event := func(status, at, key string) (schemas.OrderEvent, error) {
		t, ok := parseTime(at, "")
		if !ok {
			return schemas.OrderEvent{}, unmappable(ReasonBadTimestamp, "order %s: %s time %q is not a time", orderID, status, at)
		}
		return schemas.OrderEvent{
			EventID: eventID(Shopify, orderID, status+"|"+key), OrderID: orderID, Marketplace: marketplace,
			SellerID: seller, BuyerID: buyer, Status: status, OccurredAt: t,
		}, nil
	}
	var out Events
	placed, err := event("placed", o.CreatedAt, "")
	if err != nil {
		return Events{}, err
	}
	addr := o.ShippingAddress
	if addr == nil {
		addr = o.BillingAddress
	}
	if addr == nil || first(addr.CountryCode, addr.Country) == "" {
		return Events{}, unmappable(ReasonMissingField, "order %s has no shipping or billing address with a country", orderID)
	}
	placed.ShipTo = place(first(addr.CountryCode, addr.Country), addr.City, addr.Zip)
	if _, err := strconv.ParseFloat(o.TotalPrice, 64); err == nil {
		amount := json.Number(o.TotalPrice)
		placed.Amount, placed.Currency = &amount, o.Currency
	}
	out.Orders = append(out.Orders, placed)
	switch o.FinancialStatus {
	case "paid", "partially_refunded", "refunded", "partially_paid":
		paid, err := event("paid", first(o.ProcessedAt, o.CreatedAt), "")
		if err != nil {
			return Events{}, err
		}
		out.Orders = append(out.Orders, paid)
	}
	for _, f := range o.Fulfillments {
		e, err := shopifyShipped(f, orderID, buyer, seller, marketplace)
		if err != nil {
			return Events{}, err
		}
		if e != nil {
			out.Orders = append(out.Orders, *e)
		}
	}
	if o.CancelledAt != nil && *o.CancelledAt != "" {
		c, err := event("cancelled", *o.CancelledAt, "")
		if err != nil {
			return Events{}, err
		}
		out.Orders = append(out.Orders, c)
	}
	return out, nil
}

// shopifyShipped is a fulfillment as a shipped event: the number the seller uploaded
// and the company declared. Its event_id names the fulfillment and the number, so a
// fulfillments/update that replaces the number is a new event and a re-sent one is not.
// A fulfillment without a number, or a cancelled one, says nothing.
func shopifyShipped(f shopifyFulfillment, orderID, buyer, seller, marketplace string) (*schemas.OrderEvent, error) {
	number := f.TrackingNumber
	if number == "" && len(f.TrackingNumbers) > 0 {
		number = f.TrackingNumbers[0]
	}
	if strings.TrimSpace(number) == "" || f.Status == "cancelled" || f.Status == "error" || f.Status == "failure" {
		return nil, nil
	}
	if orderID == "" {
		return nil, unmappable(ReasonMissingField, "fulfillment %s has no order_id", f.ID)
	}
	if buyer == "" {
		return nil, unmappable(ReasonMissingField, "fulfillment %s of order %s has no email: no buyer", f.ID, orderID)
	}
	at := f.CreatedAt
	if f.UpdatedAt != "" && f.UpdatedAt != f.CreatedAt {
		at = f.UpdatedAt // a later number replaces the earlier one
	}
	t, ok := parseTime(at, "")
	if !ok {
		return nil, unmappable(ReasonBadTimestamp, "fulfillment %s: time %q is not a time", f.ID, at)
	}
	return &schemas.OrderEvent{
		EventID: eventID(Shopify, orderID, "shipped|"+f.ID.String()+"|"+strings.ToUpper(number)), OrderID: orderID,
		Marketplace: marketplace, SellerID: seller, BuyerID: buyer, Status: "shipped", OccurredAt: t,
		TrackingNumber: number, Carrier: carrierSlug(f.TrackingCompany),
	}, nil
}

// buyerID names a Shopify buyer the same way in orders and fulfillments, which share
// only the email: a SHA-256 prefix of the lower-cased address (no address is stored),
// else the customer id.
func buyerID(email, customer string) string {
	if e := strings.ToLower(strings.TrimSpace(email)); e != "" {
		sum := sha256.Sum256([]byte(e))
		return "email:" + hexString(sum[:12])
	}
	if customer != "" {
		return "customer:" + customer
	}
	return ""
}
