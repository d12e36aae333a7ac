package web

// moneyMessages are the texts of the charges, budgets, periods, disputes
// and adjustments pages.
var moneyMessages = catalogue{
	"en": {},
	"fi": {},
}
