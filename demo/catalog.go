package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/units"
)

// serviceSeed is one service of the demo catalog with its price history.
type serviceSeed struct {
	Provider string // unit code
	Service  catalog.Service
	Fields   []catalog.Field
	// FirstPriceMinor is in force from about four months ago; when
	// CurrentPriceMinor differs, it replaced the first price on the first
	// day of last month.
	FirstPriceMinor, CurrentPriceMinor int64
}

var serviceSeeds = []serviceSeed{
	{Provider: "CC-1100", Service: catalog.Service{Code: "IT-LAPTOP", Name: "Laptop", Category: "Hardware",
		Description: "A new or replacement work laptop, set up with the standard image, encryption and your accounts. " +
			"Delivered to your desk or picked up at the IT Service Desk.",
		PricingModel: "fixed", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 240, SLAResolutionMinutes: 4320},
		Fields: []catalog.Field{
			{Key: "model", Label: "Screen size", Type: "choice", Required: true, Options: []string{`13"`, `15"`, `16"`}},
			{Key: "keyboard_layout", Label: "Keyboard layout", Type: "choice", Required: true, Options: []string{"FI", "US"}},
		},
		FirstPriceMinor: 139000, CurrentPriceMinor: 145000},
	{Provider: "CC-1100", Service: catalog.Service{Code: "IT-MONITOR", Name: "Monitor", Category: "Hardware",
		Description:  "A 27-inch USB-C monitor, delivered and connected at your desk.",
		PricingModel: "per_unit", UnitLabel: "monitor", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 240, SLAResolutionMinutes: 2880},
		FirstPriceMinor: 28900, CurrentPriceMinor: 28900},
	{Provider: "CC-1100", Service: catalog.Service{Code: "IT-NETWORK", Name: "Network access", Category: "Network",
		Description:  "Office network, Wi-Fi and VPN access for one person, billed monthly while it runs.",
		PricingModel: "monthly", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 120, SLAResolutionMinutes: 1440},
		FirstPriceMinor: 2500, CurrentPriceMinor: 2500},
	{Provider: "CC-1100", Service: catalog.Service{Code: "IT-LICENCE", Name: "Software licence", Category: "Software",
		Description:  "A named-user licence for software not in the standard image, billed monthly while it runs.",
		PricingModel: "monthly", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 240, SLAResolutionMinutes: 1440},
		Fields:          []catalog.Field{{Key: "product", Label: "Product", Type: "text", Required: true}},
		FirstPriceMinor: 3900, CurrentPriceMinor: 3900},
	{Provider: "CC-1100", Service: catalog.Service{Code: "IT-ONSITE", Name: "On-site support", Category: "Support",
		Description:  "An IT technician at your desk or meeting room, billed by the hour worked.",
		PricingModel: "hourly", UnitLabel: "hour", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
		FirstPriceMinor: 8000, CurrentPriceMinor: 8500},
	{Provider: "CC-1500", Service: catalog.Service{Code: "FAC-DESK", Name: "Desk and chair", Category: "Workplace",
		Description:  "An electric sit-stand desk and an ergonomic chair, delivered and assembled.",
		PricingModel: "fixed", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 480, SLAResolutionMinutes: 7200},
		FirstPriceMinor: 69000, CurrentPriceMinor: 69000},
	{Provider: "CC-1500", Service: catalog.Service{Code: "FAC-ROOM", Name: "Meeting-room set-up", Category: "Workplace",
		Description:  "Furniture, screens and catering set up for an event or workshop, billed by the hour.",
		PricingModel: "hourly", UnitLabel: "hour", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 240, SLAResolutionMinutes: 1440},
		FirstPriceMinor: 5500, CurrentPriceMinor: 5500},
	{Provider: "CC-1600", Service: catalog.Service{Code: "LEGAL-CONTRACT", Name: "Contract review", Category: "Legal",
		Description:  "Review of a supplier, customer or partner contract by the legal team, billed by the hour.",
		PricingModel: "hourly", UnitLabel: "hour", ApprovalPolicy: "always", SLAFirstResponseMinutes: 480, SLAResolutionMinutes: 7200},
		FirstPriceMinor: 18000, CurrentPriceMinor: 18000},
	{Provider: "CC-1400", Service: catalog.Service{Code: "HR-RECRUIT", Name: "Recruitment support", Category: "People",
		Description:  "Help with a hire: job advert, screening, interviews and the offer, billed by the hour.",
		PricingModel: "hourly", UnitLabel: "hour", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 480, SLAResolutionMinutes: 28800},
		FirstPriceMinor: 9500, CurrentPriceMinor: 9500},
	{Provider: "CC-1200", Service: catalog.Service{Code: "MKT-CAMPAIGN", Name: "Campaign design", Category: "Marketing",
		Description:  "Concept, copy and visuals for an internal or external campaign, billed by the hour.",
		PricingModel: "hourly", UnitLabel: "hour", ApprovalPolicy: "threshold", SLAFirstResponseMinutes: 480, SLAResolutionMinutes: 14400},
		FirstPriceMinor: 11000, CurrentPriceMinor: 11000},
}

// rateDates returns the demo's first rate date (the first day of the month
// four months before now) and the date of the later rate changes (the first
// day of last month), in the organisation's time zone.
func rateDates(now time.Time, loc *time.Location) (first, change string) {
	local := now.In(loc)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	return month.AddDate(0, -4, 0).Format(catalog.DateLayout), month.AddDate(0, -1, 0).Format(catalog.DateLayout)
}

// loadCatalog adds the demo services that are missing, each with its rate
// history. A service that exists (by code) is left as it is.
func loadCatalog(ctx context.Context, d *db.DB, org units.Organisation, now time.Time) error {
	first, change := rateDates(now, org.Location)
	return d.InTx(ctx, func(tx bun.Tx) error {
		for _, seed := range serviceSeeds {
			exists, err := tx.NewSelect().Model((*catalog.Service)(nil)).Where("code = ?", seed.Service.Code).Exists(ctx)
			if err != nil {
				return fmt.Errorf("demo service %s: %w", seed.Service.Code, err)
			}
			if exists {
				continue
			}
			provider, err := units.GetUnitByCode(ctx, tx, seed.Provider)
			if err != nil {
				return fmt.Errorf("demo service %s: provider %s: %w", seed.Service.Code, seed.Provider, err)
			}
			s := seed.Service
			s.ProviderUnitID = provider.ID
			created, _, err := catalog.CreateService(ctx, tx, 0, s, seed.Fields,
				catalog.Rate{PriceMinor: seed.FirstPriceMinor, Currency: org.Currency, EffectiveFrom: first})
			if err != nil {
				return fmt.Errorf("demo service %s: %w", s.Code, err)
			}
			if seed.CurrentPriceMinor != seed.FirstPriceMinor {
				// A past date is allowed here on purpose: the demo shows a
				// price history that requests already quoted.
				if _, err := catalog.AddRate(ctx, tx, 0, catalog.Rate{ServiceID: created.ID,
					PriceMinor: seed.CurrentPriceMinor, Currency: org.Currency, EffectiveFrom: change}, ""); err != nil {
					return fmt.Errorf("demo service %s: rate change: %w", s.Code, err)
				}
			}
		}
		return nil
	})
}

// organisation fixes the demo's currency and time zone in the database
// unless settings are stored already (then those win) and returns them;
// filing a request needs them.
func organisation(ctx context.Context, d *db.DB) (units.Organisation, error) {
	var org *units.Organisation
	err := d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, Currency, TimeZone)
		return err
	})
	if err != nil {
		return units.Organisation{}, fmt.Errorf("demo organisation settings: %w", err)
	}
	return *org, nil
}
